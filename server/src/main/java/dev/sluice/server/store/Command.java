package dev.sluice.server.store;

import dev.sluice.server.algorithm.Algorithm;

/**
 * One decision to make on one bucket, as a batch carries it.
 *
 * @param key         the bucket key
 * @param algorithm   the algorithm with its numbers
 * @param cost        units to spend
 * @param consume     false for a dry run
 * @param countDenied charge the bucket even when denied
 * @param requestId   the request's id (0: none), remembered by the bucket
 * @param whenFull    what to answer when the bucket does not exist and its member holds all the buckets it may
 * @param rememberNanos how long the bucket remembers {@code requestId}, when longer than the member's request memory
 *                    (a limit whose costs are settled after the fact); 0 for the member's
 */
public record Command(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied, long requestId,
                      NewBucket whenFull, long rememberNanos) {

    public Command(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied, long requestId,
                   NewBucket whenFull) {
        this(key, algorithm, cost, consume, countDenied, requestId, whenFull, 0);
    }

    /** A command that is refused when it would create a bucket past the budget. */
    public Command(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied, long requestId) {
        this(key, algorithm, cost, consume, countDenied, requestId, NewBucket.REFUSE);
    }
}
