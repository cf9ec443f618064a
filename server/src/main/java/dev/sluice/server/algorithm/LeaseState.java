package dev.sluice.server.algorithm;

import java.util.Arrays;

/**
 * The slots a concurrency limit's holders hold: one lease each, named by its id (the request's
 * id), with when it runs out on the decision clock and how many slots it holds. Immutable.
 */
public final class LeaseState implements BucketState {

    static final LeaseState EMPTY = new LeaseState(new long[0], new long[0], new long[0]);

    private final long[] ids;
    private final long[] expiries;
    private final long[] slots;

    public LeaseState(long[] ids, long[] expiries, long[] slots) {
        if (ids.length != expiries.length || ids.length != slots.length) {
            throw new IllegalArgumentException("a lease state needs an expiry and a slot count per lease");
        }
        this.ids = ids;
        this.expiries = expiries;
        this.slots = slots;
    }

    public int leases() {
        return ids.length;
    }

    public long id(int i) {
        return ids[i];
    }

    public long expiry(int i) {
        return expiries[i];
    }

    public long slots(int i) {
        return slots[i];
    }

    /** Slots held by leases that have not run out at {@code now}. */
    long heldAt(long now) {
        long held = 0;
        for (int i = 0; i < ids.length; i++) {
            if (expiries[i] > now) {
                held += slots[i];
            }
        }
        return held;
    }

    /** Position of the lease {@code id} that has not run out at {@code now}, or -1; id 0 names no lease. */
    int find(long id, long now) {
        if (id == 0) {
            return -1;
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id && expiries[i] > now) {
                return i;
            }
        }
        return -1;
    }

    /** The leases still running at {@code now}, with lease {@code at} left out when it is not -1. */
    LeaseState live(long now, int without) {
        int keep = 0;
        for (int i = 0; i < ids.length; i++) {
            if (expiries[i] > now && i != without) {
                keep++;
            }
        }
        long[] i2 = new long[keep];
        long[] e2 = new long[keep];
        long[] s2 = new long[keep];
        int j = 0;
        for (int i = 0; i < ids.length; i++) {
            if (expiries[i] > now && i != without) {
                i2[j] = ids[i];
                e2[j] = expiries[i];
                s2[j++] = slots[i];
            }
        }
        return new LeaseState(i2, e2, s2);
    }

    /** These leases with one more. */
    LeaseState plus(long id, long expiry, long count) {
        int n = ids.length;
        long[] i2 = Arrays.copyOf(ids, n + 1);
        long[] e2 = Arrays.copyOf(expiries, n + 1);
        long[] s2 = Arrays.copyOf(slots, n + 1);
        i2[n] = id;
        e2[n] = expiry;
        s2[n] = count;
        return new LeaseState(i2, e2, s2);
    }

    /** These leases with lease {@code at} running until {@code expiry}. */
    LeaseState renewed(int at, long expiry) {
        long[] e2 = expiries.clone();
        e2[at] = Math.max(e2[at], expiry);
        return new LeaseState(ids, e2, slots);
    }

    /** When the last lease runs out: the bucket is at rest from then on. */
    long lastExpiry() {
        long last = Long.MIN_VALUE;
        for (long e : expiries) {
            last = Math.max(last, e);
        }
        return last;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LeaseState s && Arrays.equals(ids, s.ids) && Arrays.equals(expiries, s.expiries) && Arrays.equals(slots, s.slots);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids) * 31 + Arrays.hashCode(expiries);
    }

    @Override
    public String toString() {
        return "leases" + Arrays.toString(ids) + " until " + Arrays.toString(expiries) + " slots " + Arrays.toString(slots);
    }
}
