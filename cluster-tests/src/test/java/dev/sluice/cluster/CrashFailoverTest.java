package dev.sluice.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.policy.Domain;
import dev.sluice.server.store.BucketKey;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.Clock;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Three nodes in JVMs of their own; the owner of hot buckets is killed with SIGKILL in the middle
 * of the load. Clients retry failed requests on the other nodes with the same request id. After
 * failover every bucket holds exactly the consumption the clients saw acknowledged: none lost,
 * none counted twice; exhausted buckets stay exhausted. The clients' error window is measured.
 */
class CrashFailoverTest {

    static final String POLICY = """
            domains:
              crash:
                rules:
                  - name: counted
                    match: {kind: counted}
                    limits: [{name: counted, algorithm: fixed_window, limit: 1000000000, window: 36500d, key: [k]}]
                  - name: spent
                    match: {kind: spent}
                    limits: [{name: spent, algorithm: token_bucket, capacity: 20, refill: 1, refill_period: 1h, key: [k]}]
            """;

    @RegisterExtension
    final Closer closer = new Closer();

    @Test
    void killingTheOwnerOfHotBucketsLosesNoAcknowledgedConsumptionAndCountsNothingTwice(@TempDir Path dir) throws Exception {
        Path policies = Files.writeString(dir.resolve("crash.yaml"), POLICY);
        Domain domain = PolicyLoader.parse(POLICY, "crash.yaml").domain("crash");
        String cluster = TestNodes.uniqueCluster("crash");
        List<NodeProcess.Addresses> addresses = List.of(NodeProcess.Addresses.free(), NodeProcess.Addresses.free(),
                NodeProcess.Addresses.free());
        List<String> members = addresses.stream().map(NodeProcess.Addresses::member).toList();
        List<NodeProcess> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            NodeProcess node = NodeProcess.start("crash-node-" + i, addresses.get(i), members, cluster, policies,
                    Path.of("target", "node-logs"), List.of());
            closer.add(node);
            nodes.add(node);
        }
        nodes.forEach(NodeProcess::awaitServing);

        // A data-less member in this JVM tells which node owns which bucket.
        int litePort = Ports.free();
        List<String> withLite = new ArrayList<>(members);
        withLite.add("127.0.0.1:" + litePort);
        Config liteConfig = TestMembers.config(cluster, Clock.system(), litePort, withLite).setLiteMember(true);
        HazelcastInstance lite = Hazelcast.newHazelcastInstance(liteConfig);
        closer.add(() -> lite.getLifecycleService().terminate());
        await().atMost(Duration.ofSeconds(60)).until(() -> lite.getCluster().getMembers().size() == 4);

        NodeProcess victim = nodes.get(2);
        List<String> hot = keysOwnedBy(lite, domain, "counted", victim.memberPort(), 6);
        hot.addAll(keysOwnedBy(lite, domain, "counted", nodes.get(0).memberPort(), 2));
        List<String> spent = keysOwnedBy(lite, domain, "spent", victim.memberPort(), 10);

        var stub = RateLimiterGrpc.newBlockingStub(nodes.get(0).channel());
        for (String k : spent) {
            AcquireRequest r = AcquireRequest.newBuilder().setDomain("crash").putDescriptors("kind", "spent")
                    .putDescriptors("k", k).setCost(20).build();
            assertEquals(Decision.ALLOWED, stub.acquire(r).getDecision());
        }

        List<ManagedChannel> live = new CopyOnWriteArrayList<>(nodes.stream().map(NodeProcess::channel).toList());
        List<Map<String, String>> load = hot.stream().map(k -> Map.of("kind", "counted", "k", k)).toList();
        LoadClient clients = new LoadClient(24, () -> live, "crash", load);
        closer.add(clients);
        Thread.sleep(3000); // load before the crash: real time on real processes, not a clock under test
        long killedAt = System.nanoTime();
        victim.kill();
        live.remove(victim.channel());
        Thread.sleep(TimeUnit.SECONDS.toMillis(Long.getLong("sluice.soakSeconds", 6)));
        clients.stop();
        long recovered = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);

        long acknowledged = 0;
        long mismatch = 0;
        Map<String, String> wrong = new LinkedHashMap<>();
        for (String k : hot) {
            AcquireResponse probe = RateLimiterGrpc.newBlockingStub(nodes.get(1).channel()).acquire(AcquireRequest.newBuilder()
                    .setDomain("crash").putDescriptors("kind", "counted").putDescriptors("k", k).setDryRun(true).build());
            long consumed = 1_000_000_000L - (probe.getLimits(0).getRemaining() + 1);
            acknowledged += clients.admitted(k);
            mismatch += Math.abs(consumed - clients.admitted(k));
            if (consumed != clients.admitted(k)) {
                wrong.put(k, "consumed " + consumed + ", acknowledged " + clients.admitted(k) + "; retried: " + clients.retried().get(k));
            }
        }
        int stillSpent = 0;
        for (String k : spent) {
            AcquireResponse r = RateLimiterGrpc.newBlockingStub(nodes.get(1).channel()).acquire(AcquireRequest.newBuilder()
                    .setDomain("crash").putDescriptors("kind", "spent").putDescriptors("k", k).build());
            stillSpent += r.getDecision() == Decision.DENIED ? 1 : 0;
        }

        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("requests", clients.requests());
        figures.put("acknowledged_admissions", acknowledged);
        figures.put("hot_buckets_on_killed_member", 6);
        figures.put("units_lost_or_counted_twice", mismatch);
        figures.put("exhausted_buckets_refilled_by_failover", spent.size() - stillSpent);
        figures.put("client_errors", clients.errors());
        figures.put("client_error_kinds", clients.errorKinds().toString());
        figures.put("error_window_ms", clients.errorWindowMillis());
        figures.put("requests_abandoned", clients.abandoned());
        figures.put("ms_from_kill_to_end_of_run", recovered);
        Figures.report("crash-failover", figures);

        assertEquals(0, clients.abandoned(), "every request was answered in the end");
        assertEquals(Map.of(), wrong, "every bucket consumed exactly what was acknowledged: none lost, none twice");
        assertEquals(spent.size(), stillSpent, "exhausted buckets owned by the killed member stay exhausted");
    }

    /** {@code count} values of descriptor k whose bucket for limit {@code kind} is owned by the member on {@code memberPort}. */
    static List<String> keysOwnedBy(HazelcastInstance lite, Domain domain, String kind, int memberPort, int count) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; keys.size() < count; i++) {
            String k = kind + "-" + memberPort + "-" + i;
            String bucket = domain.resolve(Map.of("kind", kind, "k", k)).get(0).bucketKey();
            Member owner = lite.getPartitionService().getPartition(BucketKey.of(bucket)).getOwner();
            if (owner != null && owner.getAddress().getPort() == memberPort) {
                keys.add(k);
            }
        }
        return keys;
    }
}
