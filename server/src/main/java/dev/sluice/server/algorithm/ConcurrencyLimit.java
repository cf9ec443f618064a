package dev.sluice.server.algorithm;

import java.time.Duration;
import java.util.Arrays;

/**
 * At most {@code limit} slots held at once: requests in flight, not requests over time. A
 * request that fits takes {@code cost} slots under a lease named by its id, which it gives back
 * when done ({@link #refund} with the id as the marker) or which runs out by itself {@code lease}
 * after it was taken or last renewed, on the decision clock: a holder that crashed leaks its slots
 * for no longer than the lease. A request whose lease is already held is answered as allowed
 * without taking more, so a retried request holds its slots once.
 */
public final class ConcurrencyLimit implements Algorithm {

    /** Most slots a limit may have: its state lists every lease, and each decision copies the list. */
    public static final long MAX_SLOTS = 10_000;

    private final long limit;
    private final long leaseNanos;

    public ConcurrencyLimit(long limit, Duration lease) {
        if (limit < 1 || limit > MAX_SLOTS) {
            throw new IllegalArgumentException("a concurrency limit has 1 to " + MAX_SLOTS + " slots, got " + limit);
        }
        if (lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("a concurrency limit's lease must be positive, e.g. lease: 30s");
        }
        this.limit = limit;
        this.leaseNanos = lease.toNanos();
    }

    @Override
    public long limit() {
        return limit;
    }

    /** The lease: how long a slot is held unless given back or renewed. */
    @Override
    public long windowNanos() {
        return leaseNanos;
    }

    public long leaseNanos() {
        return leaseNanos;
    }

    @Override
    public Outcome acquire(BucketState state, long now, long cost, boolean consume, boolean countDenied) {
        return acquire(state, now, cost, consume, countDenied, 0);
    }

    @Override
    public Outcome acquire(BucketState state, long now, long cost, boolean consume, boolean countDenied, long id) {
        LeaseState leases = state instanceof LeaseState l ? l : LeaseState.EMPTY;
        long held = leases.heldAt(now);
        if (leases.find(id, now) >= 0) {
            // Already holds its lease: a retry, answered as the first was, taking nothing more.
            return new Outcome(true, Math.max(0, limit - held), restAfterNanos(leases, now), 0, null, id);
        }
        if (held + cost <= limit) {
            if (!consume) {
                return new Outcome(true, limit - held - cost, restAfterNanos(leases, now), 0, null, id);
            }
            LeaseState next = leases.live(now, -1).plus(id, now + leaseNanos, cost);
            return new Outcome(true, limit - held - cost, restAfterNanos(next, now), 0, next, id);
        }
        return new Outcome(false, Math.max(0, limit - held), restAfterNanos(leases, now), untilFree(leases, now, cost, held), null, id);
    }

    /** Time until enough leases run out for {@code cost} more slots, if none is given back before. */
    private long untilFree(LeaseState leases, long now, long cost, long held) {
        int n = leases.leases();
        long[][] byExpiry = new long[n][];
        for (int i = 0; i < n; i++) {
            byExpiry[i] = new long[] {leases.expiry(i), leases.slots(i)};
        }
        Arrays.sort(byExpiry, (a, b) -> Long.compare(a[0], b[0]));
        long left = held;
        for (long[] lease : byExpiry) {
            if (lease[0] <= now) {
                continue;
            }
            left -= lease[1];
            if (left + cost <= limit) {
                return lease[0] - now;
            }
        }
        return leaseNanos;
    }

    /** Gives back the lease {@code marker} names (the request's id); {@code null} when it is not held. */
    /** Not leasable. */
    @Override
    public long leaseHorizonNanos(long resetAfterNanos) {
        return 0;
    }

    @Override
    public BucketState refund(BucketState state, long now, long cost, long marker) {
        if (!(state instanceof LeaseState leases)) {
            return null;
        }
        int at = leases.find(marker, now);
        return at < 0 ? null : leases.live(now, at);
    }

    /** The lease {@code id} running until a whole lease from {@code now}; {@code null} when it is not held (given back, or run out). */
    public BucketState renew(BucketState state, long now, long id) {
        if (!(state instanceof LeaseState leases)) {
            return null;
        }
        int at = leases.find(id, now);
        return at < 0 ? null : leases.renewed(at, now + leaseNanos);
    }

    @Override
    public long restAfterNanos(BucketState state, long now) {
        if (!(state instanceof LeaseState leases) || leases.leases() == 0) {
            return 0;
        }
        return Math.max(0, leases.lastExpiry() - now);
    }

    @Override
    public String toString() {
        return "concurrency(limit=" + limit + ", lease=" + Duration.ofNanos(leaseNanos) + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConcurrencyLimit c && c.limit == limit && c.leaseNanos == leaseNanos;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(limit) * 31 + Long.hashCode(leaseNanos);
    }
}
