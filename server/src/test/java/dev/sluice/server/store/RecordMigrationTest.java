package dev.sluice.server.store;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * Buckets in every form reach a member that joins later (partition migration and replica sync
 * copy records in their serialized form) and decide there as they would have on the first: two
 * members over TCP, the first stopped without a hand-over once the second holds every replica.
 */
class RecordMigrationTest {

    private static final int BUCKETS = 60;

    private final List<HazelcastInstance> members = new ArrayList<>();

    @AfterEach
    void stop() {
        members.forEach(m -> m.getLifecycleService().terminate());
    }

    @Test
    void everyFormOfRecordSurvivesMigrationToAMemberThatJoinsLater() {
        ManualClock clock = ManualClock.fixed();
        String cluster = TestNodes.uniqueCluster("migration");
        int firstPort = Ports.free();
        int secondPort = Ports.free();
        List<String> addresses = List.of("127.0.0.1:" + firstPort, "127.0.0.1:" + secondPort);
        HazelcastInstance first = start(TestMembers.config(cluster, clock, firstPort, addresses));
        TestMembers.awaitPartitionsSettled(List.of(first));

        Algorithm bucket = new TokenBucket(10, 1, Duration.ofHours(1));
        Algorithm window = FixedWindow.ofLength(10, Duration.ofHours(1));
        BucketStore store = TestMembers.store(first);
        List<CompletableFuture<?>> taken = new ArrayList<>();
        for (int i = 0; i < BUCKETS; i++) {
            taken.add(store.acquire(new Command("tb-" + i, bucket, 3, true, false, 0)));
            taken.add(store.acquire(new Command("fw-" + i, window, 3, true, false, 0)));
            // Remembers its request id: the general form.
            taken.add(store.acquire(new Command("id-" + i, bucket, 3, true, false, 1_000 + i)));
        }
        taken.forEach(CompletableFuture::join);

        HazelcastInstance second = start(TestMembers.config(cluster, clock, secondPort, addresses));
        await().atMost(Duration.ofSeconds(60)).until(() -> first.getCluster().getMembers().size() == 2);
        TestMembers.awaitPartitionsSettled(members);
        first.getLifecycleService().terminate();
        members.remove(first);
        await().atMost(Duration.ofSeconds(60)).until(() -> second.getCluster().getMembers().size() == 1
                && second.getPartitionService().isClusterSafe());

        IMap<BucketKey, BucketRecord> map = second.getMap(BucketStore.MAP_NAME);
        assertInstanceOf(BucketRecord.Gcra.class, map.get(BucketKey.of("tb-0")));
        assertInstanceOf(BucketRecord.Window.class, map.get(BucketKey.of("fw-0")));
        assertInstanceOf(BucketRecord.General.class, map.get(BucketKey.of("id-0")));
        BucketStore survivor = TestMembers.store(second);
        for (int i = 0; i < BUCKETS; i++) {
            assertEquals(6, survivor.acquire(new Command("tb-" + i, bucket, 1, true, false, 0)).join().remaining(), "tb-" + i);
            assertEquals(6, survivor.acquire(new Command("fw-" + i, window, 1, true, false, 0)).join().remaining(), "fw-" + i);
            assertEquals(7, survivor.acquire(new Command("id-" + i, bucket, 3, true, false, 1_000 + i)).join().remaining(),
                    "id-" + i + ": a repeat of its request is recognised, not applied again");
        }
        assertEquals(BUCKETS, survivor.replays());
    }

    private HazelcastInstance start(com.hazelcast.config.Config config) {
        HazelcastInstance m = Hazelcast.newHazelcastInstance(config);
        members.add(m);
        return m;
    }
}
