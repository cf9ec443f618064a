package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The policy file is mounted the way a Kubernetes ConfigMap volume mounts it: the file is a
 * symlink into {@code ..data}, itself a symlink to a timestamped directory, and an update swaps
 * {@code ..data}. A valid update is picked up without a restart; an invalid one is refused and
 * the policies in force stay.
 */
class PolicyReloadTest {

    private static String policy(int capacity) {
        return """
                domains:
                  demo:
                    rules:
                      - name: per-ip
                        limits: [{name: per-ip, algorithm: token_bucket, capacity: %d, refill: 1, refill_period: 1h, key: [ip]}]
                """.formatted(capacity);
    }

    /** Held strongly: java.util.logging keeps loggers only weakly, and a new one would lack the handler. */
    private final Logger watcherLog = Logger.getLogger(PolicyWatcher.class.getName());
    private SluiceNode node;
    private ManagedChannel channel;
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            warnings.add(r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @AfterEach
    void stop() throws InterruptedException {
        watcherLog.removeHandler(capture);
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    /** Writes a new version the way the kubelet does: a new directory, then one atomic symlink swap. */
    private static void publish(Path volume, String version, String content) throws Exception {
        publishBytes(volume, version, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void publishBytes(Path volume, String version, byte[] content) throws Exception {
        Path dir = Files.createDirectory(volume.resolve("..2031_01_01_" + version));
        Files.write(dir.resolve("policies.yaml"), content);
        Path tmp = volume.resolve("..data_tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, dir.getFileName());
        Files.move(tmp, volume.resolve("..data"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private long limit() {
        return RateLimiterGrpc.newBlockingStub(channel).acquire(AcquireRequest.newBuilder().setDomain("demo")
                .putDescriptors("ip", "1.1.1.1").setDryRun(true).build()).getLimits(0).getLimit();
    }

    @Test
    void aConfigMapSymlinkSwapIsPickedUpAndAnInvalidUpdateIsRefused(@TempDir Path volume) throws Exception {
        watcherLog.addHandler(capture);
        publish(volume, "v1", policy(5));
        Files.createSymbolicLink(volume.resolve("policies.yaml"), Path.of("..data/policies.yaml"));
        node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("reload"), ManualClock.fixed())
                .policiesFile(volume.resolve("policies.yaml")).policyReloadInterval(Duration.ofMillis(100)).build());
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        assertEquals(5, limit());
        String v1 = node.policies().version();

        publish(volume, "v2", policy(50));
        await().atMost(Duration.ofSeconds(10)).until(() -> limit() == 50);
        String v2 = node.policies().version();

        publish(volume, "v3", "domains:\n  demo:\n    rules:\n      - name: broken\n        limits: [{name: x, algorithm: nope}]\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> warnings.stream().anyMatch(w -> w.contains("invalid")));
        assertEquals(50, limit(), "the invalid file is refused; version " + v2 + " stays in force");
        assertEquals(v2, node.policies().version());
        assertEquals(true, warnings.stream().anyMatch(w -> w.contains("unknown algorithm 'nope'")), warnings.toString());

        // Bytes that are not UTF-8 are a problem like any other, said with the same report.
        byte[] good = policy(9).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] withBadByte = java.util.Arrays.copyOf(good, good.length + 14);
        System.arraycopy("# caf\u00e9 = 0xE9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, withBadByte, good.length, 14);
        publishBytes(volume, "v3b", withBadByte);
        await().atMost(Duration.ofSeconds(10)).until(() -> warnings.stream().anyMatch(w -> w.contains("not valid UTF-8")));
        String report = warnings.stream().filter(w -> w.contains("not valid UTF-8")).findFirst().orElseThrow();
        assertEquals(true, report.contains("policies.yaml:6: not valid UTF-8: byte " + (good.length + 5) + " (0xe9)"), report);
        assertEquals(50, limit());

        publish(volume, "v4", policy(7));
        await().atMost(Duration.ofSeconds(10)).until(() -> limit() == 7);
        assertEquals(false, node.policies().version().equals(v1));
        assertEquals(Decision.ALLOWED, RateLimiterGrpc.newBlockingStub(channel).acquire(AcquireRequest.newBuilder()
                .setDomain("demo").putDescriptors("ip", "1.1.1.1").build()).getDecision());
    }
}
