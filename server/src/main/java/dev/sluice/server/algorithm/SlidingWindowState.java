package dev.sluice.server.algorithm;

import java.util.Arrays;

/**
 * State of a sliding window: per-slot counts in a ring, the index of the newest slot written, the
 * total over the ring, and the slot length the indexes are in (so a state written under other
 * window settings can still be read). The array is never modified after construction.
 */
public final class SlidingWindowState implements BucketState {

    private final long granularityNanos;
    private final long headSlot;
    private final long total;
    private final int[] counts;

    public SlidingWindowState(long granularityNanos, long headSlot, long total, int[] counts) {
        this.granularityNanos = granularityNanos;
        this.headSlot = headSlot;
        this.total = total;
        this.counts = counts;
    }

    public long granularityNanos() {
        return granularityNanos;
    }

    public long headSlot() {
        return headSlot;
    }

    public long total() {
        return total;
    }

    /** Slot counts, indexed by {@code slot mod length}. Callers must not modify the array. */
    public int[] counts() {
        return counts;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SlidingWindowState s
                && s.granularityNanos == granularityNanos && s.headSlot == headSlot && s.total == total && Arrays.equals(s.counts, counts);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(headSlot) * 31 + Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "SlidingWindowState[granularity=" + granularityNanos + ", head=" + headSlot + ", total=" + total + ", counts=" + Arrays.toString(counts) + "]";
    }
}
