package dev.sluice.server.algorithm;

/**
 * The answer of one algorithm for one bucket at one instant.
 *
 * @param allowed         whether the cost fits
 * @param remaining       units left after this decision
 * @param resetAfterNanos time until the bucket is back at rest, from the state after the decision
 * @param retryAfterNanos time until this cost would fit; zero when allowed
 * @param next            the state to store, or {@code null} when the decision changed nothing
 * @param marker          where the consumption landed (a window's end, a slot), for {@link Algorithm#refund}
 */
public record Outcome(boolean allowed, long remaining, long resetAfterNanos, long retryAfterNanos,
                      BucketState next, long marker) {
}
