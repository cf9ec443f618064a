package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.sluice.server.algorithm.GcraState;
import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two members over TCP whose clocks disagree by an hour. The owner decides with its own clock
 * and the backup stores the owner's result: were the backup to re-run the arithmetic, its state
 * would be an hour off, and a failover would mint an hour of tokens.
 */
class BackupReceivesStateTest {

    private HazelcastInstance first;
    private HazelcastInstance second;

    @AfterEach
    void stop() {
        if (first != null) {
            first.getLifecycleService().terminate();
        }
        if (second != null) {
            second.getLifecycleService().terminate();
        }
    }

    @Test
    void backupHoldsTheOwnersStateNotOneComputedWithItsOwnClock() {
        ManualClock ownerClock = ManualClock.fixed();
        ManualClock skewed = ManualClock.fixed().advance(Duration.ofHours(1));
        List<HazelcastInstance> members = TestMembers.cluster(TestNodes.uniqueCluster("backup"), ownerClock, skewed);
        first = members.get(0);
        second = members.get(1);

        // A key owned by the first member, so its backup lives on the skewed second member.
        String key = keyOwnedBy(first, "bucket-");
        TokenBucket bucket = new TokenBucket(10, 1, Duration.ofSeconds(1));
        Outcome outcome = TestMembers.store(first).acquire(new Command(key, bucket, 4, true, false, 0)).join();
        assertEquals(6, outcome.remaining());
        GcraState expected = new GcraState(ownerClock.nanos() + Duration.ofSeconds(4).toNanos(), 0);

        IMap<BucketKey, BucketRecord> map = first.getMap(BucketStore.MAP_NAME);
        assertEquals(expected, map.get(BucketKey.of(key)).state());
        // Back at rest after 4 s, by the owner's clock.
        long keepUntil = ownerClock.nanos() + Duration.ofSeconds(4).toNanos();
        assertEquals(keepUntil, map.get(BucketKey.of(key)).keepUntil());

        first.getLifecycleService().terminate();
        first = null;
        await().atMost(Duration.ofSeconds(30)).until(() -> second.getCluster().getMembers().size() == 1);
        IMap<BucketKey, BucketRecord> promoted = second.getMap(BucketStore.MAP_NAME);
        assertEquals(expected, promoted.get(BucketKey.of(key)).state(), "the promoted backup holds exactly the owner's state");
        assertEquals(keepUntil, promoted.get(BucketKey.of(key)).keepUntil(), "the backup is kept as long as the owner's copy");
    }

    static String keyOwnedBy(HazelcastInstance member, String prefix) {
        // Partitions are assigned on first use.
        member.getMap(BucketStore.MAP_NAME).size();
        await().atMost(Duration.ofSeconds(30)).until(() -> member.getPartitionService().getPartition(prefix).getOwner() != null);
        for (int i = 0; ; i++) {
            String key = prefix + i;
            if (member.getPartitionService().getPartition(BucketKey.of(key)).getOwner().localMember()) {
                return key;
            }
        }
    }
}
