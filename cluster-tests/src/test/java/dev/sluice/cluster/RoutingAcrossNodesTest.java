package dev.sluice.cluster;

import dev.sluice.client.Acquire;
import dev.sluice.client.AcquireResult;
import dev.sluice.client.SluiceClient;
import dev.sluice.server.node.NodeSettings;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.Scrape;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three members over TCP and the Java client over real sockets: once the client has learned
 * where requests' buckets live, it sends each to the node owning its bucket, so that no decision
 * costs a call to another member (counted by each member's {@code sluice_decision_bucket_calls_total});
 * the same requests without routing go to another member for about two thirds of them. Routing
 * changes where a request is decided, never the answer: every bucket counts every request. When
 * a node leaves, requests are still answered by the nodes left, and routed again once the client
 * has their new table.
 */
class RoutingAcrossNodesTest {

    private static final String POLICY = """
            domains:
              api:
                rules:
                  - name: per-user
                    limits:
                      - {name: burst, algorithm: token_bucket, capacity: 100000, refill: 1, refill_period: 1h, key: [user]}
            """;
    private static final int USERS = 300;
    private static final int CAPACITY = 100_000;

    @RegisterExtension
    final Closer closer = new Closer();

    /** Requests each user's bucket has counted, as the test made them. */
    private final int[] asked = new int[USERS];

    @ParameterizedTest(name = "streaming {0}")
    @ValueSource(booleans = {true, false})
    void eachRequestGoesToTheNodeOwningItsBucket(boolean streaming) {
        List<SluiceNode> nodes = cluster();
        SluiceClient routed = closer.add(client(nodes, streaming, 50_000));
        round(routed); // each user's first answer names its partition
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            double before = remoteCalls(nodes);
            round(routed);
            assertEquals(0, remoteCalls(nodes) - before, "calls to another member in a round of " + USERS + " routed requests");
        });
        assertEveryRequestCounted(routed);

        SluiceClient roundRobin = closer.add(client(nodes, streaming, 0));
        double before = remoteCalls(nodes);
        round(roundRobin);
        double remote = remoteCalls(nodes) - before;
        assertTrue(remote > USERS / 3.0, "without routing, " + remote + " of " + USERS + " requests went to another member");
        assertEveryRequestCounted(roundRobin);
    }

    @Test
    void aNodeLeavingCostsAHopNeverAnAnswer() {
        List<SluiceNode> nodes = cluster();
        SluiceClient client = closer.add(client(nodes, true, 50_000));
        round(client);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            double before = remoteCalls(nodes);
            round(client);
            assertEquals(0, remoteCalls(nodes) - before);
        });

        nodes.get(2).close();
        List<SluiceNode> left = nodes.subList(0, 2);
        // The client's table still names the node gone for a third of the buckets: those requests go to another node.
        round(client);
        assertEveryRequestCounted(client);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            double before = remoteCalls(left);
            round(client);
            assertEquals(0, remoteCalls(left) - before, "calls to another member once the client has the table of the two left");
        });
        assertEveryRequestCounted(client);
    }

    private List<SluiceNode> cluster() {
        List<NodeSettings> settings = new ArrayList<>();
        for (NodeSettings s : TestNodes.cluster(TestNodes.uniqueCluster("routing"), ManualClock.fixed(), TestNodes.policies(POLICY), 3)) {
            settings.add(s.toBuilder().metricsPort(Ports.free()).build());
        }
        List<SluiceNode> nodes = TestNodes.startAll(settings);
        nodes.forEach(closer::add);
        return nodes;
    }

    private static SluiceClient client(List<SluiceNode> nodes, boolean streaming, int routing) {
        List<String> targets = nodes.stream().map(n -> "127.0.0.1:" + n.port()).toList();
        // A long deadline: this machine's cores are shared by three members, so an answer is never the failure mode's.
        return SluiceClient.builder().targets(targets).streaming(streaming).routing(routing).deadline(Duration.ofSeconds(10))
                .refreshInterval(Duration.ofMillis(500)).denialCache(false).build();
    }

    /** Asks once for every user; every answer must be a node's, allowing. */
    private void round(SluiceClient client) {
        for (int u = 0; u < USERS; u++) {
            AcquireResult r = client.acquire(Acquire.domain("api").with("user", "user-" + u));
            assertEquals(AcquireResult.Source.SERVER, r.source(), "user-" + u + ": " + r);
            assertTrue(r.allowed(), "user-" + u + ": " + r);
            asked[u]++;
        }
    }

    /**
     * Every user's bucket has counted exactly the requests made of it, read with dry runs: they
     * consume nothing and answer as if made, so with one less remaining.
     */
    private void assertEveryRequestCounted(SluiceClient client) {
        for (int u = 0; u < USERS; u++) {
            AcquireResult r = client.acquire(Acquire.domain("api").with("user", "user-" + u).dryRun());
            assertEquals(CAPACITY - asked[u] - 1, r.limits().get(0).remaining(), "user-" + u + " after " + asked[u] + " requests");
        }
    }

    private static double remoteCalls(List<SluiceNode> nodes) {
        return nodes.stream().mapToDouble(n -> Scrape.of(n.metricsPort()).sum("sluice_decision_bucket_calls_total", "partition", "remote"))
                .sum();
    }
}
