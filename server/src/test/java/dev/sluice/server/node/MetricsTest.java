package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.Scrape;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node's {@code /metrics}, scraped over HTTP: decisions counted exactly by domain, rule, limit
 * and outcome, labels only from the policy's names, series that do not grow with the keys, RPC
 * times and errors, the policy in force, and a scrape Prometheus's own {@code promtool} accepts.
 */
class MetricsTest {

    private static final String POLICY = """
            domains:
              shop:
                metrics_label: tier
                tables:
                  plans:
                    by: [tier]
                    columns: [capacity]
                    rows:
                      - [free, 10]
                      - ["*", 10]
                rules:
                  - name: per-user
                    limits:
                      - {name: burst, algorithm: token_bucket, numbers: plans, refill: 1, refill_period: 1h, key: [user]}
                  - name: trial
                    shadow: true
                    limits: [{name: trial, algorithm: token_bucket, capacity: 2, refill: 1, refill_period: 1h, key: [user]}]
              plain:
                rules:
                  - {name: r, limits: [{name: l, algorithm: fixed_window, limit: 5, window: 1h, key: [k]}]}
            """;

    private SluiceNode node;
    private ManagedChannel channel;

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (node != null) {
            node.close();
        }
    }

    private RateLimiterGrpc.RateLimiterBlockingStub start(String policy) {
        node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("metrics"), ManualClock.fixed())
                .policies(TestNodes.policies(policy)).metricsPort(Ports.free()).build());
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        return RateLimiterGrpc.newBlockingStub(channel);
    }

    private static AcquireRequest shop(String user, String tier) {
        AcquireRequest.Builder r = AcquireRequest.newBuilder().setDomain("shop").putDescriptors("user", user);
        if (tier != null) {
            r.putDescriptors("tier", tier);
        }
        return r.build();
    }

    @Test
    void decisionsAreCountedExactlyByLimitAndOutcomeWithTheDomainsLabel() {
        var stub = start(POLICY);
        int allowed = 0;
        for (int i = 0; i < 12; i++) {
            allowed += stub.acquire(shop("u1", "free")).getDecision() == Decision.ALLOWED ? 1 : 0;
        }
        assertEquals(10, allowed);
        stub.acquire(shop("u2", "gold"));
        stub.acquire(shop("u3", null));
        stub.acquire(shop("u4", "free").toBuilder().setDryRun(true).build());

        Scrape s = Scrape.of(node.metricsPort());
        // u1's twelve: the burst limit allowed eight with at least 2 of 10 left, two nearer, denied two;
        // the shadow trial allowed one, then one near its limit, then would have denied ten.
        assertEquals(8, s.sum("sluice_limit_decisions_total", "limit", "burst", "outcome", "allowed", "label", "free"));
        assertEquals(2, s.sum("sluice_limit_decisions_total", "limit", "burst", "outcome", "near_limit", "label", "free"));
        assertEquals(2, s.sum("sluice_limit_decisions_total", "limit", "burst", "outcome", "denied", "label", "free"));
        assertEquals(1, s.sum("sluice_limit_decisions_total", "limit", "trial", "outcome", "allowed", "label", "free"));
        assertEquals(1, s.sum("sluice_limit_decisions_total", "limit", "trial", "outcome", "near_limit", "label", "free"));
        assertEquals(10, s.sum("sluice_limit_decisions_total", "limit", "trial", "outcome", "shadow_denied", "label", "free"));
        assertEquals(0, s.sum("sluice_limit_decisions_total", "limit", "trial", "outcome", "denied"));
        assertEquals(10, s.sum("sluice_decisions_total", "domain", "shop", "decision", "allowed", "label", "free"));
        assertEquals(2, s.sum("sluice_decisions_total", "domain", "shop", "decision", "denied", "label", "free"));
        // A tier the policy does not list is "other"; none at all is "none"; dry runs are counted apart.
        assertEquals(1, s.sum("sluice_decisions_total", "domain", "shop", "label", "other"));
        assertEquals(1, s.sum("sluice_decisions_total", "domain", "shop", "label", "none"));
        assertEquals(1, s.sum("sluice_dry_runs_total", "domain", "shop"));
        assertEquals(2, s.sum("sluice_limit_decisions_total", "limit", "burst", "label", "other")
                + s.sum("sluice_limit_decisions_total", "limit", "burst", "label", "none"));
        // The rule is the policy's name for it, and no label ever carries a descriptor's value other than a listed tier.
        assertEquals(12, s.sum("sluice_limit_decisions_total", "rule", "per-user", "label", "free"));
        for (Scrape.Sample sample : s.samples()) {
            assertTrue(!sample.labels().containsValue("u1") && !sample.labels().containsValue("gold"), sample.toString());
        }
    }

    @Test
    void rpcTimesErrorsAndThePolicyInForceAreExported() {
        var stub = start(POLICY);
        stub.acquire(shop("u1", "free"));
        assertThrows(StatusRuntimeException.class, () -> stub.acquire(AcquireRequest.newBuilder().setDomain("nowhere").build()));
        stub.acquireBatch(AcquireBatchRequest.newBuilder().addRequests(shop("u5", "free"))
                .addRequests(AcquireRequest.newBuilder().setDomain("").build()).build());

        Scrape s = Scrape.of(node.metricsPort());
        assertEquals(2, s.sum("sluice_rpc_duration_seconds_count", "rpc", "Acquire"));
        assertEquals(1, s.sum("sluice_rpc_duration_seconds_count", "rpc", "AcquireBatch"));
        assertTrue(s.find("sluice_rpc_duration_seconds_bucket", "rpc", "Acquire", "le", "5.0E-5").size() == 1, "a 50 µs bucket");
        assertTrue(s.find("sluice_rpc_duration_seconds_bucket", "rpc", "Acquire", "le", "1.0").size() == 1, "a 1 s bucket");
        assertEquals(1, s.sum("sluice_rpc_errors_total", "rpc", "Acquire", "code", "NOT_FOUND"));
        assertEquals(1, s.sum("sluice_rpc_errors_total", "rpc", "AcquireBatch", "code", "INVALID_ARGUMENT"));
        assertEquals(1, s.find("sluice_policy_info", "version", node.policies().version()).size());
        assertEquals(1, s.sum("sluice_cluster_members"));
        assertEquals(node.settings().partitionCount(), s.sum("sluice_owned_partitions"));
        assertTrue(s.sum("sluice_buckets", "copy", "owned") >= 2);
        assertTrue(s.sum("sluice_requests_received_total") >= 4);
        assertTrue(s.find("jvm_memory_used_bytes").size() > 0, "the JVM's own metrics");
        assertTrue(s.find("process_cpu_usage").size() == 1);
        assertTrue(s.sum("process_cpu_seconds_total") > 0, "the process's CPU time, in seconds");
    }

    @Test
    void theSeriesAreBoundedByThePolicyNotByTheKeys() {
        StringBuilder policy = new StringBuilder("domains:\n  wide:\n    rules:\n");
        for (int r = 0; r < 10; r++) {
            policy.append("      - name: rule-").append(r).append("\n        match: {group: g").append(r).append("}\n        limits:\n");
            for (int l = 0; l < 5; l++) {
                policy.append("          - {name: limit-").append(r).append('-').append(l)
                        .append(", algorithm: token_bucket, capacity: 100, refill: 1, key: [user]}\n");
            }
        }
        var stub = start(policy.toString());
        long seriesAfterFirst = 0;
        Scrape first = null;
        for (int batch = 0; batch < 100; batch++) {
            AcquireBatchRequest.Builder b = AcquireBatchRequest.newBuilder();
            for (int i = 0; i < 1000; i++) {
                b.addRequests(AcquireRequest.newBuilder().setDomain("wide").putDescriptors("group", "g" + i % 10)
                        .putDescriptors("user", "user-" + (batch * 1000 + i)));
            }
            assertEquals(1000, stub.acquireBatch(b.build()).getResultsCount());
            if (batch == 0) {
                first = Scrape.of(node.metricsPort());
                seriesAfterFirst = sluiceSeries(first);
            }
        }
        Scrape after = Scrape.of(node.metricsPort());
        java.util.Set<String> before = names(first);
        assertEquals(seriesAfterFirst, sluiceSeries(after), "100,000 keys later, the same series; new: "
                + names(after).stream().filter(n -> !before.contains(n)).toList());
        assertEquals(100_000 * 5, after.sum("sluice_limit_decisions_total", "domain", "wide"), "each request meets its group's five limits");
        assertEquals(50, after.find("sluice_limit_decisions_total", "domain", "wide", "outcome", "allowed").size(), "all 50 limits met");
        assertEquals(0, after.sum("sluice_rpc_errors_total"));
        assertTrue(seriesAfterFirst < 385, "about 50 limits × 4 outcomes and the node's own (the latency histogram of each of six RPCs among them): "
                + seriesAfterFirst);
    }

    private static java.util.Set<String> names(Scrape s) {
        return s.samples().stream().filter(x -> x.name().startsWith("sluice_")).map(x -> x.name() + x.labels())
                .collect(java.util.stream.Collectors.toSet());
    }

    private static long sluiceSeries(Scrape s) {
        return s.samples().stream().filter(x -> x.name().startsWith("sluice_")).count();
    }

    @Test
    void prometheusTextByDefaultOpenMetricsWhenAskedAndPromtoolAcceptsTheScrape() throws Exception {
        var stub = start(POLICY);
        for (int i = 0; i < 12; i++) {
            stub.acquire(shop("u1", "free"));
        }
        HttpResponse<String> text = Scrape.fetch(node.metricsPort(), null);
        assertEquals(200, text.statusCode());
        assertTrue(text.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"), text.headers().toString());
        HttpResponse<String> open = Scrape.fetch(node.metricsPort(),
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        assertTrue(open.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"), open.headers().toString());
        assertTrue(open.body().endsWith("# EOF\n"), "OpenMetrics ends with # EOF");

        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        promtool.getOutputStream().write(text.body().getBytes(StandardCharsets.UTF_8));
        promtool.getOutputStream().close();
        String said = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(promtool.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, promtool.exitValue(), "promtool check metrics:\n" + said);

        HttpResponse<String> elsewhere = Scrape.fetch(node.metricsPort(), null);
        assertEquals(200, elsewhere.statusCode());
    }
}
