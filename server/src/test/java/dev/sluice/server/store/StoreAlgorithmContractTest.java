package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.AlgorithmContract;
import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.List;


/**
 * The contract against the Hazelcast-backed store: two members over TCP, every decision an
 * entry processor on the key's owner (half of them on the other member), state serialized.
 */
class StoreAlgorithmContractTest extends AlgorithmContract {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static HazelcastInstance caller;
    private static HazelcastInstance other;
    private static BucketStore store;

    @BeforeAll
    static void start() {
        List<HazelcastInstance> members = TestMembers.cluster(TestNodes.uniqueCluster("contract"), CLOCK, CLOCK);
        caller = members.get(0);
        other = members.get(1);
        store = new BucketStore(caller);
    }

    @AfterAll
    static void stop() {
        caller.getLifecycleService().terminate();
        other.getLifecycleService().terminate();
    }

    @Override
    protected ManualClock clock() {
        return CLOCK;
    }

    @Override
    protected Outcome acquire(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied) {
        return store.acquire(key, algorithm, cost, consume, countDenied).join();
    }

    @Override
    protected void refund(String key, Algorithm algorithm, long cost, long marker) {
        store.refund(key, algorithm, cost, marker).join();
    }
}
