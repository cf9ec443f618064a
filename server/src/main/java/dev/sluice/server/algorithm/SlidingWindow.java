package dev.sluice.server.algorithm;

import java.time.Duration;
import java.util.Objects;

/**
 * A sliding window that never resets: at most {@code limit} units within any {@code window},
 * counted in slots of {@code granularity}. A unit is counted in the slot of the instant it was
 * admitted and stops counting when the whole of that slot is more than one window in the past:
 * between {@code window} and {@code window + granularity} after it was admitted. So the window
 * never admits more than an exact sliding log would, and gives capacity back at most one
 * granularity late. It keeps one slot more than the window holds: the slot partly inside it.
 */
public final class SlidingWindow implements Algorithm {

    /** Upper bound on slots per window, which bounds state size. */
    public static final int MAX_SLOTS = 3600;

    private final long limit;
    private final long windowNanos;
    private final long granularityNanos;
    /** Slots kept: the window's, and the one it partly covers at its far end. */
    private final int ring;
    /** Whether a charge after the fact may count past the limit (the excess leaves with its slot, a window later). */
    private final boolean overdraft;

    public SlidingWindow(long limit, Duration window, Duration granularity) {
        this(limit, window, granularity, false);
    }

    private SlidingWindow(long limit, Duration window, Duration granularity, boolean overdraft) {
        if (limit <= 0 || limit > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sliding window limit must be between 1 and " + Integer.MAX_VALUE + ", got " + limit);
        }
        long w = window.toNanos();
        long g = granularity.toNanos();
        if (w <= 0 || g <= 0) {
            throw new IllegalArgumentException("sliding window and granularity must be positive");
        }
        if (w % g != 0) {
            throw new IllegalArgumentException("sliding window " + window + " is not a whole number of granularity " + granularity);
        }
        if (w / g > MAX_SLOTS) {
            throw new IllegalArgumentException("sliding window " + window + " at granularity " + granularity + " needs "
                    + (w / g) + " slots, at most " + MAX_SLOTS + " allowed; choose a coarser granularity");
        }
        this.limit = limit;
        this.windowNanos = w;
        this.granularityNanos = g;
        this.ring = (int) (w / g) + 1;
        this.overdraft = overdraft;
    }

    /**
     * This window, but a charge after the fact may count past the limit. The excess is counted in
     * the slot of the charge, as every unit is, so it keeps the window full until that slot leaves
     * it, one window later: a debt larger than the limit is not carried further.
     */
    @Override
    public SlidingWindow overdrawn() {
        return new SlidingWindow(limit, Duration.ofNanos(windowNanos), Duration.ofNanos(granularityNanos), true);
    }

    @Override
    public boolean overdraft() {
        return overdraft;
    }

    @Override
    public long limit() {
        return limit;
    }

    @Override
    public long windowNanos() {
        return windowNanos;
    }

    public long granularityNanos() {
        return granularityNanos;
    }

    @Override
    public Outcome acquire(BucketState state, long now, long cost, boolean consume, boolean countDenied) {
        Costs.check(cost, limit);
        View v = view(state, now);
        int at = index(v.slot);
        if (v.total + cost <= limit) {
            BucketState next = null;
            long reset;
            if (consume) {
                v.counts[at] += (int) cost;
                next = new SlidingWindowState(granularityNanos, v.slot, v.total + cost, v.counts);
                reset = untilAllExpire(v.counts, v.slot, now);
            } else {
                reset = Math.max(untilAllExpire(v.counts, v.slot, now), expiryOf(v.slot) - now);
            }
            return new Outcome(true, limit - v.total - cost, reset, 0, next, v.slot);
        }
        long retry = retryAfter(v, cost, now);
        BucketState next = null;
        long total = v.total;
        if (consume && countDenied) {
            v.counts[at] = (int) Math.min(Integer.MAX_VALUE, v.counts[at] + cost);
            total = Math.min(Integer.MAX_VALUE, total + cost);
            next = new SlidingWindowState(granularityNanos, v.slot, total, v.counts);
            retry = retryAfter(new View(v.slot, total, v.counts), cost, now);
        }
        return new Outcome(false, Math.max(0, limit - total), untilAllExpire(v.counts, v.slot, now), retry, next, v.slot);
    }

    /** Not leasable. */
    @Override
    public long leaseHorizonNanos(long resetAfterNanos) {
        return 0;
    }

