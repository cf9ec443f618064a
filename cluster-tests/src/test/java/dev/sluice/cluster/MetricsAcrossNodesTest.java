package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.node.NodeSettings;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.Scrape;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three members over TCP, a mix of allowed, denied and shadow-denied requests spread over them:
 * the decision counters scraped from the three {@code /metrics} endpoints sum exactly to the
 * decisions the callers saw, by limit and outcome, wherever each bucket lives.
 */
class MetricsAcrossNodesTest {

    private static final String POLICY = """
            domains:
              api:
                rules:
                  - name: per-user
                    limits:
                      - {name: burst, algorithm: token_bucket, capacity: 10, refill: 1, refill_period: 1h, key: [user]}
                  - name: trial
                    shadow: true
                    limits: [{name: trial, algorithm: fixed_window, limit: 4, window: 1h, key: [user]}]
            """;

    @RegisterExtension
    final Closer closer = new Closer();

    @Test
    void theThreeScrapesSumToTheDecisionsMade() {
        List<NodeSettings> settings = new ArrayList<>();
        for (NodeSettings s : TestNodes.cluster(TestNodes.uniqueCluster("metrics"), ManualClock.fixed(), TestNodes.policies(POLICY), 3)) {
            settings.add(s.toBuilder().metricsPort(Ports.free()).build());
        }
        List<SluiceNode> nodes = TestNodes.startAll(settings);
        nodes.forEach(closer::add);
        List<ManagedChannel> channels = new ArrayList<>();
        for (SluiceNode n : nodes) {
            ManagedChannel c = ManagedChannelBuilder.forAddress("127.0.0.1", n.port()).usePlaintext().build();
            channels.add(c);
            closer.add((AutoCloseable) c::shutdownNow);
        }
        // What the callers saw, counted on their side: per limit and outcome, with the node's near-limit rule (under 20% left).
        Map<String, Integer> seen = new HashMap<>();
        int allowed = 0;
        int denied = 0;
        for (int user = 0; user < 40; user++) {
            int requests = 3 + user % 11;
            for (int i = 0; i < requests; i++) {
                ManagedChannel c = channels.get((user + i) % channels.size());
                AcquireResponse r = RateLimiterGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .acquire(AcquireRequest.newBuilder().setDomain("api").putDescriptors("user", "user-" + user).build());
                if (r.getDecision() == Decision.ALLOWED) {
                    allowed++;
                } else {
                    denied++;
                }
                for (LimitStatus l : r.getLimitsList()) {
                    seen.merge(l.getName() + "/" + outcome(l), 1, Integer::sum);
                }
            }
        }
        assertTrue(seen.containsKey("burst/denied") && seen.containsKey("trial/shadow_denied") && seen.containsKey("burst/near_limit"),
                "the mix has every outcome: " + seen);

        List<Scrape> scrapes = nodes.stream().map(n -> Scrape.of(n.metricsPort())).toList();
        for (Map.Entry<String, Integer> e : seen.entrySet()) {
            String[] lo = e.getKey().split("/");
            double sum = scrapes.stream().mapToDouble(s -> s.sum("sluice_limit_decisions_total", "limit", lo[0], "outcome", lo[1])).sum();
            assertEquals(e.getValue(), (int) sum, e.getKey());
        }
        double totalLimit = scrapes.stream().mapToDouble(s -> s.sum("sluice_limit_decisions_total")).sum();
        assertEquals(seen.values().stream().mapToInt(Integer::intValue).sum(), (int) totalLimit, "no outcome counted that a caller did not see");
        assertEquals(allowed, (int) scrapes.stream().mapToDouble(s -> s.sum("sluice_decisions_total", "decision", "allowed")).sum());
        assertEquals(denied, (int) scrapes.stream().mapToDouble(s -> s.sum("sluice_decisions_total", "decision", "denied")).sum());
        for (Scrape s : scrapes) {
            assertEquals(3, s.sum("sluice_cluster_members"));
            assertTrue(s.sum("sluice_decisions_total") > 0, "every node decided some");
        }
        assertEquals(nodes.get(0).settings().partitionCount(), (int) scrapes.stream().mapToDouble(s -> s.sum("sluice_owned_partitions")).sum());
    }

    /** The outcome a limit's status shows: what the node counts, read from the answer. */
    private static String outcome(LimitStatus l) {
        boolean shadow = l.getName().equals("trial");
        if (l.getDecision() == Decision.DENIED) {
            return shadow ? "shadow_denied" : "denied";
        }
        return l.getRemaining() < 0.2 * l.getLimit() ? "near_limit" : "allowed";
    }
}
