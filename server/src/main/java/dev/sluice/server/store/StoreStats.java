package dev.sluice.server.store;

import java.util.concurrent.atomic.LongAdder;

/** What a member's store has done in the background, counted for the node's metrics. */
public final class StoreStats {

    private final LongAdder swept = new LongAdder();

    /** Buckets this member's sweeps have removed since start (owned copies; their backups go with them). */
    public long swept() {
        return swept.sum();
    }

    void sweptOne() {
        swept.increment();
    }
}
