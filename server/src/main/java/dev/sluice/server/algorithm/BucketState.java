package dev.sluice.server.algorithm;

/**
 * What a bucket remembers between decisions. Immutable; an algorithm returns a new state when a
 * decision changes it. A bucket with no state is at rest (full, or with an empty window).
 */
public sealed interface BucketState permits GcraState, WindowState, SlidingWindowState, TrickleState, LeaseState {
}
