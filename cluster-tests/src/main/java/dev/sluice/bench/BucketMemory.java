package dev.sluice.bench;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.node.MemberConfig;
import dev.sluice.server.node.NodeSettings;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.store.Command;
import dev.sluice.server.time.ManualClock;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.stream.Collectors;
import javax.management.ObjectName;

/**
 * Heap per idle bucket, its backup included: two members in this JVM (so both copies are on
 * this heap) hold a million token buckets that stay live for an hour, with the bucket keys a
 * node builds for the demo policy. {@code java -cp cluster-tests/target/sluice-bench.jar
 * dev.sluice.bench.BucketMemory [buckets]}; run with a heap large enough, e.g. -Xmx4g.
 */
public final class BucketMemory {

    private BucketMemory() {
    }

    public static void main(String[] args) throws Exception {
        int buckets = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        ManualClock clock = ManualClock.fixed();
        String cluster = "memory-" + ProcessHandle.current().pid();
        int p1 = free();
        int p2 = free();
        List<String> members = List.of("127.0.0.1:" + p1, "127.0.0.1:" + p2);
        HazelcastInstance a = Hazelcast.newHazelcastInstance(MemberConfig.of(settings(cluster, clock, p1, members)));
        HazelcastInstance b = Hazelcast.newHazelcastInstance(MemberConfig.of(settings(cluster, clock, p2, members)));
        while (a.getCluster().getMembers().size() < 2) {
            Thread.sleep(100);
        }
        BucketStore store = new BucketStore(a, true, Runnable::run);
        long before = liveHeap();
        // Capacity 3600 refilled at one a second: one token taken leaves the bucket live for an hour.
        TokenBucket bucket = new TokenBucket(3600, 1, Duration.ofSeconds(1));
        Semaphore outstanding = new Semaphore(4000);
        for (int i = 0; i < buckets; i++) {
            outstanding.acquire();
            String key = "demo\u001fper-ip\u001fper-ip\u001ftb\u001fip=10." + (i >>> 16 & 255) + "." + (i >>> 8 & 255) + "." + (i & 255);
            store.acquire(new Command(key, bucket, 1, true, false, 0)).whenComplete((o, e) -> outstanding.release());
        }
        outstanding.acquire(4000);
        long after = liveHeap();
        long owned = a.getMap(BucketStore.MAP_NAME).getLocalMapStats().getOwnedEntryCount()
                + b.getMap(BucketStore.MAP_NAME).getLocalMapStats().getOwnedEntryCount();
        System.out.printf("buckets %d (owned %d, each with one backup)%n", buckets, owned);
        System.out.printf("heap per idle bucket, backup included: %d bytes%n", (after - before) / owned);
        if (Boolean.getBoolean("sluice.bench.histogram")) {
            System.out.println(histogram(24));
        }
        a.getLifecycleService().terminate();
        b.getLifecycleService().terminate();
        System.exit(0);
    }

    private static NodeSettings settings(String cluster, ManualClock clock, int port, List<String> members) {
        return NodeSettings.builder().clusterName(cluster).clock(clock).memberHost("127.0.0.1").memberPort(port).members(members)
                .expiryGrace(Duration.ofMinutes(10)).build();
    }

    private static int free() throws Exception {
        return Procs.freePort();
    }

    /** The first lines of the heap's class histogram, to show where a bucket's bytes go. */
    private static String histogram(int lines) throws Exception {
        Object text = ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        return ((String) text).lines().limit(lines + 3L).collect(Collectors.joining(System.lineSeparator()));
    }

    /**
     * The heap in use right after a full collection, the least of four readings. Read at once
     * after each collection: the members' own threads keep allocating, and a reading taken after
     * a pause counted up to 10 MB of their garbage as live (up to 20 bytes a bucket in the figure).
     */
    public static long liveHeap() throws InterruptedException {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            Thread.sleep(200);
        }
        return least;
    }
}
