package dev.sluice.server.store;

import java.util.concurrent.atomic.LongAdder;

/** What a member's store has done in the background, counted for the node's metrics. */
public final class StoreStats {

    private final LongAdder swept = new LongAdder();
    private final LongAdder ownedCalls = new LongAdder();
    private final LongAdder remoteCalls = new LongAdder();

    /** Buckets this member's sweeps have removed since start (owned copies; their backups go with them). */
    public long swept() {
        return swept.sum();
    }

    void sweptOne() {
        swept.increment();
    }

    /**
     * Bucket calls of decisions this member started since start, on partitions it owns
     * ({@code owned}) or sent to another member. A client routing by partition makes nearly all
     * of them owned.
     */
    public long decisionCalls(boolean owned) {
        return (owned ? ownedCalls : remoteCalls).sum();
    }

    void called(boolean owned) {
        (owned ? ownedCalls : remoteCalls).increment();
    }
}
