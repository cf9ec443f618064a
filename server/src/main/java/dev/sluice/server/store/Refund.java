package dev.sluice.server.store;

import dev.sluice.server.algorithm.Algorithm;

/**
 * Units to give back to a bucket, taken by an earlier command that a request's other limit made
 * pointless.
 *
 * @param key       the bucket key
 * @param algorithm the algorithm the command was applied with
 * @param cost      units to give back
 * @param marker    the marker of the outcome that took them (where they landed)
 * @param requestId the request's id (0: none); with one, the units are given back at most once
 */
public record Refund(String key, Algorithm algorithm, long cost, long marker, long requestId) {
}
