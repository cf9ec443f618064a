package dev.sluice.server.store;

import java.util.concurrent.atomic.LongAdder;

/**
 * How many bucket entries (owned and backups) a member may hold, and whether it holds that many
 * now. Set from a count taken every second, read by the owner only when a command would create a
 * bucket: a member at its budget keeps deciding for the buckets it has, at full speed, and answers
 * a request that would create one as the request's domain chooses ({@link NewBucket}). It never
 * evicts a live bucket to make room: an early eviction is a silent reset.
 */
public final class BucketBudget {

    /** No limit. */
    public static final long UNLIMITED = Long.MAX_VALUE;

    private final long maxEntries;
    private volatile long held;
    private volatile boolean full;
    private final LongAdder refused = new LongAdder();
    private final LongAdder denied = new LongAdder();
    private final LongAdder untracked = new LongAdder();

    public BucketBudget(long maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("a bucket budget must be positive, got " + maxEntries);
        }
        this.maxEntries = maxEntries;
    }

    public static BucketBudget unlimited() {
        return new BucketBudget(UNLIMITED);
    }

    public long maxEntries() {
        return maxEntries;
    }

    /** Entries held at the last count. */
    public long held() {
        return held;
    }

    public boolean full() {
        return full;
    }

    /** Records a count of the entries held now. */
    public void held(long entries) {
        this.held = entries;
        this.full = entries >= maxEntries;
    }

    /** Requests for new buckets answered RESOURCE_EXHAUSTED, denied, or allowed untracked, since start. */
    public long refused() {
        return refused.sum();
    }

    public long denied() {
        return denied.sum();
    }

    public long untracked() {
        return untracked.sum();
    }

    void counted(NewBucket choice) {
        switch (choice) {
            case REFUSE -> refused.increment();
            case DENY -> denied.increment();
            case ALLOW -> untracked.increment();
        }
    }
}
