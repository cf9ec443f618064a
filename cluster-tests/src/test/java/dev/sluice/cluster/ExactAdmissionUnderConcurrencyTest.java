package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three members over real TCP, sixteen client threads spreading their calls over all three
 * nodes, hot keys hammered three times past their limits and cold keys touched once: every
 * algorithm (and a fixed window with a trickle) admits exactly what it allows, not one more, and
 * denials under all-or-nothing leave the other limit of the request untouched.
 */
class ExactAdmissionUnderConcurrencyTest {

    private static final int THREADS = 16;
    private static final int LIMIT = 500;
    private static final String POLICY = """
            domains:
              load:
                rules:
                  - {name: tb, match: {algo: tb}, limits: [{name: tb, algorithm: token_bucket, capacity: 500, refill: 100, key: [k]}]}
                  - {name: lb, match: {algo: lb}, limits: [{name: lb, algorithm: leaky_bucket, capacity: 500, leak: 100, key: [k]}]}
                  - {name: fw, match: {algo: fw}, limits: [{name: fw, algorithm: fixed_window, limit: 500, window: 1h, key: [k]}]}
                  - {name: sw, match: {algo: sw}, limits: [{name: sw, algorithm: sliding_window, limit: 500, window: 1m, key: [k]}]}
                  - name: ft
                    match: {algo: ft}
                    limits: [{name: ft, algorithm: fixed_window, limit: 500, window: 1h, trickle: 10, trickle_period: 1s, key: [k]}]
                  - name: pair
                    match: {algo: pair}
                    limits:
                      - {name: wide, algorithm: token_bucket, capacity: 100000, refill: 1, key: [user]}
                      - {name: narrow, algorithm: fixed_window, limit: 25, window: 1h, key: [user, ip]}
            """;

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static final List<SluiceNode> NODES = new ArrayList<>();
    private static final List<ManagedChannel> CHANNELS = new ArrayList<>();
    private static ExecutorService clients;

    private static final AtomicInteger RETRIED = new AtomicInteger();

