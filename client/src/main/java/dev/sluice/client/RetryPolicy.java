package dev.sluice.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How a call that failed for a reason worth retrying (a node unreachable, overloaded or leaving:
 * gRPC {@code UNAVAILABLE}) is tried again: up to {@code maxAttempts} attempts in all, waiting a
 * random time between zero and an exponentially growing backoff before each retry ("full
 * jitter"), and never past the call's deadline. Every attempt carries the same request id, so a
 * request that was applied before its answer was lost is not counted twice. Immutable.
 *
 * @param maxAttempts    attempts in all, at least 1 (1: no retries)
 * @param initialBackoff the backoff before the first retry
 * @param maxBackoff     the largest backoff
 * @param multiplier     how the backoff grows from one retry to the next, at least 1
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double multiplier) {

    /** Three attempts, backoff from 2 ms doubling to at most 20 ms: retries fit a deadline in the tens of milliseconds. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(3, Duration.ofMillis(2), Duration.ofMillis(20), 2.0);

    /** One attempt only. */
    public static final RetryPolicy NONE = new RetryPolicy(1, Duration.ZERO, Duration.ZERO, 1.0);

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
        }
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        if (initialBackoff.isNegative() || maxBackoff.isNegative()) {
            throw new IllegalArgumentException("backoffs must not be negative");
        }
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff " + maxBackoff + " is below initialBackoff " + initialBackoff);
        }
        if (!(multiplier >= 1.0)) {
            throw new IllegalArgumentException("multiplier must be at least 1, got " + multiplier);
        }
    }

    /** The largest wait before retry number {@code retry} (1 for the first retry), in nanoseconds. */
    long backoffCeilingNanos(int retry) {
        double nanos = initialBackoff.toNanos() * Math.pow(multiplier, Math.max(0, retry - 1));
        return (long) Math.min(nanos, maxBackoff.toNanos());
    }
}
