package dev.sluice.server.store;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.node.MemberConfig;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bucket's entry lives until the bucket is back at rest, then goes: memory follows the active keys. */
class IdleExpiryTest {

    private HazelcastInstance member;

    @AfterEach
    void stop() {
        member.getLifecycleService().terminate();
    }

    @Test
    void aBucketBackAtRestExpiresWhileALiveOneStays() {
        ManualClock clock = ManualClock.fixed();
        member = Hazelcast.newHazelcastInstance(MemberConfig.of(TestNodes.settings(TestNodes.uniqueCluster("expiry"), clock)
                .expiryGrace(Duration.ZERO).build()));
        BucketStore store = new BucketStore(member);
        // Back at rest (full) 400 ms after one token is taken.
        store.acquire("short", new TokenBucket(5, 5, Duration.ofSeconds(2)), 1, true, false).join();
        // Hazelcast counts expiry in whole seconds, truncating: the TTL covers that.
        assertTrue(member.getMap(BucketStore.MAP_NAME).getEntryView("short").getTtl() >= 2000);
        // Its window ends in an hour: live all that time.
        store.acquire("long", FixedWindow.ofLength(5, Duration.ofHours(1)), 1, true, false).join();
        IMap<String, Object> map = member.getMap(BucketStore.MAP_NAME);
        assertTrue(map.containsKey("short"));
        await().atMost(Duration.ofSeconds(30)).until(() -> !map.containsKey("short"));
        assertTrue(map.containsKey("long"), "a live bucket is not evicted early");
        assertTrue(map.getEntryView("long").getTtl() >= Duration.ofHours(1).plusSeconds(1).toMillis());
    }
}
