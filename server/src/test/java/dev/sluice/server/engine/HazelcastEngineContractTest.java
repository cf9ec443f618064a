package dev.sluice.server.engine;

import com.hazelcast.core.HazelcastInstance;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.store.Buckets;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

import java.util.List;

/**
 * The engine's contract over Hazelcast: two members over TCP, so that about half the buckets live
 * on the other member, through the store's internal path and through Hazelcast's public API alone.
 */
class HazelcastEngineContractTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static List<HazelcastInstance> members;
    private static BucketStore internal;
    private static BucketStore publicApi;

    @BeforeAll
    static void start() {
        members = TestMembers.cluster(TestNodes.uniqueCluster("engine"), CLOCK, CLOCK);
        internal = TestMembers.store(members.get(0), true);
        publicApi = TestMembers.store(members.get(0), false);
    }

    @AfterAll
    static void stop() {
        internal.close();
        publicApi.close();
        members.forEach(m -> m.getLifecycleService().terminate());
    }

    @Nested
    class ThroughHazelcastsInternals extends EngineContract {
        @Override
        protected Buckets buckets() {
            return internal;
        }
    }

    @Nested
    class ThroughHazelcastsPublicApi extends EngineContract {
        @Override
        protected Buckets buckets() {
            return publicApi;
        }
    }
}
