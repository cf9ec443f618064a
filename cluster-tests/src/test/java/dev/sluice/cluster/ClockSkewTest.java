package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.testing.TestNodes;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two node processes, the second with its wall clock an hour ahead (libfaketime). Buckets are
 * emptied while the first owns half of them; the first then leaves and every bucket moves to
 * the skewed member. Deciding with the cluster's time, it mints nothing: a bucket refilling one
 * token an hour is still empty.
 */
class ClockSkewTest {

    private static final String POLICY = """
            domains:
              skew:
                rules:
                  - name: hourly
                    limits: [{name: hourly, algorithm: token_bucket, capacity: 5, refill: 1, refill_period: 1h, key: [k]}]
            """;

    @RegisterExtension
    final Closer closer = new Closer();

    @Test
    void aBucketMigratingToAMemberWithASkewedClockMintsNoTokens(@TempDir Path dir) throws Exception {
        Path faketime = Path.of("/usr/bin/faketime");
        assertTrue(Files.isExecutable(faketime), "this test needs libfaketime (Debian package faketime; .ci/run installs it)");
        Path policies = Files.writeString(dir.resolve("skew.yaml"), POLICY);
        String cluster = TestNodes.uniqueCluster("skew");
        var a = NodeProcess.Addresses.free();
        var b = NodeProcess.Addresses.free();
        List<String> members = List.of(a.member(), b.member());
        NodeProcess honest = NodeProcess.start("skew-honest", a, members, cluster, policies, Path.of("target", "node-logs"), List.of());
        closer.add(honest);
        honest.awaitServing();
        NodeProcess ahead = NodeProcess.start("skew-ahead", b, members, cluster, policies, Path.of("target", "node-logs"),
                List.of(faketime.toString(), "-f", "+1h"));
        closer.add(ahead);
        ahead.awaitServing();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> honest.output().contains("cluster of 2")
                || ahead.output().contains("cluster of 2"));

        int keys = 40;
        var stub = RateLimiterGrpc.newBlockingStub(honest.channel());
        for (int i = 0; i < keys; i++) {
            var r = stub.acquire(AcquireRequest.newBuilder().setDomain("skew").putDescriptors("k", "key-" + i).setCost(5).build());
            assertEquals(Decision.ALLOWED, r.getDecision());
        }
        honest.stop(); // graceful: its partitions move to the member an hour ahead

        var skewed = RateLimiterGrpc.newBlockingStub(ahead.channel());
        int minted = 0;
        long shortestRetrySeconds = Long.MAX_VALUE;
        for (int i = 0; i < keys; i++) {
            var r = skewed.acquire(AcquireRequest.newBuilder().setDomain("skew").putDescriptors("k", "key-" + i).build());
            if (r.getDecision() == Decision.ALLOWED) {
                minted++;
            } else {
                shortestRetrySeconds = Math.min(shortestRetrySeconds, r.getRetryAfter().getSeconds());
            }
        }
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("buckets", keys);
        figures.put("skew_seconds", 3600);
        figures.put("tokens_minted_after_migration", minted);
        figures.put("shortest_retry_after_seconds", shortestRetrySeconds);
        Figures.report("clock-skew", figures);
        assertEquals(0, minted, "no bucket refilled by an hour of skew");
        assertTrue(shortestRetrySeconds > 3000, "the next token is still about an hour away: " + shortestRetrySeconds + " s");
    }
}
