package dev.sluice.server.store;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.AlgorithmContract;
import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;

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
        String cluster = TestNodes.uniqueCluster("contract");
        int p1 = Ports.free();
        int p2 = Ports.free();
        List<String> members = List.of("127.0.0.1:" + p1, "127.0.0.1:" + p2);
        caller = Hazelcast.newHazelcastInstance(TestMembers.config(cluster, CLOCK, p1, members));
        other = Hazelcast.newHazelcastInstance(TestMembers.config(cluster, CLOCK, p2, members));
        await().atMost(Duration.ofSeconds(30)).until(() -> caller.getCluster().getMembers().size() == 2);
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
