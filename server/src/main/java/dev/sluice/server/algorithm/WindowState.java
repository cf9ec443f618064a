package dev.sluice.server.algorithm;

/** State of a fixed window: when the current window ends, and the units counted in it. */
public record WindowState(long windowEndNanos, long count) implements BucketState {

    /**
     * {@code cost} units given back to the window that {@code marker} names, while it lasts; {@code null}
     * (nothing to change) when {@code state} is not that window's, the window is over, or nothing is counted.
     */
    static BucketState refunded(BucketState state, long now, long cost, long marker) {
        if (!(state instanceof WindowState w) || w.windowEndNanos() != marker || now >= marker || w.count() == 0) {
            return null;
        }
        return new WindowState(marker, Math.max(0, w.count() - cost));
    }

    /** Time until a window's state is at rest again: the rest of the window it counts in, or 0. */
    static long restAfterNanos(BucketState state, long now) {
        return state instanceof WindowState w && now < w.windowEndNanos() ? w.windowEndNanos() - now : 0;
    }
}
