package dev.sluice.server.algorithm;

/**
 * Joins two states of one bucket that diverged while the cluster was split: the result has
 * consumed at least as much as either side, so a healed cluster never hands out an allowance
 * that one side had already spent. (What both sides spent separately while split is the
 * over-admission a split allows; it cannot be recovered here.)
 */
public final class StateMerge {

    private StateMerge() {
    }

    /** The more consumed of {@code a} and {@code b}; for sliding windows, slot by slot. */
    public static BucketState moreConsumed(BucketState a, BucketState b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a instanceof GcraState x && b instanceof GcraState y) {
            // The bucket that is back at rest later has fewer tokens now, whatever the time.
            if (x.tatNanos() != y.tatNanos()) {
                return x.tatNanos() > y.tatNanos() ? x : y;
            }
            return x.tatFraction() >= y.tatFraction() ? x : y;
        }
        if (a instanceof WindowState x && b instanceof WindowState y) {
            if (x.windowEndNanos() != y.windowEndNanos()) {
                return x.windowEndNanos() > y.windowEndNanos() ? x : y;
            }
            return x.count() >= y.count() ? x : y;
        }
        if (a instanceof TrickleState x && b instanceof TrickleState y) {
            if (x.windowEndNanos() != y.windowEndNanos()) {
                return x.windowEndNanos() > y.windowEndNanos() ? x : y;
            }
            // Within one window: the larger count, and the trickle further from rest.
            GcraState trickle = (GcraState) moreConsumed(x.trickle(), y.trickle());
            return TrickleState.of(new WindowState(x.windowEndNanos(), Math.max(x.count(), y.count())), trickle);
        }
        if (a instanceof SlidingWindowState x && b instanceof SlidingWindowState y
                && x.granularityNanos() == y.granularityNanos() && x.counts().length == y.counts().length) {
            return slotwiseMax(x, y);
        }
        // Different algorithms under one key cannot happen (the algorithm is part of the key);
        // different window settings can, across a policy change: keep the larger count.
        if (a instanceof SlidingWindowState x && b instanceof SlidingWindowState y) {
            return x.total() >= y.total() ? x : y;
        }
        return a;
    }

    private static SlidingWindowState slotwiseMax(SlidingWindowState x, SlidingWindowState y) {
        int slots = x.counts().length;
        long head = Math.max(x.headSlot(), y.headSlot());
        int[] counts = new int[slots];
        long total = 0;
        for (long j = head - slots + 1; j <= head; j++) {
            int i = (int) Math.floorMod(j, (long) slots);
            int cx = j <= x.headSlot() && j > x.headSlot() - slots ? x.counts()[i] : 0;
            int cy = j <= y.headSlot() && j > y.headSlot() - slots ? y.counts()[i] : 0;
            counts[i] = Math.max(cx, cy);
            total += counts[i];
        }
        return new SlidingWindowState(x.granularityNanos(), head, total, counts);
    }
}
