package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.client.Acquire;
import dev.sluice.client.AcquireResult;
import dev.sluice.client.FailureMode;
import dev.sluice.client.SluiceClient;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One hot key on three nodes in JVMs of their own, asked by 8 clients that decide it from leases
 * (the Java client's hot-key leases), one of them killed while it holds a lease (its channel cut, so
 * what it held is never given back). Counted at every answer: never more admitted than the
 * bucket's limit; in the end exactly the limit less what the killed client held, which is spent.
 */
class HotKeyLeasesAcrossNodesTest {

    static final long LIMIT = 300_000;
    static final String POLICY = """
            domains:
              api:
                rules:
                  - name: hot
                    limits: [{name: calls, algorithm: token_bucket, capacity: %d, refill: 1, refill_period: 1000s, key: [tenant]}]
            """.formatted(LIMIT);

    /** A two-second window for the mixed workload: a hot key asked far past its limit, and cold keys under theirs. */
    static final long WINDOW_LIMIT = 3_000;
    static final String WINDOW_POLICY = """
            domains:
              api:
                rules:
                  - name: windowed
                    limits: [{name: calls, algorithm: fixed_window, limit: %d, window: 2s, key: [tenant]}]
            """.formatted(WINDOW_LIMIT);

    @RegisterExtension
    final Closer closer = new Closer();

