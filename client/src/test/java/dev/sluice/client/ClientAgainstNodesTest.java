package dev.sluice.client;

import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client against real nodes over real sockets: spreading calls, and carrying on when a node stops. */
class ClientAgainstNodesTest {

    private static final String POLICY = """
            domains:
              api:
                rules:
                  - name: per-user
                    limits: [{name: per-user, algorithm: token_bucket, capacity: 1000000, refill: 1000, key: [user]}]
              exports:
                rules:
                  - name: one-at-a-time
                    limits: [{name: one, algorithm: concurrency, limit: 1, lease: 1h, key: [org]}]
            """;

    private final List<SluiceNode> nodes = new ArrayList<>();
    private SluiceClient client;

    private void start(int count) {
        start(count, false);
    }

    private void start(int count, boolean streaming) {
        nodes.addAll(TestNodes.startAll(TestNodes.cluster(TestNodes.uniqueCluster("client"), ManualClock.fixed(),
                TestNodes.policies(POLICY), count)));
        // Streams retired every 20 requests, so where the first ones opened does not decide the spread.
        SluiceClient.Builder b = SluiceClient.builder().deadline(Duration.ofMillis(500)).streaming(streaming).requestsPerStream(20);
        nodes.forEach(n -> b.target("127.0.0.1:" + n.port()));
        client = b.build();
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        nodes.forEach(SluiceNode::close);
    }

    @Test
    void buildReturnsConnectedAndWithoutWaitingLongWhenNoNodeAnswers() throws Exception {
        start(1);
        assertEquals(io.grpc.ConnectivityState.READY, ((io.grpc.ManagedChannel) client.rawStub().getChannel()).getState(false),
                "build() waited for the connection");
        int nobody = dev.sluice.server.testing.Ports.free();
        try (SluiceClient alone = SluiceClient.builder().target("127.0.0.1:" + nobody).awaitConnection(Duration.ofMillis(200)).build()) {
            assertTrue(((io.grpc.ManagedChannel) alone.rawStub().getChannel()).getState(false) != io.grpc.ConnectivityState.READY);
            assertTrue(alone.acquire(Acquire.domain("d").with("k", "v")).failure().isPresent(), "the failure mode answers");
        }
    }

    @ParameterizedTest(name = "streaming {0}")
    @ValueSource(booleans = {true, false})
    void aSlotGivenBackByClosingAPermitIsFreeForTheNextAcquire(boolean streaming) {
        start(3, streaming);
        await().atMost(Duration.ofSeconds(10)).until(() -> client.nodes().size() == 3);
        // One slot, taken and given back in turn by one caller: each acquire comes after the close
        // before it returned, so each finds the slot free (the release and the next acquire go to
        // different nodes, on different calls; a lease of an hour never frees it by itself).
        for (int i = 0; i < 100; i++) {
            try (Permit p = client.acquirePermit(Acquire.domain("exports").with("org", "o"))) {
                assertEquals(AcquireResult.Source.SERVER, p.result().source(), "acquire " + i + ": " + p.result());
                assertTrue(p.allowed(), "acquire " + i + " after the close before it: " + p.result());
            }
        }
    }

    @Test
    void callsAreSpreadRoundRobinOverEveryNode() {
        spreadOverEveryNode(false);
    }

    @Test
    void streamedRequestsAreSpreadOverEveryNode() {
        spreadOverEveryNode(true);
    }

    private void spreadOverEveryNode(boolean streaming) {
        start(3, streaming);
        await().atMost(Duration.ofSeconds(10)).until(() -> client.nodes().size() == 3);
        for (int i = 0; i < 300; i++) {
            assertEquals(AcquireResult.Source.SERVER, client.acquire(Acquire.domain("api").with("user", "u" + (i % 7))).source());
        }
        for (SluiceNode n : nodes) {
            assertTrue(n.callsReceived() >= 60, "each node gets its share: " + nodes.stream().map(SluiceNode::callsReceived).toList());
        }
    }

    @Test
    void callsKeepSucceedingOnTheOtherNodesWhenOneStopsMidRun() {
        keepsSucceedingWhenOneStops(false);
        assertTrue(nodes.get(0).callsReceived() + nodes.get(1).callsReceived() >= 2000,
                "the calls after the node left went to the others: " + nodes.stream().map(SluiceNode::callsReceived).toList());
    }

    @Test
    void streamedRequestsKeepSucceedingOnTheOtherNodesWhenOneStopsMidRun() {
        keepsSucceedingWhenOneStops(true);
    }

    private void keepsSucceedingWhenOneStops(boolean streaming) {
        start(3, streaming);
        await().atMost(Duration.ofSeconds(10)).until(() -> client.nodes().size() == 3);
        Map<AcquireResult.Source, Integer> sources = new EnumMap<>(AcquireResult.Source.class);
        List<String> failures = new ArrayList<>();
        long slowest = 0;
        CompletableFuture<Void> stopping = null;
        for (int i = 0; i < 3000; i++) {
            if (i == 1000) {
                SluiceNode leaving = nodes.get(2);
                stopping = CompletableFuture.runAsync(leaving::close);
            }
            long t0 = System.nanoTime();
            AcquireResult r = client.acquire(Acquire.domain("api").with("user", "u" + (i % 13)));
            slowest = Math.max(slowest, System.nanoTime() - t0);
            sources.merge(r.source(), 1, Integer::sum);
            int call = i;
            r.failure().ifPresent(f -> failures.add("call " + call + " after " + Duration.ofNanos(System.nanoTime() - t0).toMillis()
                    + " ms: " + f));
        }
        stopping.join();
        assertEquals(Map.of(AcquireResult.Source.SERVER, 3000), sources, "every call was answered by a node; " + failures);
        assertTrue(slowest < Duration.ofMillis(1500).toNanos(), "no call hung past its 500 ms deadline: slowest "
                + Duration.ofNanos(slowest).toMillis() + " ms");
    }
}
