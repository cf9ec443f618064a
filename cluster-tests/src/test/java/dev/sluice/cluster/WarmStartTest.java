package dev.sluice.cluster;

import dev.sluice.client.Acquire;
import dev.sluice.client.AcquireResult;
import dev.sluice.client.SluiceClient;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node warms its decision path before it reports SERVING: the warm-up's decisions are made, and
 * logged, before health turns SERVING. Then a client just built with the default 50 ms deadline,
 * in a service whose client code has run before, sends 1,000 requests at once: the warmed node
 * answers every one of them in time, none by the client's failure mode. A node started with
 * {@code --warm-up 0} is measured the same way, as a figure (it answers none in time on two
 * cores); when each hundredth request was sent and answered, and the node's own decision times,
 * are printed for a run that fails.
 */
class WarmStartTest {

    private static final String POLICY = """
            domains:
              api:
                rules:
                  - name: per-user
                    limits: [{name: per-user, algorithm: token_bucket, capacity: 100, refill: 10, key: [user]}]
            """;

    @RegisterExtension
    final Closer closer = new Closer();

    @Test
    void aWarmedNodeAnswersTheFirstThousandRequestsInTime() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "node-logs"));
        Path policies = Files.writeString(dir.resolve("warm-policies.yaml"), POLICY);

        warmTheClientCode();
        Burst warm = burst(dir, policies, "warm", List.of("--warm-up", "10000"));
        Burst cold = burst(dir, policies, "cold", List.of("--warm-up", "0"));

        assertTrue(warm.warmUpDecisions >= 10_000, "the warm-up made its decisions: " + warm);
        assertTrue(warm.warmedBeforeServing, "health turned SERVING only once the warm-up was over");
        assertEquals(0, cold.warmUpDecisions, "--warm-up 0 warms nothing");
        assertEquals(1000, warm.fromNode + warm.failureMode);
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("warm_up_decisions", warm.warmUpDecisions);
        figures.put("warm_up_ms", warm.warmUpMillis);
        figures.put("warm_up_settled", warm.settled);
        figures.put("warmed_failure_mode_of_1000", warm.failureMode);
        figures.put("warmed_burst_ms", warm.burstMillis);
        figures.put("cold_failure_mode_of_1000", cold.failureMode);
        figures.put("cold_burst_ms", cold.burstMillis);
        Figures.report("WarmStartTest", figures);
        assertEquals(0, warm.failureMode, "a warmed node answers the first 1,000 requests within the default deadline: " + warm);
    }

    /** The service's own history: its client code has run before, against another node (in this JVM). */
    private static void warmTheClientCode() throws Exception {
        try (SluiceNode earlier = TestNodes.single(TestNodes.uniqueCluster("earlier"), ManualClock.fixed(), TestNodes.policies(POLICY));
             SluiceClient client = SluiceClient.builder().target("127.0.0.1:" + earlier.port()).build()) {
            for (int round = 0; round < 30; round++) {
                List<CompletableFuture<AcquireResult>> answers = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    answers.add(client.acquireAsync(Acquire.domain("api").with("user", "earlier-" + round + "-" + i)));
                }
                for (CompletableFuture<AcquireResult> a : answers) {
                    a.get(30, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** The node's histogram of decision times on streams, as {@code le: count} pairs, empty buckets left out. */
    private static List<String> nodeLatencies(int metricsPort) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> scrape = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofLines());
        Pattern bucket = Pattern.compile("sluice_rpc_duration_seconds_bucket\\{.*rpc=\"AcquireStream\".*le=\"([^\"]+)\".*} (\\S+)");
        return scrape.body().map(bucket::matcher).filter(Matcher::matches).filter(m -> Double.parseDouble(m.group(2)) > 0)
                .map(m -> m.group(1) + ": " + (long) Double.parseDouble(m.group(2))).toList();
    }

    private record Burst(int fromNode, int failureMode, long burstMillis, long warmUpDecisions, long warmUpMillis,
                         boolean warmedBeforeServing, boolean settled) {
    }

    private static final Pattern WARMED = Pattern.compile("warmed the decision path with (\\d+) decisions in (\\d+) ms");

    private Burst burst(Path dir, Path policies, String name, List<String> flags) throws Exception {
        NodeProcess.Addresses ports = NodeProcess.Addresses.free();
        NodeProcess node = closer.add(NodeProcess.start(name, ports, List.of(ports.member()), TestNodes.uniqueCluster(name), policies, dir,
                List.of(), List.of("-Xmx256m"), flags));
        node.awaitServing();
        try (SluiceClient client = SluiceClient.builder().target("127.0.0.1:" + ports.port()).build()) {
            long t0 = System.nanoTime();
            List<CompletableFuture<AcquireResult>> answers = new ArrayList<>();
            long[] sent = new long[1000];
            long[] came = new long[1000];
            for (int i = 0; i < 1000; i++) {
                int index = i;
                sent[i] = System.nanoTime() - t0;
                answers.add(client.acquireAsync(Acquire.domain("api").with("user", "user-" + i))
                        .whenComplete((r, e) -> came[index] = System.nanoTime() - t0));
            }
            int fromNode = 0;
            int failureMode = 0;
            Map<String, Integer> reasons = new LinkedHashMap<>();
            for (CompletableFuture<AcquireResult> a : answers) {
                AcquireResult r = a.get(30, TimeUnit.SECONDS);
                if (r.source() == AcquireResult.Source.SERVER) {
                    fromNode++;
                } else {
                    failureMode++;
                    reasons.merge(String.valueOf(r.failure()), 1, Integer::sum);
                }
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            StringBuilder when = new StringBuilder();
            for (int i = 0; i < 1000; i += 100) {
                when.append(String.format(" %d: %.1f/%.1f", i, sent[i] / 1e6, came[i] / 1e6));
            }
            System.out.println(name + ": ms after the first send that request n was sent/answered:" + when + ", failure modes "
                    + reasons + "; the node's own decision times (AcquireStream, cumulative): " + nodeLatencies(ports.metricsPort()));
            String log = node.output();
            Matcher m = WARMED.matcher(log);
            boolean warmed = m.find();
            int serving = log.indexOf("Sluice node serving");
            return new Burst(fromNode, failureMode, millis, warmed ? Long.parseLong(m.group(1)) : 0, warmed ? Long.parseLong(m.group(2)) : 0,
                    warmed && serving > m.start(), warmed && !log.contains("it had not settled"));
        } finally {
            node.stop();
        }
    }
}
