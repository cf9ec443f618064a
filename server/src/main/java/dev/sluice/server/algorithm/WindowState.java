package dev.sluice.server.algorithm;

/** State of a fixed window: when the current window ends, and the units counted in it. */
public record WindowState(long windowEndNanos, long count) implements BucketState {
}
