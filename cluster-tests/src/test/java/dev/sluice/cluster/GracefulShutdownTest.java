package dev.sluice.cluster;

import com.hazelcast.map.IMap;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.store.BucketKey;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node that is told to stop finishes the calls it has, then leaves without losing a bucket. */
class GracefulShutdownTest {

    @RegisterExtension
    final Closer closer = new Closer();

    private static AcquireRequest demo(String ip) {
        return AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", ip).build();
    }

    @Test
    void stoppingNodeFinishesItsCallInFlightAndTheBucketSurvivesOnTheOtherMember() throws Exception {
        List<SluiceNode> nodes = TestNodes.startAll(TestNodes.cluster(TestNodes.uniqueCluster("graceful"), ManualClock.fixed(),
                PolicyLoader.bundledDemo(), 2));
        SluiceNode leaving = closer.add(nodes.get(0));
        SluiceNode staying = closer.add(nodes.get(1));
        ManagedChannel toLeaving = channel(leaving);
        ManagedChannel toStaying = channel(staying);

        var stub = RateLimiterGrpc.newBlockingStub(toLeaving);
        for (int i = 0; i < 9; i++) {
            assertEquals(Decision.ALLOWED, stub.acquire(demo("198.51.100.1")).getDecision());
        }
        // Hold the bucket so the tenth call is in flight on the leaving node when it is told to stop.
        String key = leaving.policies().domain("demo").resolve(Map.of("ip", "198.51.100.1")).get(0).bucketKey();
        IMap<BucketKey, Object> buckets = staying.hazelcast().getMap(BucketStore.MAP_NAME);
        ExecutorService holder = Executors.newSingleThreadExecutor();
        closer.add(holder::shutdownNow);
        holder.submit(() -> buckets.lock(BucketKey.of(key))).get();
        var inFlight = RateLimiterGrpc.newFutureStub(toLeaving).acquire(demo("198.51.100.1"));
        await().atMost(Duration.ofSeconds(5)).until(() -> leaving.callsInFlight() == 1);

        CompletableFuture<Void> stopping = CompletableFuture.runAsync(leaving::close);
        await().atMost(Duration.ofSeconds(5)).until(() -> health(toLeaving) != ServingStatus.SERVING);
        assertFalse(inFlight.isDone(), "the call waits for its bucket while the node stops");
        holder.submit(() -> buckets.unlock(BucketKey.of(key))).get();

        AcquireResponse tenth = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(Decision.ALLOWED, tenth.getDecision(), "the call in flight was finished, not dropped");
        assertEquals(0, tenth.getLimits(0).getRemaining());
        stopping.get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> staying.hazelcast().getCluster().getMembers().size() == 1);

        AcquireResponse after = RateLimiterGrpc.newBlockingStub(toStaying).acquire(demo("198.51.100.1"));
        assertEquals(Decision.DENIED, after.getDecision(), "the bucket kept its 10 units when its member left");
    }

    @Test
    void sigtermStopsANodeProcessGracefully(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        int port = dev.sluice.server.testing.Ports.free();
        int memberPort = dev.sluice.server.testing.Ports.free();
        String java = ProcessHandle.current().info().command().orElse("java");
        Path log = dir.resolve("node.log");
        Process process = new ProcessBuilder(java, "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.management/sun.management=ALL-UNNAMED",
                "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED", "-cp", NodeClasspath.get(),
                "dev.sluice.server.node.Main", "--port", Integer.toString(port), "--member-port", Integer.toString(memberPort),
                "--cluster-name", TestNodes.uniqueCluster("sigterm"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        closer.add(() -> process.destroyForcibly().waitFor(10, TimeUnit.SECONDS));
        ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        closer.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> health(ch) == ServingStatus.SERVING);
        assertEquals(Decision.ALLOWED, RateLimiterGrpc.newBlockingStub(ch).acquire(demo("203.0.113.1")).getDecision());

        process.destroy(); // SIGTERM
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the node exits after SIGTERM");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(output.contains("sluice: stopped"), output);
        assertFalse(output.contains("Exception"), output);
        assertFalse(output.contains("WARNING"), output);
    }

    private ManagedChannel channel(SluiceNode node) {
        ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        closer.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return ch;
    }

    private static ServingStatus health(ManagedChannel ch) {
        try {
            return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } catch (RuntimeException e) {
            return ServingStatus.UNKNOWN;
        }
    }
}