    @BeforeAll
    static void start() {
        NODES.addAll(TestNodes.startAll(TestNodes.cluster(TestNodes.uniqueCluster("exact"), CLOCK, TestNodes.policies(POLICY), 3)));
        for (SluiceNode n : NODES) {
            CHANNELS.add(ManagedChannelBuilder.forAddress("127.0.0.1", n.port()).usePlaintext().build());
        }
        clients = Executors.newFixedThreadPool(THREADS);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        clients.shutdownNow();
        for (ManagedChannel c : CHANNELS) {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        NODES.forEach(SluiceNode::close);
    }

    private static AcquireRequest request(Map<String, String> descriptors) {
        // With an id, as a careful client sends: a call whose outcome the node could not learn
        // (UNAVAILABLE) is retried without being counted twice.
        return AcquireRequest.newBuilder().setDomain("load").putAllDescriptors(descriptors)
                .setRequestId(java.util.UUID.randomUUID().toString()).build();
    }

    /** Sends every request once, from all threads, each call to a different node in turn; counts admissions per label. */
    private static Map<String, Integer> hammer(List<Map.Entry<String, AcquireRequest>> calls) throws Exception {
        List<Map.Entry<String, AcquireRequest>> shuffled = new ArrayList<>(calls);
        Collections.shuffle(shuffled, new java.util.Random(42));
        Map<String, AtomicInteger> admitted = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            workers.add(clients.submit(() -> {
                for (int i = next.getAndIncrement(); i < shuffled.size(); i = next.getAndIncrement()) {
                    var call = shuffled.get(i);
                    AcquireResponse r = null;
                    for (int attempt = 0; r == null; attempt++) {
                        try {
                            r = RateLimiterGrpc.newBlockingStub(CHANNELS.get((i + attempt) % CHANNELS.size()))
                                    .withDeadlineAfter(30, TimeUnit.SECONDS).acquire(call.getValue());
                        } catch (io.grpc.StatusRuntimeException e) {
                            if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE || attempt == 5) {
                                throw e;
                            }
                            RETRIED.incrementAndGet();
                        }
                    }
                    if (r.getDecision() == Decision.ALLOWED) {
                        admitted.computeIfAbsent(call.getKey(), k -> new AtomicInteger()).incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> w : workers) {
            w.get(5, TimeUnit.MINUTES);
        }
        Map<String, Integer> counts = new java.util.TreeMap<>();
        admitted.forEach((k, v) -> counts.put(k, v.get()));
        return counts;
    }

    @Test
    void everyAlgorithmAdmitsExactlyItsLimitUnderConcurrentLoadAcrossMembers() throws Exception {
        String[] algorithms = {"tb", "lb", "fw", "sw", "ft"};
        List<Map.Entry<String, AcquireRequest>> calls = new ArrayList<>();
        for (String algo : algorithms) {
            for (int hot = 0; hot < 4; hot++) {
                for (int i = 0; i < 3 * LIMIT; i++) {
                    calls.add(Map.entry(algo + "/hot" + hot, request(Map.of("algo", algo, "k", "hot" + hot))));
                }
            }
            for (int cold = 0; cold < 250; cold++) {
                calls.add(Map.entry(algo + "/cold", request(Map.of("algo", algo, "k", "cold" + cold))));
            }
        }
        Map<String, Integer> admitted = hammer(calls);
        Map<String, Object> figures = new java.util.LinkedHashMap<>();
        figures.put("members", 3);
        figures.put("client_threads", THREADS);
        figures.put("calls", calls.size());
        figures.put("calls_retried_after_unavailable", RETRIED.get());
        for (String algo : algorithms) {
            long allowed = 4L * LIMIT + 250;
            long got = admitted.getOrDefault(algo + "/cold", 0)
                    + java.util.stream.IntStream.range(0, 4).mapToLong(h -> admitted.getOrDefault(algo + "/hot" + h, 0)).sum();
            figures.put(algo + "_allowed", allowed);
            figures.put(algo + "_admitted", got);
            figures.put(algo + "_over_admission", Math.max(0, got - allowed));
            figures.put(algo + "_under_admission", Math.max(0, allowed - got));
        }
        Figures.report("exact-admission", figures);
        for (String algo : algorithms) {
            for (int hot = 0; hot < 4; hot++) {
                assertEquals(LIMIT, admitted.get(algo + "/hot" + hot), algo + " hot key " + hot + " admitted " + admitted);
            }
            assertEquals(250, admitted.get(algo + "/cold"), algo + ": every cold key's single call is admitted");
        }

        // One second later: the buckets have refilled (leaked) by exactly 100; the windows have not
        // moved on, and the trickle that began empty when each quota ran out has gathered its 10.
        CLOCK.advance(Duration.ofSeconds(1));
        List<Map.Entry<String, AcquireRequest>> again = new ArrayList<>();
        for (String algo : algorithms) {
            for (int i = 0; i < 400; i++) {
                again.add(Map.entry(algo, request(Map.of("algo", algo, "k", "hot0"))));
            }
        }
        Map<String, Integer> second = hammer(again);
        assertEquals(100, second.get("tb"));
        assertEquals(100, second.get("lb"));
        assertEquals(null, second.get("fw"));
        assertEquals(null, second.get("sw"));
        assertEquals(10, second.get("ft"));
    }

    @Test
    void deniedRequestsLeaveTheOtherLimitUntouched() throws Exception {
        List<Map.Entry<String, AcquireRequest>> calls = new ArrayList<>();
        for (int ip = 0; ip < 8; ip++) {
            for (int i = 0; i < 100; i++) {
                calls.add(Map.entry("ip" + ip, request(Map.of("algo", "pair", "user", "u1", "ip", "10.9.0." + ip))));
            }
        }
        Map<String, Integer> admitted = hammer(calls);
        int total = admitted.values().stream().mapToInt(Integer::intValue).sum();
        for (int ip = 0; ip < 8; ip++) {
            assertEquals(25, admitted.get("ip" + ip), "narrow limit per ip");
        }
        assertEquals(200, total);
        AcquireResponse probe = RateLimiterGrpc.newBlockingStub(CHANNELS.get(1)).acquire(AcquireRequest.newBuilder()
                .setDomain("load").putAllDescriptors(Map.of("algo", "pair", "user", "u1", "ip", "10.9.1.1")).setDryRun(true).build());
        long wideRemaining = probe.getLimitsList().stream().filter(l -> l.getName().equals("wide")).findFirst().orElseThrow()
                .getRemaining();
        assertEquals(100_000 - 200 - 1, wideRemaining,
                "the wide bucket paid for the 200 admitted requests only, not for the 600 denied ones (dry run shows one more taken)");
        assertTrue(NODES.stream().allMatch(n -> n.callsInFlight() == 0));
    }
}
