package dev.sluice.cluster;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.sluice.bench.BucketMemory;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.node.MemberConfig;
import dev.sluice.server.store.BucketKey;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.store.Command;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A million buckets that come to rest within a second go away once the decision clock has passed
 * their resting time, removed by the members' own sweeps, owner and backup copies alike, while a
 * thousand live ones (a window ending in an hour) all stay: memory follows the active keys, and a
 * live bucket is never removed early. Two members over TCP, with the production member settings.
 */
class IdleExpiryAtScaleTest {

    private static final int IDLE = Integer.getInteger("sluice.idleBuckets", 1_000_000);
    private static final int LIVE = 1_000;
    private final List<HazelcastInstance> members = new ArrayList<>();

    @AfterEach
    void stop() {
        members.forEach(m -> m.getLifecycleService().terminate());
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aMillionIdleBucketsExpireWhileLiveOnesStay() throws Exception {
        ManualClock clock = ManualClock.fixed();
        String cluster = TestNodes.uniqueCluster("idle");
        int p1 = Ports.free();
        int p2 = Ports.free();
        List<String> addresses = List.of("127.0.0.1:" + p1, "127.0.0.1:" + p2);
        for (int port : new int[] {p1, p2}) {
            members.add(Hazelcast.newHazelcastInstance(MemberConfig.of(TestNodes.settings(cluster, clock).memberPort(port)
                    .members(addresses).expiryGrace(Duration.ZERO).build())));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> members.get(0).getCluster().getMembers().size() == 2);
        TestMembers.awaitPartitionsSettled(members);
        BucketStore store = TestMembers.store(members.get(0));
        long heapBefore = BucketMemory.liveHeap();

        FixedWindow hour = FixedWindow.ofLength(5, Duration.ofHours(1));
        for (int i = 0; i < LIVE; i++) {
            store.acquire(new Command("live-" + i, hour, 1, true, false, 0)).join();
        }
        // Back at rest half a second after one token is taken.
        TokenBucket quick = new TokenBucket(2, 2, Duration.ofSeconds(1));
        Semaphore outstanding = new Semaphore(4_000);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long started = System.nanoTime();
        for (int i = 0; i < IDLE; i++) {
            outstanding.acquire();
            store.acquire(new Command("idle-" + i, quick, 1, true, false, 0)).whenComplete((o, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e);
                }
                outstanding.release();
            });
        }
        outstanding.acquire(4_000);
        outstanding.release(4_000);
        long createdMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertEquals(null, failure.get());
        long peak = owned();
        long heapWithBuckets = BucketMemory.liveHeap();

        assertEquals(IDLE + LIVE, backups(), "every bucket has its backup");
        // Past their rest (half a second) by more than a second.
        clock.advance(Duration.ofSeconds(2));
        long expiryStarted = System.nanoTime();
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> owned() <= LIVE && backups() <= LIVE);
        long goneMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - expiryStarted);
        long heapAfter = BucketMemory.liveHeap();
        var map = members.get(1).getMap(BucketStore.MAP_NAME);
        int liveLeft = 0;
        for (int i = 0; i < LIVE; i++) {
            liveLeft += map.containsKey(BucketKey.of("live-" + i)) ? 1 : 0;
        }

        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("idle_buckets", IDLE);
        figures.put("live_buckets", LIVE);
        figures.put("ms_to_create_idle_buckets", createdMillis);
        figures.put("owned_entries_when_creation_ended", peak);
        figures.put("heap_bytes_per_present_bucket_with_backup", (heapWithBuckets - heapBefore) / Math.max(1, peak));
        figures.put("ms_from_rest_until_idle_buckets_gone", goneMillis);
        figures.put("heap_bytes_left_per_expired_bucket", Math.max(0, heapAfter - heapBefore) / IDLE);
        figures.put("live_buckets_left", liveLeft);
        Figures.report("idle-expiry-at-scale", figures);
        assertEquals(LIVE, liveLeft, "no live bucket was evicted early");
    }

    private long backups() {
        return members.stream().mapToLong(m -> m.getMap(BucketStore.MAP_NAME).getLocalMapStats().getBackupEntryCount()).sum();
    }

    private long owned() {
        return members.stream().mapToLong(m -> m.getMap(BucketStore.MAP_NAME).getLocalMapStats().getOwnedEntryCount()).sum();
    }
}
