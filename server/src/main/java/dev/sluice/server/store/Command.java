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
 */
public record Command(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied, long requestId) {
}
