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
        if (a instanceof LeaseState x && b instanceof LeaseState y) {
            return leasesOfBoth(x, y);
        }
        // Different algorithms under one key cannot happen (the algorithm is part of the key);
        // different window settings can, across a policy change: keep the larger count.
        if (a instanceof SlidingWindowState x && b instanceof SlidingWindowState y) {
            return x.total() >= y.total() ? x : y;
        }
        return a;
    }

    /** Every lease either side holds, each until the later of its two expiries: a slot held on either side stays held. */
    private static LeaseState leasesOfBoth(LeaseState x, LeaseState y) {
        java.util.LinkedHashMap<Long, long[]> byId = new java.util.LinkedHashMap<>();
        java.util.List<long[]> anonymous = new java.util.ArrayList<>();
        for (LeaseState side : new LeaseState[] {x, y}) {
            for (int i = 0; i < side.leases(); i++) {
                long[] lease = {side.id(i), side.expiry(i), side.slots(i)};
                if (lease[0] == 0) {
                    anonymous.add(lease);
                } else {
                    byId.merge(lease[0], lease, (p, q) -> p[1] >= q[1] ? p : q);
                }
            }
        }
        java.util.List<long[]> all = new java.util.ArrayList<>(byId.values());
        all.addAll(anonymous);
        long[] ids = new long[all.size()];
        long[] expiries = new long[all.size()];
        long[] slots = new long[all.size()];
        for (int i = 0; i < all.size(); i++) {
            ids[i] = all.get(i)[0];
            expiries[i] = all.get(i)[1];
            slots[i] = all.get(i)[2];
        }
        return new LeaseState(ids, expiries, slots);
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
