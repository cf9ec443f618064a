package dev.sluice.server.algorithm;

import java.time.Duration;
import java.util.Objects;

/**
 * A fixed window's quota that, once spent, still admits a trickle until the window ends: up to
 * {@code limit} units per window as {@link FixedWindow} counts them, and once they are all spent,
 * {@code trickle} units every {@code tricklePeriod} (a bucket of that size, refilled at that rate,
 * empty at the moment the quota runs out) until the next window begins and the quota is whole
 * again. ("You have 360 requests per minute; once they are spent, 1 request per second until the
 * minute is over.") A window never admits more than its limit plus what the trickle refills after
 * the quota ran out.
 *
 * <p>What it reports: the window's limit and length; as remaining, the quota left (for a request
 * the trickle admitted, what the trickle has left); a reset at the window's end, when the whole
 * quota is back; and a retry-after of the sooner of the trickle's next unit and the window's end.
 * Only an exhausted quota trickles: a cost larger than what is left of it waits for the next window.
 */
public final class TrickleWindow implements Algorithm {

    private final FixedWindow window;
    private final TokenBucket trickle;

    /**
     * @param window        the quota and its windows (epoch-aligned or calendar)
     * @param trickle       units the trickle admits per {@code tricklePeriod}, at most the window's limit
     * @param tricklePeriod the trickle's period
     */
    public TrickleWindow(FixedWindow window, long trickle, Duration tricklePeriod) {
        this.window = Objects.requireNonNull(window, "window");
        if (trickle <= 0 || trickle > window.limit()) {
            throw new IllegalArgumentException("trickle must be between 1 and the window's limit " + window.limit() + ", got " + trickle);
        }
        // Empty when created: a trickle starts from nothing at the moment the quota is spent.
        this.trickle = new TokenBucket(trickle, trickle, tricklePeriod, 0);
    }

    public FixedWindow window() {
        return window;
    }

    /** Units the trickle admits per {@link #tricklePeriodNanos()}. */
    public long trickleAmount() {
        return trickle.capacity();
    }

    public long tricklePeriodNanos() {
        return trickle.refillPeriodNanos();
    }

    @Override
    public long limit() {
        return window.limit();
    }

    @Override
    public long windowNanos() {
        return window.windowNanos();
    }

    @Override
    public Outcome acquire(BucketState state, long now, long cost, boolean consume, boolean countDenied) {
        Costs.check(cost, window.limit());
        WindowState w = null;
        GcraState t = null;
        if (state instanceof TrickleState s && now < s.windowEndNanos()) {
            w = s.window();
            t = s.trickle();
        } else if (state instanceof WindowState plain) {
            // A plain window's count (the policy gained a trickle): the quota spent so far stays spent.
            w = plain;
        }
        Outcome quota = window.acquire(w, now, cost, consume, false);
        long end = quota.marker();
        if (quota.allowed()) {
            // The request that spends the last of the quota starts the trickle, empty.
            GcraState trickleNext = quota.remaining() == 0 ? emptyAt(now) : t;
            BucketState next = consume ? TrickleState.of((WindowState) quota.next(), trickleNext) : null;
            return new Outcome(true, quota.remaining(), end - now, 0, next, end);
        }
        // Denied by the quota, so the window is the current one and w holds its count.
        long untilEnd = end - now;
        long retry = untilEnd;
        if (quota.remaining() == 0 && cost <= trickle.capacity()) {
            Outcome dribble = trickle.acquire(t, now, cost, consume, false);
            if (dribble.allowed()) {
                BucketState next = consume ? TrickleState.of(w, dribble.next()) : null;
                return new Outcome(true, dribble.remaining(), untilEnd, 0, next, trickleMarker(end));
            }
            retry = Math.min(untilEnd, dribble.retryAfterNanos());
        }
        BucketState next = null;
        if (consume && countDenied) {
            long counted = w.count() + cost;
            next = TrickleState.of(new WindowState(end, counted < 0 ? Long.MAX_VALUE : counted), t == null ? emptyAt(now) : t);
        }
        return new Outcome(false, quota.remaining(), untilEnd, retry, next, end);
    }

    /** A trickle with nothing in it at {@code now}. */
    private GcraState emptyAt(long now) {
        // Charging a denied unit to a bucket created empty leaves it exactly empty, at now.
        return (GcraState) trickle.acquire(null, now, 1, true, true).next();
    }

    /** Where units the trickle admitted landed: one before the window's end, which marks the quota's. */
    private static long trickleMarker(long end) {
        return end - 1;
    }

    /** The window's units, only until it ends: the allowing outcome's reset is the window's end. */
    @Override
    public long leaseHorizonNanos(long resetAfterNanos) {
        return resetAfterNanos;
    }

    @Override
    public BucketState refund(BucketState state, long now, long cost, long marker) {
        if (!(state instanceof TrickleState s) || now >= s.windowEndNanos()) {
            return null;
        }
        if (marker == s.windowEndNanos()) {
            BucketState w = window.refund(s.window(), now, cost, marker);
            return w == null ? null : TrickleState.of((WindowState) w, s.trickle());
        }
        if (marker == trickleMarker(s.windowEndNanos())) {
            BucketState t = trickle.refund(s.trickle(), now, cost, 0);
            return t == null ? null : TrickleState.of(s.window(), t);
        }
        return null;
    }

    /**
     * Counts {@code units} more against the quota of the window of {@code now}, up to its limit (a
     * trickle window never goes into debt); a charge that spends the last of the quota starts the
     * trickle, empty, as a request that does so would.
     */
    @Override
    public BucketState charge(BucketState state, long now, long units, long marker) {
        WindowState w = null;
        GcraState t = null;
        if (state instanceof TrickleState s && now < s.windowEndNanos()) {
            w = s.window();
            t = s.trickle();
        } else if (state instanceof WindowState plain) {
            w = plain;
        }
        BucketState quota = window.charge(w, now, units, marker);
        if (quota == null) {
            return null;
        }
        WindowState q = (WindowState) quota;
        boolean spentNow = q.count() >= window.limit() && (w == null || now >= w.windowEndNanos() || w.count() < window.limit());
        return TrickleState.of(q, spentNow ? emptyAt(now) : t);
    }

    /** At rest when the window ends: the quota is whole again and the trickle starts afresh. */
    @Override
    public long restAfterNanos(BucketState state, long now) {
        if (state instanceof TrickleState s && now < s.windowEndNanos()) {
            return s.windowEndNanos() - now;
        }
        return window.restAfterNanos(state, now);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrickleWindow w && w.window.equals(window) && w.trickle.equals(trickle);
    }

    @Override
    public int hashCode() {
        return Objects.hash(window, trickle);
    }

    @Override
    public String toString() {
        return window + " then trickle(" + trickle.capacity() + " per " + Duration.ofNanos(trickle.refillPeriodNanos()) + ")";
    }
}
