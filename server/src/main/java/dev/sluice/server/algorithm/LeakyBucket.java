package dev.sluice.server.algorithm;

import java.time.Duration;

/**
 * A leaky bucket used as a meter: each request pours its cost into a bucket of
 * {@code capacity}, which drains steadily at {@code leakAmount} per {@code leakPeriod}; a request
 * that would overflow is denied. A burst up to the capacity passes, then the leak rate.
 * Remaining is the free room in the bucket; reset is when it has drained completely.
 */
public final class LeakyBucket extends GcraAlgorithm {

    private final long leakAmount;
    private final long leakPeriodNanos;

    public LeakyBucket(long capacity, long leakAmount, Duration leakPeriod) {
        this(capacity, leakAmount, leakPeriod, false);
    }

    private LeakyBucket(long capacity, long leakAmount, Duration leakPeriod, boolean overdraft) {
        super("leaky bucket", capacity, leakAmount, leakPeriod.toNanos(), capacity, overdraft);
        this.leakAmount = leakAmount;
        this.leakPeriodNanos = leakPeriod.toNanos();
    }

    /** This bucket, but a charge after the fact may take it into debt. */
    @Override
    public LeakyBucket overdrawn() {
        return new LeakyBucket(capacity, leakAmount, Duration.ofNanos(leakPeriodNanos), true);
    }

    public long capacity() {
        return capacity;
    }

    public long leakAmount() {
        return leakAmount;
    }

    public long leakPeriodNanos() {
        return leakPeriodNanos;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LeakyBucket l && l.capacity == capacity && l.leakAmount == leakAmount
                && l.leakPeriodNanos == leakPeriodNanos && l.overdraft == overdraft;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(capacity) * 31 + Long.hashCode(leakAmount) * 17 + Long.hashCode(leakPeriodNanos);
    }

    @Override
    public String toString() {
        return "leaky_bucket(capacity=" + capacity + ", leak=" + leakAmount + "/" + Duration.ofNanos(leakPeriodNanos) + (overdraft ? ", overdraft" : "") + ")";
    }
}
