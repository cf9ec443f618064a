package dev.sluice.server.engine;

import dev.sluice.server.store.Buckets;
import dev.sluice.server.store.MemoryBuckets;
import dev.sluice.server.store.StoreContext;
import dev.sluice.server.time.ManualClock;

import java.time.Duration;

/** The engine's contract over the in-memory store: no member, no network. */
class MemoryEngineContractTest extends EngineContract {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static final MemoryBuckets BUCKETS = new MemoryBuckets(new StoreContext(CLOCK, Duration.ofMinutes(10), Duration.ofSeconds(10)));

    @Override
    protected Buckets buckets() {
        return BUCKETS;
    }
}
