package dev.sluice.server.algorithm;

/**
 * State of a token or leaky bucket in the generic cell rate form: the theoretical time at which
 * the bucket is back at rest (full of tokens, or drained), as whole nanoseconds plus a fraction
 * {@code tatFraction / rate} of a nanosecond, so that refill rates that do not divide a second
 * stay exact.
 */
public record GcraState(long tatNanos, long tatFraction) implements BucketState {
}
