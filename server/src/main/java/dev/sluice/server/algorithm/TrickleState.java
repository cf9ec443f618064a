package dev.sluice.server.algorithm;

/**
 * State of a window with a trickle: when the current window ends, the units counted against its
 * quota, and the trickle's bucket in the generic cell rate form (the time it is back at rest);
 * a trickle at rest has {@code trickleTatNanos} 0.
 */
public record TrickleState(long windowEndNanos, long count, long trickleTatNanos, long trickleTatFraction) implements BucketState {

    WindowState window() {
        return new WindowState(windowEndNanos, count);
    }

    GcraState trickle() {
        return trickleTatNanos == 0 && trickleTatFraction == 0 ? null : new GcraState(trickleTatNanos, trickleTatFraction);
    }

    static TrickleState of(WindowState window, BucketState trickle) {
        GcraState t = (GcraState) trickle;
        return new TrickleState(window.windowEndNanos(), window.count(), t == null ? 0 : t.tatNanos(), t == null ? 0 : t.tatFraction());
    }
}
