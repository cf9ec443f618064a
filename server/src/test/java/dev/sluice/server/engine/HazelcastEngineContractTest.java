package dev.sluice.server.engine;

import dev.sluice.server.store.Buckets;
import dev.sluice.server.testing.TwoMembers;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/**
 * The engine's contract over Hazelcast: two members over TCP, so that about half the buckets live
 * on the other member, through the store's internal path and through Hazelcast's public API alone.
 */
class HazelcastEngineContractTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static TwoMembers cluster;

    @BeforeAll
    static void start() {
        cluster = new TwoMembers("engine", CLOCK);
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Nested
    class ThroughHazelcastsInternals extends EngineContract {
        @Override
        protected Buckets buckets() {
            return cluster.internal;
        }
    }

    @Nested
    class ThroughHazelcastsPublicApi extends EngineContract {
        @Override
        protected Buckets buckets() {
            return cluster.publicApi;
        }
    }
}