    /**
     * Under-admission, measured: 8 clients ask one hot key far past its window's limit while also
     * asking cold keys, for ten windows of 2 s. Leases end with their window; what one holds unused
     * when the window ends is not admitted in it. Admissions are tallied by the window of the
     * moment they were answered, on this machine's clock (the nodes' clocks, here): a request in
     * flight across a window's end may be tallied in the window after the one that counted it.
     */
    @Test
    void underAdmissionAtEachWindowsEndIsSmall(@TempDir Path dir) throws Exception {
        List<NodeProcess> nodes = NodeProcess.cluster(closer, 3, "windowed", Files.writeString(dir.resolve("windowed.yaml"), WINDOW_POLICY));
        List<String> targets = nodes.stream().map(NodeProcess::target).toList();
        int windows = 10;
        long windowMillis = 2000;
        // Three windows of warm-up first: a cold JVM's first windows see too little demand to measure anything.
        long firstWindow = System.currentTimeMillis() / windowMillis + 4;
        java.util.concurrent.atomic.AtomicLongArray hotAdmitted = new java.util.concurrent.atomic.AtomicLongArray(windows);
        LongAdder local = new LongAdder();
        LongAdder coldDenied = new LongAdder();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> workers = new ArrayList<>();
        List<SluiceClient> clients = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            SluiceClient client = SluiceClient.builder().targets(targets).deadline(Duration.ofSeconds(1)).failureMode(FailureMode.FAIL_CLOSED)
                    .denialCache(false).hotKeyLeases(50).build();
            closer.add(client::close);
            clients.add(client);
            int seed = w;
            Thread t = new Thread(() -> {
                java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
                Acquire hot = Acquire.domain("api").with("tenant", "hot");
                while (running.get()) {
                    boolean isHot = random.nextInt(10) != 0;
                    AcquireResult r = client.acquire(isHot ? hot : Acquire.domain("api").with("tenant", "cold-" + random.nextInt(1000)));
                    long window = System.currentTimeMillis() / windowMillis - firstWindow;
                    if (!isHot) {
                        if (r.denied() && r.source() == AcquireResult.Source.SERVER) {
                            coldDenied.increment();
                        }
                        continue;
                    }
                    if (r.source() == AcquireResult.Source.LEASE) {
                        local.increment();
                    }
                    if (r.allowed() && window >= 0 && window < windows) {
                        hotAdmitted.incrementAndGet((int) window);
                    }
                }
            }, "windowed-worker-" + w);
            t.start();
            workers.add(t);
        }
        long end = (firstWindow + windows) * windowMillis;
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> System.currentTimeMillis() > end + 200);
        running.set(false);
        for (Thread t : workers) {
            t.join(30_000);
        }
        List<Long> perWindow = new ArrayList<>();
        long under = 0;
        long most = 0;
        for (int i = 0; i < windows; i++) {
            perWindow.add(hotAdmitted.get(i));
            under += Math.max(0, WINDOW_LIMIT - hotAdmitted.get(i));
            most = Math.max(most, hotAdmitted.get(i));
        }
        double underShare = (double) under / (windows * WINDOW_LIMIT);
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("window_limit", WINDOW_LIMIT);
        figures.put("hot_admitted_per_window", perWindow.toString());
        figures.put("under_admitted_share", String.format("%.4f", underShare));
        figures.put("hot_decided_from_leases", local.sum());
        figures.put("cold_denied", coldDenied.sum());
        Figures.report("hot-key-leases-under-admission", figures);
        assertEquals(0, coldDenied.sum(), "cold keys stay under their limit");
        assertTrue(local.sum() > 0, "the hot key was decided from leases");
        // Tallied by answer time: a window may gain the few requests in flight across its start from the one before.
        assertTrue(most <= WINDOW_LIMIT + 200, "no window admits past its limit (beyond requests in flight at its edge): " + perWindow);
        assertTrue(underShare < 0.01, "under-admission below 1% of the limit: " + perWindow);
    }

    @Test
    void eightClientsAdmitTheLimitAndNothingMore(@TempDir Path dir) throws Exception {
        Path policies = Files.writeString(dir.resolve("api.yaml"), POLICY);
        List<NodeProcess> nodes = NodeProcess.cluster(closer, 3, "hot", policies);
        List<String> targets = nodes.stream().map(NodeProcess::target).toList();

        Acquire hot = Acquire.domain("api").with("tenant", "hot");
        AtomicLong allowed = new AtomicLong();
        LongAdder local = new LongAdder();
        LongAdder asked = new LongAdder();
        AtomicInteger over = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean killed = new AtomicBoolean();
        List<SluiceClient> clients = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            // Fails closed: an answer no node gave admits nothing, so the count below is of real admissions.
            SluiceClient client = SluiceClient.builder().targets(targets).deadline(Duration.ofSeconds(1)).failureMode(FailureMode.FAIL_CLOSED)
                    .denialCache(false).hotKeyLeases(50).build();
            closer.add(client::close);
            clients.add(client);
            boolean victim = w == 7;
            Thread t = new Thread(() -> {
                while (running.get() && !(victim && killed.get())) {
                    AcquireResult r = client.acquire(hot);
                    asked.increment();
                    if (r.source() == AcquireResult.Source.LEASE) {
                        local.increment();
                    }
                    if (r.allowed() && allowed.incrementAndGet() > LIMIT) {
                        over.incrementAndGet();
                    }
                    // Paced (a few thousand a second each): decided from leases, 8 clients would spend
                    // the limit in a fraction of a second, before the one to be cut off held a lease.
                    LockSupport.parkNanos(100_000);
                }
            }, "hot-worker-" + w);
            t.start();
            workers.add(t);
        }
        SluiceClient victim = clients.get(7);
        // A hot key for every client (50 a second is far below what each asks), so the victim is cut off holding a lease.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10))
                .until(() -> allowed.get() >= LIMIT / 10 && victim.leasedUnits() > 0);
        killed.set(true);
        workers.get(7).join(10_000);
        // Cut its connection: what it holds now is never given back, as if its process had died.
        ((ManagedChannel) victim.rawStub().getChannel()).shutdownNow();
        long heldWhenKilled = victim.leasedUnits();

        // The others drain the bucket; what their leases did not use comes back and is admitted too.
        long[] last = {-1};
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
            long now = allowed.get();
            boolean still = now == last[0];
            last[0] = now;
            return still && clients.subList(0, 7).stream().allMatch(c -> c.leasedUnits() == 0);
        });
        running.set(false);
        for (Thread t : workers) {
            t.join(30_000);
        }
        var stub = RateLimiterGrpc.newBlockingStub(nodes.get(0).channel());
        var left = stub.acquire(AcquireRequest.newBuilder().setDomain("api").putDescriptors("tenant", "hot").setDryRun(true).build());
        long bucketLeft = left.getDecision() == dev.sluice.api.v1.Decision.ALLOWED ? left.getLimits(0).getRemaining() + 1 : 0;

        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("limit", LIMIT);
        figures.put("admitted", allowed.get());
        figures.put("asked", asked.sum());
        figures.put("decided_from_leases", local.sum());
        figures.put("leases_granted", clients.stream().mapToLong(SluiceClient::leasesGranted).sum());
        figures.put("held_by_the_killed_client", heldWhenKilled);
        figures.put("bucket_left_after", bucketLeft);
        figures.put("times_over_the_limit", over.get());
        figures.put("lost_with_the_killed_client", LIMIT - allowed.get());
        Figures.report("hot-key-leases-across-nodes", figures);

        assertEquals(0, over.get(), "never more admitted than the limit");
        assertEquals(0, bucketLeft, "the bucket is spent");
        assertTrue(allowed.get() <= LIMIT, "exactly the limit at most: " + allowed.get());
        // Lost: what the killed client held, and a lease it may have had on the wire when cut (at most an eighth of what was left).
        long lost = LIMIT - allowed.get();
        figures.put("lost_with_the_killed_client", lost);
        assertTrue(lost <= heldWhenKilled + LIMIT / 8, "only what the killed client held is lost (" + heldWhenKilled + " held): " + lost);
        assertTrue(local.sum() > asked.sum() / 2, "most answers came from leases: " + local.sum() + " of " + asked.sum());
    }
}
