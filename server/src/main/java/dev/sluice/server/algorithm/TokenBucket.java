package dev.sluice.server.algorithm;

import java.time.Duration;

/**
 * A token bucket: holds up to {@code capacity} tokens, gains {@code refillAmount} tokens every
 * {@code refillPeriod} continuously (a third of the amount after a third of the period), and
 * starts with {@code initialTokens}. A request of cost {@code n} takes {@code n} tokens.
 */
public final class TokenBucket extends GcraAlgorithm {

    private final long refillAmount;
    private final long refillPeriodNanos;
    private final long initialTokens;

    public TokenBucket(long capacity, long refillAmount, Duration refillPeriod, long initialTokens) {
        this(capacity, refillAmount, refillPeriod, initialTokens, false);
    }

    private TokenBucket(long capacity, long refillAmount, Duration refillPeriod, long initialTokens, boolean overdraft) {
        super("token bucket", capacity, refillAmount, refillPeriod.toNanos(), initialTokens, overdraft);
        this.refillAmount = refillAmount;
        this.refillPeriodNanos = refillPeriod.toNanos();
        this.initialTokens = initialTokens;
    }

    /** A bucket that starts full. */
    public TokenBucket(long capacity, long refillAmount, Duration refillPeriod) {
        this(capacity, refillAmount, refillPeriod, capacity);
    }

    /** This bucket, but a charge after the fact may take it into debt. */
    @Override
    public TokenBucket overdrawn() {
        return new TokenBucket(capacity, refillAmount, Duration.ofNanos(refillPeriodNanos), initialTokens, true);
    }

    public long capacity() {
        return capacity;
    }

    public long refillAmount() {
        return refillAmount;
    }

    public long refillPeriodNanos() {
        return refillPeriodNanos;
    }

    public long initialTokens() {
        return initialTokens;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenBucket t && t.capacity == capacity && t.refillAmount == refillAmount
                && t.refillPeriodNanos == refillPeriodNanos && t.initialTokens == initialTokens && t.overdraft == overdraft;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(capacity) * 31 + Long.hashCode(refillAmount) * 17 + Long.hashCode(refillPeriodNanos);
    }

    @Override
    public String toString() {
        return "token_bucket(capacity=" + capacity + ", refill=" + refillAmount + "/" + Duration.ofNanos(refillPeriodNanos)
                + ", initial=" + initialTokens + (overdraft ? ", overdraft" : "") + ")";
    }
}
