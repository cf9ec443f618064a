package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.node.NodeSettings;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Members over real TCP; while clients hammer two of them, a fourth member joins and a third
 * leaves gracefully. Partitions migrate both times, and the clients see not one failed Acquire;
 * every bucket keeps exactly what it had counted, and exhausted buckets stay exhausted.
 */
class JoinAndLeaveUnderLoadTest {

    @RegisterExtension
    final Closer closer = new Closer();

    @Test
    void aMemberJoiningAndAnotherLeavingMidLoadCauseNoFailedAcquireAndNoReset() throws Exception {
        ManualClock clock = ManualClock.fixed();
        List<NodeSettings> settings = TestNodes.cluster(TestNodes.uniqueCluster("membership"), clock,
                TestNodes.policies(CrashFailoverTest.POLICY), 4);
        List<SluiceNode> nodes = TestNodes.startAll(settings.subList(0, 3));
        nodes.forEach(closer::add);
        List<ManagedChannel> clientsTalkTo = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", nodes.get(i).port()).usePlaintext().build();
            closer.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
            clientsTalkTo.add(ch);
        }
        var stub = RateLimiterGrpc.newBlockingStub(clientsTalkTo.get(0));
        List<String> spent = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            spent.add("spent-" + i);
            stub.acquire(AcquireRequest.newBuilder().setDomain("crash").putDescriptors("kind", "spent")
                    .putDescriptors("k", "spent-" + i).setCost(20).build());
        }
        List<Map<String, String>> load = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            load.add(Map.of("kind", "counted", "k", "counted-" + i));
        }
        LoadClient clients = new LoadClient(16, () -> clientsTalkTo, "crash", load);
        closer.add(clients);

        Thread.sleep(1500); // real load on real members; the clock under test stands still
        long joinStarted = System.nanoTime();
        SluiceNode joining = TestNodes.start(settings.get(3));
        closer.add(joining);
        await().atMost(Duration.ofSeconds(60)).until(() -> nodes.get(0).hazelcast().getPartitionService().isClusterSafe()
                && nodes.get(0).hazelcast().getCluster().getMembers().size() == 4);
        long joinMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joinStarted);
        Thread.sleep(1500);
        long leaveStarted = System.nanoTime();
        nodes.get(2).close();
        await().atMost(Duration.ofSeconds(60)).until(() -> nodes.get(0).hazelcast().getPartitionService().isClusterSafe()
                && nodes.get(0).hazelcast().getCluster().getMembers().size() == 3);
        long leaveMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - leaveStarted);
        Thread.sleep(1500);
        clients.stop();

        Map<String, String> wrong = new LinkedHashMap<>();
        long acknowledged = 0;
        for (Map<String, String> d : load) {
            AcquireResponse probe = stub.acquire(AcquireRequest.newBuilder().setDomain("crash").putAllDescriptors(d).setDryRun(true).build());
            long consumed = 1_000_000_000L - (probe.getLimits(0).getRemaining() + 1);
            acknowledged += clients.admitted(d.get("k"));
            if (consumed != clients.admitted(d.get("k"))) {
                wrong.put(d.get("k"), "consumed " + consumed + ", acknowledged " + clients.admitted(d.get("k")) + "; retried: "
                        + clients.retried().get(d.get("k")));
            }
        }
        long refilled = spent.stream().filter(k -> stub.acquire(AcquireRequest.newBuilder().setDomain("crash")
                .putDescriptors("kind", "spent").putDescriptors("k", k).build()).getDecision() == Decision.ALLOWED).count();

        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("requests", clients.requests());
        figures.put("acknowledged_admissions", acknowledged);
        figures.put("failed_acquires", clients.errors());
        figures.put("slowest_request_ms", clients.slowestMillis());
        figures.put("ms_until_cluster_safe_after_join", joinMillis);
        figures.put("ms_until_cluster_safe_after_graceful_leave", leaveMillis);
        figures.put("buckets_reset", wrong.size() + refilled);
        Figures.report("join-and-graceful-leave", figures);

        // On failure, every retried request's attempts (node and status) and when the join and leave were slow.
        assertEquals(0, clients.errors(), "no Acquire failed: " + clients.errorKinds() + "; retried requests: " + clients.retried()
                + "; ms until safe after join " + joinMillis + ", after leave " + leaveMillis);
        assertEquals(Map.of(), wrong);
        assertEquals(0, refilled, "exhausted buckets stayed exhausted");
    }
}
