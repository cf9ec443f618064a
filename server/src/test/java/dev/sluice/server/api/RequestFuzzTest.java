package dev.sluice.server.api;

import dev.sluice.api.v1.AcquireBatchResponse;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.StreamResponse;
import dev.sluice.api.v1.StreamResponses;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.store.MemoryBuckets;
import dev.sluice.server.store.StoreContext;
import dev.sluice.server.testing.LogCapture;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.testing.TestThreads;
import dev.sluice.server.testing.Wire;
import dev.sluice.server.time.ManualClock;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random and mutated requests through the in-process API, on all three request shapes: every
 * outcome is a decision or a clear error (INVALID_ARGUMENT, RESOURCE_EXHAUSTED or NOT_FOUND with a
 * message naming the field), nothing is logged with a stack trace, and after each property the
 * node still counts a fresh bucket exactly. Requests are built from the policy's own names and
 * random ones, then mutated at the byte level (bits flipped, bytes cut, inserted and repeated);
 * batches and streams carry 20 to 40 of them.
 */
class RequestFuzzTest {

    /** Fixed, so that a run is repeatable; change it (or run with another) to explore further. */
    static final String SEED = "1812";

    private static final String POLICY = """
            domains:
              shop:
                rules:
                  - name: vip
                    match: {user: admin}
                    unlimited: true
                  - name: per-user
                    match: {user: {present: true}}
                    limits:
                      - {name: tb, algorithm: token_bucket, capacity: 5, refill: 1, key: [user]}
                      - {name: sw, algorithm: sliding_window, limit: 20, window: 1m, key: [user]}
                  - name: per-ip
                    limits:
                      - {name: fw, algorithm: fixed_window, limit: 10, window: 1s, key: [ip]}
                      - {name: lb, algorithm: leaky_bucket, capacity: 4, leak: 1, key: [ip, user]}
                  - name: trial
                    shadow: true
                    limits: [{name: trial, algorithm: token_bucket, capacity: 1, refill: 1, key: [ip]}]
              canary:
                rules:
                  - {name: r, limits: [{name: l, algorithm: token_bucket, capacity: 3, refill: 1, refill_period: 1h, key: [k]}]}
            """;
    private static final List<String> DOMAINS = List.of("shop", "canary", "nowhere", "", "s".repeat(129));
    private static final List<String> NAMES = List.of("user", "ip", "k", "tier", "", "x".repeat(65), "bad name");
    /** What a clear error's message starts with: the field, the limit or the thing refused, then a colon. */
    private static final Pattern NAMES_WHAT = Pattern.compile("^(domain|descriptors(\\[\".*?\"\\])?|cost|dry_run|request_id|requests(\\[\\d+\\])?|id|request"
            + "|buckets|(AcquireRequest|AcquireBatchRequest|StreamRequests|StreamRequest)(: field \\d+)?): .+", Pattern.DOTALL);
    private static final Set<Status.Code> CLEAR = Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.RESOURCE_EXHAUSTED,
            Status.Code.NOT_FOUND);

    private static Server server;
    private static ManagedChannel channel;
    private static LogCapture log;
    private static final AtomicLong requests = new AtomicLong();
    private static final AtomicLong canaries = new AtomicLong();
    private static final Map<String, AtomicLong> outcomes = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeContainer
    static void start() throws IOException {
        ManualClock clock = ManualClock.fixed();
        Policies policies = TestNodes.policies(POLICY);
        MemoryBuckets buckets = new MemoryBuckets(new StoreContext(clock, Duration.ofMinutes(10), Duration.ofSeconds(10)));
        DecisionPath path = new DecisionPath(() -> policies, new DecisionEngine(buckets, TestThreads.FOLLOW_UPS), clock, 10_000);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor().maxInboundMessageSize(1 << 20)
                .addService(new RateLimiterService(path, EventLoops.none())).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        log = LogCapture.start();
    }

    @AfterContainer
    static void stop() throws InterruptedException {
        log.close();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        assertTrue(requests.get() >= 100_000, "at least 100,000 requests a run: " + requests.get());
        System.out.println("request fuzzing: " + requests.get() + " requests, outcomes " + new java.util.TreeMap<>(outcomes));
    }

    /** After each property: no stack trace was logged, and a fresh bucket counts exactly. */
    @AfterProperty
    void theNodeStillDecidesExactly() {
        assertEquals(List.of(), log.withStackTraces(), "no stack trace for a caller's mistake");
        String key = "canary-" + canaries.incrementAndGet();
        RateLimiterGrpc.RateLimiterBlockingStub stub = RateLimiterGrpc.newBlockingStub(channel);
        for (long left = 2; left >= 0; left--) {
            AcquireResponse r = stub.acquire(AcquireRequest.newBuilder().setDomain("canary").putDescriptors("k", key).build());
            assertEquals(Decision.ALLOWED, r.getDecision());
            assertEquals(left, r.getLimits(0).getRemaining());
        }
        assertEquals(Decision.DENIED, stub.acquire(AcquireRequest.newBuilder().setDomain("canary").putDescriptors("k", key).build())
                .getDecision());
    }

    @Property(tries = 50_000, seed = SEED, shrinking = ShrinkingMode.OFF)
    void everyAcquireGetsADecisionOrAClearError(@ForAll("requestBytes") byte[] request) throws IOException {
        requests.incrementAndGet();
        Wire.Answer a = Wire.call(channel, RateLimiterGrpc.getAcquireMethod(), request);
        if (a.status().isOk()) {
            assertDecided(AcquireResponse.parseFrom(a.bytes()));
        } else {
            assertClear(a.status().getCode(), a.status().getDescription());
        }
    }

    @Property(tries = 1_500, seed = SEED, shrinking = ShrinkingMode.OFF)
    void everyBatchEntryGetsADecisionOrAClearError(@ForAll("batches") List<byte[]> entries, @ForAll("mutations") List<Mutation> whole)
            throws IOException {
        byte[] message = Mutation.apply(Wire.repeated(entries.toArray(byte[][]::new)), whole);
        requests.addAndGet(entries.size());
        Wire.Answer a = Wire.call(channel, RateLimiterGrpc.getAcquireBatchMethod(), message);
        if (!a.status().isOk()) {
            assertClear(a.status().getCode(), a.status().getDescription());
            return;
        }
        AcquireBatchResponse r = AcquireBatchResponse.parseFrom(a.bytes());
        if (whole.isEmpty()) {
            assertEquals(entries.size(), r.getResultsCount(), "one result for each entry, in order");
        }
        for (BatchEntry result : r.getResultsList()) {
            if (result.hasResponse()) {
                assertDecided(result.getResponse());
            } else {
                assertClear(Status.fromCodeValue(result.getError().getCode()).getCode(), result.getError().getMessage());
            }
        }
    }

    @Property(tries = 1_500, seed = SEED, shrinking = ShrinkingMode.OFF)
    void everyStreamEntryIsAnsweredOnItsIdAndTheStreamGoesOn(@ForAll("batches") List<byte[]> entries) throws Exception {
        LinkedBlockingQueue<StreamResponse> answers = new LinkedBlockingQueue<>();
        CompletableFuture<Status> ended = new CompletableFuture<>();
        ClientCall<byte[], byte[]> call = channel.newCall(Wire.raw(RateLimiterGrpc.getAcquireStreamMethod()), CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                try {
                    answers.addAll(StreamResponses.parseFrom(message).getResponsesList());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                call.request(1);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                ended.complete(status);
            }
        }, new Metadata());
        call.request(1);
        // The entries with ids 1..n, in two messages; then one good request that must still be answered.
        List<byte[]> framed = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            framed.add(Wire.streamEntry(i + 1, entries.get(i)));
        }
        int half = framed.size() / 2;
        call.sendMessage(Wire.repeated(framed.subList(0, half).toArray(byte[][]::new)));
        call.sendMessage(Wire.repeated(framed.subList(half, framed.size()).toArray(byte[][]::new)));
        long last = entries.size() + 1L;
        call.sendMessage(Wire.repeated(Wire.streamEntry(last, AcquireRequest.newBuilder().setDomain("shop")
                .putDescriptors("ip", "192.0.2.1").setDryRun(true).build().toByteArray())));
        requests.addAndGet(entries.size() + 1L);
        Map<Long, StreamResponse> byId = new HashMap<>();
        while (byId.size() < last) {
            StreamResponse r = answers.poll(10, TimeUnit.SECONDS);
            assertNotNull(r, "every entry answered: " + byId.size() + " of " + last);
            assertTrue(byId.put(r.getId(), r) == null, "answered once: " + r.getId());
        }
        for (StreamResponse r : byId.values()) {
            if (r.getResult().hasResponse()) {
                assertDecided(r.getResult().getResponse());
            } else {
                assertClear(Status.fromCodeValue(r.getResult().getError().getCode()).getCode(), r.getResult().getError().getMessage());
            }
        }
        assertTrue(byId.get(last).getResult().hasResponse(), "the stream goes on past bad entries");
        call.halfClose();
        assertEquals(Status.Code.OK, ended.get(10, TimeUnit.SECONDS).getCode());
    }

    private static void assertDecided(AcquireResponse r) {
        outcomes.computeIfAbsent(r.getDecision().name(), k -> new AtomicLong()).incrementAndGet();
        assertTrue(r.getDecision() == Decision.ALLOWED || r.getDecision() == Decision.DENIED, r.toString());
        for (LimitStatus l : r.getLimitsList()) {
            assertTrue(l.getRemaining() >= 0 && l.getRemaining() <= l.getLimit(), r.toString());
        }
    }

    private static void assertClear(Status.Code code, String message) {
        outcomes.computeIfAbsent(code.name(), k -> new AtomicLong()).incrementAndGet();
        assertTrue(CLEAR.contains(code), code + ": " + message);
        assertNotNull(message, code.toString());
        assertTrue(NAMES_WHAT.matcher(message).matches(), "names what is wrong: " + message);
    }

    // ---- generators

    @Provide
    Arbitrary<byte[]> requestBytes() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, requests().map(AcquireRequest::toByteArray)),
                Tuple.of(3, Combinators.combine(requests(), mutations().filter(m -> !m.isEmpty()))
                        .as((r, m) -> Mutation.apply(r.toByteArray(), m))),
                Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMaxSize(64)));
    }

    @Provide
    Arbitrary<List<byte[]>> batches() {
        return requestBytes().list().ofMinSize(20).ofMaxSize(40);
    }

    private static Arbitrary<AcquireRequest> requests() {
        Arbitrary<String> names = Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.of(NAMES)), Tuple.of(1, Arbitraries.strings().ofMaxLength(70)));
        Arbitrary<String> values = Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.of("admin", "u1", "u2", "192.0.2.7", "")),
                Tuple.of(3, Arbitraries.strings().withCharRange('a', 'c').ofLength(3)), Tuple.of(1, Arbitraries.strings().ofMaxLength(600)));
        Arbitrary<Map<String, String>> descriptors = Arbitraries.frequencyOf(Tuple.of(9, Arbitraries.maps(names, values).ofMaxSize(4)),
                Tuple.of(1, Arbitraries.maps(Arbitraries.strings().alpha().ofLength(8), values).ofMinSize(30).ofMaxSize(34)));
        Arbitrary<String> domain = Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.just("shop")), Tuple.of(3, Arbitraries.of(DOMAINS)),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(10)));
        Arbitrary<Long> cost = Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.longs().between(-1, 6)), Tuple.of(1, Arbitraries.longs()));
        Arbitrary<String> id = Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.just("")), Tuple.of(4, Arbitraries.strings().alpha().ofMaxLength(8)),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(140)));
        return Combinators.combine(domain, descriptors, cost, id, Arbitraries.of(true, false))
                .as((d, ds, c, i, dry) -> AcquireRequest.newBuilder().setDomain(d).putAllDescriptors(ds).setCost(c)
                        .setRequestId(i).setDryRun(dry).build());
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        Arbitrary<Mutation> one = Combinators.combine(Arbitraries.of(Mutation.Kind.values()), Arbitraries.integers().between(0, 1 << 20),
                Arbitraries.bytes(), Arbitraries.integers().between(1, 16)).as(Mutation::new);
        return one.list().ofMaxSize(4);
    }

    /** One change to a message's bytes, at a position taken modulo its length. */
    record Mutation(Kind kind, int at, byte value, int length) {
        enum Kind { FLIP, SET, CUT, TRUNCATE, INSERT, REPEAT, BAD_UTF8 }

        static byte[] apply(byte[] bytes, List<Mutation> mutations) {
            byte[] b = bytes;
            for (Mutation m : mutations) {
                b = m.apply(b);
            }
            return b;
        }

        byte[] apply(byte[] b) {
            if (b.length == 0) {
                return kind == Kind.INSERT ? new byte[] {value} : b;
            }
            int i = at % b.length;
            int n = Math.min(length, b.length - i);
            byte[] out;
            switch (kind) {
                case FLIP -> {
                    out = b.clone();
                    out[i] ^= (byte) (1 << (value & 7));
                }
                case SET -> {
                    out = b.clone();
                    out[i] = value;
                }
                case BAD_UTF8 -> {
                    out = b.clone();
                    out[i] = (byte) (0x80 | (value & 0x7F));
                }
                case CUT -> {
                    out = new byte[b.length - n];
                    System.arraycopy(b, 0, out, 0, i);
                    System.arraycopy(b, i + n, out, i, b.length - i - n);
                }
                case TRUNCATE -> out = java.util.Arrays.copyOf(b, i);
                case INSERT -> {
                    out = new byte[b.length + n];
                    System.arraycopy(b, 0, out, 0, i);
                    java.util.Arrays.fill(out, i, i + n, value);
                    System.arraycopy(b, i, out, i + n, b.length - i);
                }
                case REPEAT -> {
                    out = new byte[b.length + n];
                    System.arraycopy(b, 0, out, 0, i + n);
                    System.arraycopy(b, i, out, i + n, b.length - i);
                }
                default -> throw new IllegalStateException(kind.toString());
            }
            return out;
        }
    }
}
