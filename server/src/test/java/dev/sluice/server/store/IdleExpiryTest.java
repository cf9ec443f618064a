package dev.sluice.server.store;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.node.MemberConfig;
import dev.sluice.server.node.NodeSettings;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bucket lives until it is back at rest, its remembered request ids are forgotten and the grace
 * has passed, then goes: memory follows the active keys, on the decision clock.
 */
class IdleExpiryTest {

    private final ManualClock clock = ManualClock.fixed();
    private HazelcastInstance member;

    @AfterEach
    void stop() {
        member.getLifecycleService().terminate();
    }

    private BucketStore start(NodeSettings.Builder settings) {
        member = Hazelcast.newHazelcastInstance(MemberConfig.of(settings.build()));
        return TestMembers.store(member);
    }

    private NodeSettings.Builder settings() {
        // The timer's sweeps are kept out of the way: these tests sweep when they mean to.
        return TestNodes.settings(TestNodes.uniqueCluster("expiry"), clock).expiryGrace(Duration.ZERO)
                .sweepInterval(Duration.ofHours(1));
    }

    @Test
    void aBucketBackAtRestIsRemovedWhileALiveOneStays() {
        BucketStore store = start(settings());
        IMap<BucketKey, Object> map = member.getMap(BucketStore.MAP_NAME);
        // Back at rest (full) 400 ms after one token is taken.
        store.acquire(new Command("short", new TokenBucket(5, 5, Duration.ofSeconds(2)), 1, true, false, 0)).join();
        // Its window ends in an hour: live all that time.
        store.acquire(new Command("long", FixedWindow.ofLength(5, Duration.ofHours(1)), 1, true, false, 0)).join();

        store.sweepRested();
        assertTrue(map.containsKey(BucketKey.of("short")), "a bucket still refilling is kept");
        clock.advance(Duration.ofMillis(399));
        store.sweepRested();
        assertTrue(map.containsKey(BucketKey.of("short")), "kept until its refill ends");

        clock.advance(Duration.ofMillis(2));
        store.sweepRested();
        assertFalse(map.containsKey(BucketKey.of("short")));
        assertTrue(map.containsKey(BucketKey.of("long")), "a live bucket is not removed early");

        clock.advance(Duration.ofMinutes(59));
        store.sweepRested();
        assertTrue(map.containsKey(BucketKey.of("long")));
        clock.advance(Duration.ofMinutes(1));
        store.sweepRested();
        assertFalse(map.containsKey(BucketKey.of("long")));
    }

    @Test
    void aRestedBucketIsKeptWhileItRemembersARequestId() {
        BucketStore store = start(settings().requestMemory(Duration.ofSeconds(10)));
        IMap<BucketKey, Object> map = member.getMap(BucketStore.MAP_NAME);
        TokenBucket bucket = new TokenBucket(5, 5, Duration.ofSeconds(2));
        store.acquire(new Command("with-id", bucket, 1, true, false, 42)).join();

        clock.advance(Duration.ofSeconds(5));
        store.sweepRested();
        assertTrue(map.containsKey(BucketKey.of("with-id")), "at rest, but a retry of request 42 must still be recognised");
        assertTrue(store.acquire(new Command("with-id", bucket, 1, true, false, 42)).join().allowed());
        assertEquals(1, store.replays());

        clock.advance(Duration.ofSeconds(6));
        store.sweepRested();
        assertFalse(map.containsKey(BucketKey.of("with-id")));
    }

    @Test
    void theGraceKeepsARestedBucketThatLong() {
        BucketStore store = start(settings().expiryGrace(Duration.ofSeconds(30)));
        IMap<BucketKey, Object> map = member.getMap(BucketStore.MAP_NAME);
        store.acquire(new Command("short", new TokenBucket(5, 5, Duration.ofSeconds(2)), 1, true, false, 0)).join();

        clock.advance(Duration.ofSeconds(30));
        store.sweepRested();
        assertTrue(map.containsKey(BucketKey.of("short")));
        clock.advance(Duration.ofMillis(1500));
        store.sweepRested();
        assertFalse(map.containsKey(BucketKey.of("short")));
    }

    @Test
    void aMemberSweepsByItselfEverySweepInterval() {
        BucketStore store = start(settings().sweepInterval(Duration.ofMillis(100)));
        IMap<BucketKey, Object> map = member.getMap(BucketStore.MAP_NAME);
        store.acquire(new Command("short", new TokenBucket(5, 5, Duration.ofSeconds(2)), 1, true, false, 0)).join();
        store.acquire(new Command("long", FixedWindow.ofLength(5, Duration.ofHours(1)), 1, true, false, 0)).join();

        clock.advance(Duration.ofSeconds(2));
        await().atMost(Duration.ofSeconds(30)).until(() -> !map.containsKey(BucketKey.of("short")));
        assertTrue(map.containsKey(BucketKey.of("long")));
    }
}
