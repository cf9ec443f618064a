package dev.sluice.cluster;

import dev.sluice.server.testing.TestNodes;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Envoy's API on three nodes in JVMs of their own, requests round-robin over them from several
 * threads: a fixed window and a token bucket (a Sluice extension) admit exactly their limits;
 * then, with a node killed mid-run, nothing acknowledged is lost (never more admitted than the
 * limit), and only the requests whose answers the kill took are unaccounted for.
 */
class EnvoyApiClusterTest {

    private static final String CONFIG = """
            domain: gateway
            descriptors:
              - key: route
                value: exact
                rate_limit: {unit: year, requests_per_unit: 600}
              - key: route
                value: bucket
                rate_limit: {unit: year, requests_per_unit: 400, algorithm: token_bucket}
              - key: route
                value: crash
                rate_limit: {unit: year, requests_per_unit: 1000}
            """;
    private static final int THREADS = 8;

    @RegisterExtension
    final Closer closer = new Closer();

    private List<NodeProcess> start(Path dir) throws Exception {
        Path config = Files.createDirectories(dir.resolve("envoy"));
        Files.writeString(config.resolve("gateway.yaml"), CONFIG);
        Path policies = Files.writeString(dir.resolve("policies.yaml"), "domains:\n  unused:\n    rules:\n      - {name: r, limits:"
                + " [{name: l, algorithm: token_bucket, capacity: 1, refill: 1, key: [k]}]}\n");
        String cluster = TestNodes.uniqueCluster("envoy-cluster");
        List<NodeProcess.Addresses> addresses = List.of(NodeProcess.Addresses.free(), NodeProcess.Addresses.free(),
                NodeProcess.Addresses.free());
        List<String> members = addresses.stream().map(NodeProcess.Addresses::member).toList();
        List<NodeProcess> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            nodes.add(closer.add(NodeProcess.start("envoy-node-" + i, addresses.get(i), members, cluster, policies,
                    Path.of("target", "node-logs"), List.of(), List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"),
                    List.of("--envoy-config", config.toString()))));
        }
        nodes.forEach(NodeProcess::awaitServing);
        return nodes;
    }

    private static RateLimitRequest request(String route) {
        return RateLimitRequest.newBuilder().setDomain("gateway").addDescriptors(RateLimitDescriptor.newBuilder()
                .addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("route").setValue(route))).build();
    }

    /** Counts of a run: answered OK, OVER_LIMIT, and calls that failed (their outcome unknown to the caller). */
    private record Counts(long ok, long over, long failed) {
    }

    /** Round-robin over {@code channels} from {@link #THREADS} threads until {@code stop} or every thread has seen {@code refusalsEach} refusals. */
    private static Counts load(List<ManagedChannel> channels, String route, int refusalsEach, AtomicBoolean stop, AtomicLong okSoFar)
            throws Exception {
        AtomicLong ok = new AtomicLong();
        AtomicLong over = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                running.add(pool.submit(() -> {
                    int refused = 0;
                    for (int i = thread; refused < refusalsEach && !stop.get(); i++) {
                        List<ManagedChannel> now = List.copyOf(channels);
                        ManagedChannel c = now.get(i % now.size());
                        try {
                            RateLimitResponse r = RateLimitServiceGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS)
                                    .shouldRateLimit(request(route));
                            if (r.getOverallCode() == RateLimitResponse.Code.OK) {
                                ok.incrementAndGet();
                                okSoFar.incrementAndGet();
                            } else {
                                over.incrementAndGet();
                                refused++;
                            }
                        } catch (StatusRuntimeException e) {
                            failed.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        return new Counts(ok.get(), over.get(), failed.get());
    }

    @Test
    void roundRobinOverThreeNodesAdmitsExactlyTheLimitAndAKilledNodeLosesNothingAcknowledged(@TempDir Path dir) throws Exception {
        List<NodeProcess> nodes = start(dir);
        List<ManagedChannel> channels = new CopyOnWriteArrayList<>(nodes.stream().map(NodeProcess::channel).toList());

        Counts exact = load(channels, "exact", 5, new AtomicBoolean(), new AtomicLong());
        assertEquals(600, exact.ok(), "a fixed window of 600 over three nodes: " + exact);
        assertEquals(0, exact.failed());
        Counts bucket = load(channels, "bucket", 5, new AtomicBoolean(), new AtomicLong());
        assertEquals(400, bucket.ok(), "a token bucket of 400 over three nodes: " + bucket);
        assertEquals(0, bucket.failed());

        // Under load, once about 300 have been admitted, one node dies: its calls fail, the others go on.
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong admitted = new AtomicLong();
        ExecutorService killer = Executors.newSingleThreadExecutor();
        NodeProcess victim = nodes.get(2);
        Future<?> kill = killer.submit(() -> {
            await().atMost(java.time.Duration.ofMinutes(2)).until(() -> admitted.get() >= 300);
            channels.remove(victim.channel());
            victim.kill();
            return null;
        });
        Counts crash;
        try {
            crash = load(channels, "crash", 5, stop, admitted);
            kill.get(2, TimeUnit.MINUTES);
        } finally {
            killer.shutdownNow();
        }
        assertTrue(crash.ok() <= 1000, "never more admitted than the limit, so no acknowledged hit was lost: " + crash);
        assertTrue(crash.ok() + crash.failed() >= 1000, "every hit the callers do not know of is a call the kill cut off: " + crash);

        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("exact_window_admitted_of_600", exact.ok());
        figures.put("token_bucket_admitted_of_400", bucket.ok());
        figures.put("crash_admitted_of_1000", crash.ok());
        figures.put("crash_calls_failed", crash.failed());
        Figures.report("EnvoyApiClusterTest", figures);
    }
}
