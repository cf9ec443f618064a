package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.testing.TestNodes;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The attack of a client sending unique users on a day-long window, at a node of its own with a
 * small heap (128 MB) and the bucket budget it derives from that heap: past the budget, new users
 * are refused RESOURCE_EXHAUSTED naming the budget, the buckets held keep counting exactly,
 * another client's calls all meet their deadline, and the node spends a few percent of its time
 * in garbage collection, measured from its own GC log.
 */
class KeyFloodTest {

    private static final String POLICY = """
            domains:
              flood:
                rules:
                  - name: per-user
                    limits: [{name: daily, algorithm: fixed_window, limit: 5, calendar: day, key: [user]}]
            """;
    private static final long DEADLINE_MILLIS = 500;
    /** How long the flood goes on once the node says it holds all it may. */
    private static final long PAST_BUDGET_NANOS = TimeUnit.SECONDS.toNanos(Long.getLong("sluice.floodSeconds", 15));

    @RegisterExtension
    final Closer closer = new Closer();

    @Test
    void pastItsBudgetASmallNodeRefusesNewKeysAndKeepsDecidingTheOthersInTime() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "node-logs"));
        Path policies = Files.writeString(dir.resolve("flood-policies.yaml"), POLICY);
        Path gcLog = dir.resolve("flood-gc.log");
        Files.deleteIfExists(gcLog);
        NodeProcess.Addresses ports = NodeProcess.Addresses.free();
        NodeProcess node = closer.add(NodeProcess.start("flood", ports, List.of(ports.member()), TestNodes.uniqueCluster("flood"),
                policies, dir, List.of(), List.of("-Xmx128m", "-Xlog:gc:file=" + gcLog.toAbsolutePath()), List.of()));
        node.awaitServing();
        ManagedChannel attacker = channel(ports.port());
        ManagedChannel regular = channel(ports.port());
        closer.add((AutoCloseable) attacker::shutdownNow);
        closer.add((AutoCloseable) regular::shutdownNow);
        var regularStub = RateLimiterGrpc.newBlockingStub(regular);

        // Ten users who were here before the flood, each with two of five spent.
        for (int u = 0; u < 10; u++) {
            for (int i = 0; i < 2; i++) {
                regularStub.withDeadlineAfter(10, TimeUnit.SECONDS).acquire(request("regular-" + u));
            }
        }
        latencies(regularStub, 3_000); // warm
        List<Long> before = latencies(regularStub, 2_000);

        // The other client, on a user of its own, all through the flood.
        AtomicBoolean flooding = new AtomicBoolean(true);
        List<Long> during = Collections.synchronizedList(new ArrayList<>());
        AtomicLong missed = new AtomicLong();
        CompletableFuture<Void> steady = CompletableFuture.runAsync(() -> {
            while (flooding.get()) {
                long t0 = System.nanoTime();
                try {
                    regularStub.withDeadlineAfter(DEADLINE_MILLIS, TimeUnit.MILLISECONDS).acquire(request("steady").toBuilder().setDryRun(true).build());
                    during.add(System.nanoTime() - t0);
                } catch (StatusRuntimeException e) {
                    missed.incrementAndGet();
                }
            }
        });

        long gcBefore = gcPauseNanos(gcLog);
        long floodStart = System.nanoTime();
        Flood flood = new Flood(RateLimiterGrpc.newStub(attacker));
        long fullAt = 0;
        while (fullAt == 0 || System.nanoTime() - fullAt < PAST_BUDGET_NANOS) {
            flood.send();
            if (fullAt == 0 && flood.refused.get() > 0) {
                fullAt = System.nanoTime();
            }
            assertTrue(System.nanoTime() - floodStart < TimeUnit.MINUTES.toNanos(5), "the budget was never reached: " + flood);
        }
        flood.drain();
        long floodNanos = System.nanoTime() - floodStart;
        long gcNanos = gcPauseNanos(gcLog) - gcBefore;
        flooding.set(false);
        steady.get(30, TimeUnit.SECONDS);

        assertEquals(0, flood.other.get(), "every flood request was decided or refused for the budget: " + flood);
        assertTrue(flood.refusal.get().startsWith("buckets: "), flood.refusal.get());
        StatusRuntimeException newcomer = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> regularStub.withDeadlineAfter(10, TimeUnit.SECONDS).acquire(request("newcomer")));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, newcomer.getStatus().getCode());
        for (int u = 0; u < 10; u++) {
            for (long left = 2; left >= 0; left--) {
                AcquireResponse r = regularStub.withDeadlineAfter(10, TimeUnit.SECONDS).acquire(request("regular-" + u));
                assertEquals(left, r.getLimits(0).getRemaining(), "a bucket held before the flood counts exactly");
            }
            assertEquals(Decision.DENIED, regularStub.withDeadlineAfter(10, TimeUnit.SECONDS).acquire(request("regular-" + u)).getDecision());
        }
        assertEquals(0, missed.get(), "the other client's calls all met their " + DEADLINE_MILLIS + " ms deadline");
        double gcShare = (double) gcNanos / floodNanos;
        assertTrue(gcShare < 0.05, "a few percent of the time in GC: " + gcShare);
        String log = node.output();
        long budgetLines = log.lines().filter(l -> l.contains("bucket budget reached")).count();
        assertTrue(budgetLines >= 1 && budgetLines <= 2 + floodNanos / TimeUnit.SECONDS.toNanos(10), "one line each 10 s: " + budgetLines);
        assertTrue(!log.contains("OutOfMemoryError"), log);

        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("heap_mb", 128);
        figures.put("flood_requests", flood.sent.get());
        figures.put("buckets_created", flood.allowed.get());
        figures.put("refused_resource_exhausted", flood.refused.get());
        figures.put("flood_seconds", Math.round(floodNanos / 1e8) / 10.0);
        figures.put("gc_percent", Math.round(gcShare * 1000) / 10.0);
        figures.put("other_client_calls", during.size());
        figures.put("other_client_p50_us_before", percentile(before, 0.5) / 1000);
        figures.put("other_client_p99_us_before", percentile(before, 0.99) / 1000);
        figures.put("other_client_p50_us_during", percentile(during, 0.5) / 1000);
        figures.put("other_client_p99_us_during", percentile(during, 0.99) / 1000);
        figures.put("other_client_max_us_during", percentile(during, 1.0) / 1000);
        figures.put("budget_log_lines", budgetLines);
        Figures.report("KeyFloodTest", figures);
    }

    private static AcquireRequest request(String user) {
        return AcquireRequest.newBuilder().setDomain("flood").putDescriptors("user", user).build();
    }

    private static ManagedChannel channel(int port) {
        return ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    private static List<Long> latencies(RateLimiterGrpc.RateLimiterBlockingStub stub, int n) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            stub.withDeadlineAfter(10, TimeUnit.SECONDS).acquire(request("steady").toBuilder().setDryRun(true).build());
            out.add(System.nanoTime() - t0);
        }
        return out;
    }

    private static long percentile(List<Long> values, double p) {
        List<Long> sorted;
        synchronized (values) {
            sorted = new ArrayList<>(values);
        }
        Collections.sort(sorted);
        return sorted.isEmpty() ? 0 : sorted.get((int) Math.min(sorted.size() - 1, Math.floor(p * sorted.size())));
    }

    private static final Pattern PAUSE = Pattern.compile("Pause .* (\\d+\\.\\d+)ms$");

    /** The pauses the node's GC log has recorded so far, summed. */
    private static long gcPauseNanos(Path gcLog) throws IOException {
        if (!Files.exists(gcLog)) {
            return 0;
        }
        long total = 0;
        for (String line : Files.readAllLines(gcLog)) {
            Matcher m = PAUSE.matcher(line);
            if (m.find()) {
                total += Math.round(Double.parseDouble(m.group(1)) * 1_000_000);
            }
        }
        return total;
    }

    /** Unique users as fast as 64 calls in flight allow. */
    private static final class Flood {
        private final RateLimiterGrpc.RateLimiterStub stub;
        private final Semaphore window = new Semaphore(64);
        final AtomicLong sent = new AtomicLong();
        final AtomicLong allowed = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        final AtomicLong other = new AtomicLong();
        final java.util.concurrent.atomic.AtomicReference<String> refusal = new java.util.concurrent.atomic.AtomicReference<>("");

        Flood(RateLimiterGrpc.RateLimiterStub stub) {
            this.stub = stub;
        }

        void send() throws InterruptedException {
            window.acquire();
            long n = sent.incrementAndGet();
            stub.withDeadlineAfter(30, TimeUnit.SECONDS).acquire(request("flood-" + n), new StreamObserver<>() {
                @Override
                public void onNext(AcquireResponse r) {
                    allowed.incrementAndGet();
                }

                @Override
                public void onError(Throwable t) {
                    Status s = Status.fromThrowable(t);
                    if (s.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                        refused.incrementAndGet();
                        refusal.set(s.getDescription());
                    } else {
                        other.incrementAndGet();
                    }
                    window.release();
                }

                @Override
                public void onCompleted() {
                    window.release();
                }
            });
        }

        void drain() throws InterruptedException {
            window.acquire(64);
            window.release(64);
        }

        @Override
        public String toString() {
            return sent + " sent, " + allowed + " allowed, " + refused + " refused, " + other + " other";
        }
    }
}