    @Override
    public BucketState refund(BucketState state, long now, long cost, long marker) {
        if (state == null) {
            return null;
        }
        View v = view(state, now);
        if (marker <= v.slot - ring || marker > v.slot) {
            return null;
        }
        int at = index(marker);
        int back = (int) Math.min(cost, v.counts[at]);
        if (back == 0) {
            return null;
        }
        v.counts[at] -= back;
        return new SlidingWindowState(granularityNanos, v.slot, v.total - back, v.counts);
    }

    /** Counts {@code units} more in the slot of {@code now}: up to the limit, or past it with {@link #overdraft()}. */
    @Override
    public BucketState charge(BucketState state, long now, long units, long marker) {
        View v = view(state, now);
        long room = overdraft ? Integer.MAX_VALUE : Math.max(0, limit - v.total);
        int at = index(v.slot);
        int added = (int) Math.min(Math.min(units, room), (long) Integer.MAX_VALUE - v.counts[at]);
        if (added <= 0) {
            return null;
        }
        v.counts[at] += added;
        return new SlidingWindowState(granularityNanos, v.slot, v.total + added, v.counts);
    }

    @Override
    public long balance(BucketState state, long now) {
        return limit - view(state, now).total;
    }

    @Override
    public long restAfterNanos(BucketState state, long now) {
        if (state == null) {
            return 0;
        }
        View v = view(state, now);
        return untilAllExpire(v.counts, v.slot, now);
    }

    /** The state moved forward to the slot of {@code now}, in a fresh array the caller may modify. */
    private View view(BucketState state, long now) {
        long slot = Math.floorDiv(now, granularityNanos);
        if (state == null) {
            return new View(slot, 0, new int[ring]);
        }
        SlidingWindowState s = (SlidingWindowState) state;
        if (s.granularityNanos() != granularityNanos || s.counts().length != ring) {
            return rescaled(s, slot);
        }
        // A clock that stepped back stays in the newest slot written: nothing expires early.
        slot = Math.max(slot, s.headSlot());
        int[] counts = s.counts().clone();
        long total = s.total();
        long gap = slot - s.headSlot();
        if (gap >= ring) {
            java.util.Arrays.fill(counts, 0);
            total = 0;
        } else {
            for (long j = s.headSlot() + 1; j <= slot; j++) {
                int i = index(j);
                total -= counts[i];
                counts[i] = 0;
            }
        }
        return new View(slot, total, counts);
    }

    /**
     * A state written under other window settings (the policy changed): every unit still
     * counted is kept, as if taken at the end of the newest old slot, so nothing expires early.
     */
    private View rescaled(SlidingWindowState s, long slot) {
        long oldHeadEnd = (s.headSlot() + 1) * s.granularityNanos() - 1;
        long head = Math.floorDiv(oldHeadEnd, granularityNanos);
        int[] counts = new int[ring];
        long total = s.total();
        if (slot - head >= ring) {
            total = 0;
        }
        slot = Math.max(slot, head);
        counts[index(head)] = (int) Math.min(Integer.MAX_VALUE, total);
        return new View(slot, total, counts);
    }

    private long retryAfter(View v, long cost, long now) {
        long freed = 0;
        for (long j = v.slot - ring + 1; j <= v.slot; j++) {
            freed += v.counts[index(j)];
            if (v.total - freed + cost <= limit) {
                return expiryOf(j) - now;
            }
        }
        return expiryOf(v.slot) - now;
    }

    /** Time until every unit counted now has expired: walks the ring back from the newest slot without dividing. */
    private long untilAllExpire(int[] counts, long slot, long now) {
        int i = index(slot);
        for (long j = slot; j > slot - ring; j--) {
            if (counts[i] > 0) {
                return expiryOf(j) - now;
            }
            i = i == 0 ? ring - 1 : i - 1;
        }
        return 0;
    }

    /** The instant at which units counted in {@code slot} stop counting: one window after the slot's end. */
    private long expiryOf(long slot) {
        return (slot + ring) * granularityNanos;
    }

    private int index(long slot) {
        return (int) Math.floorMod(slot, (long) ring);
    }

    private record View(long slot, long total, int[] counts) {
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SlidingWindow s && s.limit == limit && s.windowNanos == windowNanos
                && s.granularityNanos == granularityNanos && s.overdraft == overdraft;
    }

    @Override
    public int hashCode() {
        return Objects.hash(limit, windowNanos, granularityNanos);
    }

    @Override
    public String toString() {
        return "sliding_window(limit=" + limit + ", window=" + Duration.ofNanos(windowNanos)
                + ", granularity=" + Duration.ofNanos(granularityNanos) + (overdraft ? ", overdraft" : "") + ")";
    }
}
