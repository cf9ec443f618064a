package dev.sluice.server.algorithm;

/**
 * A rate-limiting algorithm: pure, integer arithmetic, driven by the time it is given.
 *
 * <p>Every algorithm answers the same questions for a cost at an instant: is it allowed, what
 * remains, when is the bucket back at rest, and how long until this cost would fit. Instances
 * are immutable values; their state lives outside them in {@link BucketState}.
 */
public interface Algorithm {

    /** The most units this algorithm ever allows at once: a capacity or a window's limit. */
    long limit();

    /** The period the limit is expressed over, in nanoseconds (reported to callers). */
    long windowNanos();

    /**
     * Decides whether {@code cost} units fit at {@code now}.
     *
     * @param state        the bucket's state, or {@code null} for a bucket at rest
     * @param now          nanoseconds since the epoch, read once by the caller
     * @param cost         units to spend, from 1 to {@link #limit()}
     * @param consume      whether to take the units when they fit (false: answer only)
     * @param countDenied  whether a denied cost is charged anyway
     */
    Outcome acquire(BucketState state, long now, long cost, boolean consume, boolean countDenied);

    /**
     * {@link #acquire(BucketState, long, long, boolean, boolean)} for the request {@code id} (0:
     * none). Only an algorithm that holds something per request (a {@link ConcurrencyLimit}'s
     * leases) tells requests apart; the others decide as without it.
     */
    default Outcome acquire(BucketState state, long now, long cost, boolean consume, boolean countDenied, long id) {
        return acquire(state, now, cost, consume, countDenied);
    }

    /**
     * Gives back {@code cost} units taken by an earlier decision whose outcome carried
     * {@code marker}. Returns the new state, or {@code null} to leave the state as it is (the
     * units have already expired, or there is nothing to give back).
     */
    BucketState refund(BucketState state, long now, long cost, long marker);

    /**
     * Takes {@code units} more at {@code now} for a decision already made (a cost settled after
     * the fact, larger than its estimate; {@code marker} is the estimate's outcome's). Takes at most
     * what is left, emptying the bucket, unless the algorithm allows {@link #overdraft()}: then all
     * of them, leaving a debt later requests wait out. Returns the new state, or {@code null} when
     * nothing changes (the bucket is already empty, or the algorithm holds no units).
     */
    default BucketState charge(BucketState state, long now, long units, long marker) {
        return null;
    }

    /**
     * Whole units that could be spent at {@code now}; below zero, the units a bucket in debt owes.
     * Comparing it before and after a change at one instant tells how many units the change took.
     */
    default long balance(BucketState state, long now) {
        Outcome one = acquire(state, now, 1, false, false);
        return one.allowed() ? one.remaining() + 1 : 0;
    }

    /** Whether a charge after the fact may take this algorithm's buckets into debt ({@link #charge}). */
    default boolean overdraft() {
        return false;
    }

    /** This algorithm with {@link #overdraft()}; refused by algorithms that cannot owe units. */
    default Algorithm overdrawn() {
        throw new IllegalArgumentException(this + " cannot go into debt");
    }

    /**
     * How long units taken now may be spent later, by a client deciding from a lease of them,
     * without ever admitting more than this algorithm would: {@code resetAfterNanos} is what the
     * allowing outcome reported. Unbounded for buckets (a unit taken is spent, whenever it is
     * used); a window's units only until the window ends; 0 for an algorithm whose units cannot
     * be leased (a sliding window, whose units leave one by one; a concurrency limit's slots).
     */
    default long leaseHorizonNanos(long resetAfterNanos) {
        return Long.MAX_VALUE;
    }

    /** Time from {@code now} until a bucket in {@code state} is back at rest; 0 if it is. */
    long restAfterNanos(BucketState state, long now);
}
