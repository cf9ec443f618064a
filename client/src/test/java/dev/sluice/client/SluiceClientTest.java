package dev.sluice.client;

import com.google.protobuf.Duration;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.Header;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.api.v1.RateLimiterGrpc;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client's behaviour against a scripted in-process server. */
class SluiceClientTest {

    /** A server whose answers the test scripts: a response, a status to fail with, or silence. */
    static final class ScriptedServer extends RateLimiterGrpc.RateLimiterImplBase {
        static final Object SILENCE = new Object();
        final Queue<Function<AcquireRequest, Object>> script = new ConcurrentLinkedQueue<>();
        final List<AcquireRequest> seen = new CopyOnWriteArrayList<>();
        final List<Long> deadlineMillis = new CopyOnWriteArrayList<>();

        @Override
        public void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
            seen.add(request);
            deadlineMillis.add(Context.current().getDeadline() == null ? -1
                    : Context.current().getDeadline().timeRemaining(TimeUnit.MILLISECONDS));
            Function<AcquireRequest, Object> next = script.poll();
            Object answer = next == null ? allowed() : next.apply(request);
            if (answer instanceof AcquireResponse r) {
                observer.onNext(r);
                observer.onCompleted();
            } else if (answer instanceof Status s) {
                observer.onError(s.asRuntimeException());
            } else if (answer instanceof CompletableFuture<?> later) {
                later.thenAccept(r -> {
                    observer.onNext((AcquireResponse) r);
                    observer.onCompleted();
                });
            }
        }
    }

    private final ScriptedServer server = new ScriptedServer();
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private Server grpc;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        grpc = InProcessServerBuilder.forName(name).directExecutor().addService(server).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private SluiceClient.Builder client() {
        return SluiceClient.builder().channel(channel).nanoTime(now::get).streaming(false);
    }

    static AcquireResponse allowed() {
        return AcquireResponse.newBuilder().setDecision(Decision.ALLOWED).setHttpStatus(200)
                .addLimits(LimitStatus.newBuilder().setName("per-ip").setDecision(Decision.ALLOWED).setLimit(10).setRemaining(9)
                        .setResetAfter(Duration.newBuilder().setNanos(100_000_000)).setWindow(Duration.newBuilder().setSeconds(1)))
                .addHeaders(Header.newBuilder().setName("RateLimit").setValue("\"per-ip\";r=9;t=1"))
                .build();
    }

    static AcquireResponse denied(long retrySeconds) {
        return AcquireResponse.newBuilder().setDecision(Decision.DENIED).setHttpStatus(429)
                .setRetryAfter(Duration.newBuilder().setSeconds(retrySeconds))
                .addLimits(LimitStatus.newBuilder().setName("per-ip").setDecision(Decision.DENIED).setLimit(10).setRemaining(0))
                .addHeaders(Header.newBuilder().setName("Retry-After").setValue(Long.toString(retrySeconds)))
                .setBody("slow down")
                .build();
    }

    private static final Acquire DEMO = Acquire.domain("demo").with("ip", "203.0.113.5");

    @Test
    void anAnswerCarriesTheDecisionLimitsAndHeaders() {
        try (SluiceClient c = client().build()) {
            AcquireResult r = c.acquire(DEMO.cost(2));
            assertTrue(r.allowed());
            assertEquals(AcquireResult.Source.SERVER, r.source());
            assertEquals(List.of(new LimitState("per-ip", true, 10, 9, java.time.Duration.ofMillis(100), java.time.Duration.ofSeconds(1))),
                    r.limits());
            assertEquals(List.of(new HttpHeader("RateLimit", "\"per-ip\";r=9;t=1")), r.headers());
            AcquireRequest sent = server.seen.get(0);
            assertEquals("demo", sent.getDomain());
            assertEquals(Map.of("ip", "203.0.113.5"), sent.getDescriptorsMap());
            assertEquals(2, sent.getCost());
            assertTrue(sent.getRequestId().matches("[0-9a-f]{32}-[0-9a-f]+"), "a random per-client prefix, then a count: " + sent.getRequestId());
        }
    }

    @Test
    void everyCallHasADeadlineAndItsOwnRequestId() {
        try (SluiceClient c = client().build()) {
            c.acquire(DEMO);
            c.acquire(DEMO);
        }
        for (long millis : server.deadlineMillis) {
            assertTrue(millis > 0 && millis <= 50, "the default deadline is 50 ms: " + millis);
        }
        assertFalse(server.seen.get(0).getRequestId().equals(server.seen.get(1).getRequestId()));
    }

    @Test
    void acquireFromACallbackOnTheIoThreadIsRefusedWithAClearError() {
        CompletableFuture<AcquireResponse> later = new CompletableFuture<>();
        server.script.add(r -> later);
        try (SluiceClient c = client().build()) {
            CompletableFuture<AcquireResult> nested = c.acquireAsync(DEMO).thenApply(r -> c.acquire(DEMO));
            later.complete(allowed());
            CompletionException e = assertThrows(CompletionException.class, nested::join);
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("call acquireAsync and chain on it"), e.getCause().getMessage());
            assertEquals(AcquireResult.Source.SERVER, c.acquire(DEMO).source(), "outside a callback acquire() still works");
        }
    }

    @Test
    void withAnExecutorCallbacksRunThereAndMayBlock() throws InterruptedException {
        // Two threads: the callback blocks one while the other delivers the answer it waits for.
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2, r -> new Thread(r, "app-pool"));
        CompletableFuture<AcquireResponse> later = new CompletableFuture<>();
        server.script.add(r -> later);
        try (SluiceClient c = client().executor(pool).build()) {
            CompletableFuture<String> nested = c.acquireAsync(DEMO)
                    .thenApply(r -> Thread.currentThread().getName() + " " + c.acquire(DEMO).source());
            later.complete(allowed());
            assertEquals("app-pool SERVER", nested.join());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoClientsNeverShareARequestId() {
        try (SluiceClient a = client().build(); SluiceClient b = client().build()) {
            a.acquire(DEMO);
            b.acquire(DEMO);
        }
        String first = server.seen.get(0).getRequestId();
        String second = server.seen.get(1).getRequestId();
        assertFalse(first.substring(0, first.indexOf('-')).equals(second.substring(0, second.indexOf('-'))),
                "each client draws its own random prefix: " + first + " " + second);
    }

    @Test
    void unavailableIsRetriedWithTheSameRequestId() {
        server.script.add(r -> Status.UNAVAILABLE.withDescription("node leaving"));
        server.script.add(r -> Status.UNAVAILABLE.withDescription("node leaving"));
        AcquireResult r;
        try (SluiceClient c = SluiceClient.builder().channel(channel).deadline(java.time.Duration.ofSeconds(5)).build()) {
            r = c.acquire(DEMO);
            assertEquals(AcquireResult.Source.SERVER, r.source());
            assertTrue(r.allowed());
        }
        assertEquals(3, server.seen.size());
        assertEquals(1, server.seen.stream().map(AcquireRequest::getRequestId).distinct().count(), "one request id for all attempts");
        assertEquals(server.seen.get(0).getRequestId(), r.requestId(), "the answer names the id the node saw");
    }

    @Test
    void afterItsAttemptsAnUnavailableClusterGetsTheFailureMode() {
        for (int i = 0; i < 3; i++) {
            server.script.add(r -> Status.UNAVAILABLE);
        }
        try (SluiceClient c = SluiceClient.builder().channel(channel).deadline(java.time.Duration.ofSeconds(5)).build()) {
            AcquireResult r = c.acquire(DEMO);
            assertTrue(r.allowed());
            assertEquals(AcquireResult.Source.FAIL_OPEN, r.source());
            assertTrue(r.failure().orElseThrow().contains("after 3 attempt(s)"), r.failure().orElseThrow());
        }
        assertEquals(3, server.seen.size());
    }

    @Test
    void otherServerErrorsAreNotRetried() {
        server.script.add(r -> Status.INTERNAL.withDescription("bug"));
        try (SluiceClient c = client().failureMode(FailureMode.FAIL_CLOSED).build()) {
            AcquireResult r = c.acquire(DEMO);
            assertFalse(r.allowed());
            assertEquals(AcquireResult.Source.FAIL_CLOSED, r.source());
            assertEquals(503, r.httpStatus());
        }
        assertEquals(1, server.seen.size());
    }

    @Test
    void noAnswerWithinTheDeadlineNeverHangs() {
        server.script.add(r -> ScriptedServer.SILENCE);
        server.script.add(r -> ScriptedServer.SILENCE);
        try (SluiceClient open = SluiceClient.builder().channel(channel).deadline(java.time.Duration.ofMillis(100)).build();
             SluiceClient closed = SluiceClient.builder().channel(channel).deadline(java.time.Duration.ofMillis(100))
                     .failureMode(FailureMode.FAIL_CLOSED).build()) {
            AcquireResult a = open.acquire(DEMO);
            assertEquals(AcquireResult.Source.FAIL_OPEN, a.source());
            assertTrue(a.allowed());
            assertTrue(a.failure().orElseThrow().contains("DEADLINE_EXCEEDED"), a.failure().orElseThrow());
            AcquireResult b = closed.acquire(DEMO);
            assertEquals(AcquireResult.Source.FAIL_CLOSED, b.source());
            assertFalse(b.allowed());
        }
    }

    @Test
    void aWrongRequestThrowsNamingTheProblem() {
        server.script.add(r -> Status.INVALID_ARGUMENT.withDescription("descriptors[\"ip\"]: value is 600 characters"));
        server.script.add(r -> Status.NOT_FOUND.withDescription("domain: \"nope\" has no policies"));
        try (SluiceClient c = client().build()) {
            SluiceClientException bad = assertThrows(SluiceClientException.class, () -> c.acquire(DEMO));
            assertEquals("INVALID_ARGUMENT", bad.code());
            assertTrue(bad.getMessage().contains("descriptors[\"ip\"]"));
            SluiceClientException unknown = assertThrows(SluiceClientException.class, () -> c.acquire(Acquire.domain("nope")));
            assertEquals("NOT_FOUND", unknown.code());
        }
    }

    @Test
    void aDenialIsRepeatedLocallyUntilItsRetryAfterAndNoLonger() {
        server.script.add(r -> denied(2));
        try (SluiceClient c = client().build()) {
            AcquireResult first = c.acquire(DEMO);
            assertEquals(AcquireResult.Source.SERVER, first.source());
            assertEquals(1, server.seen.size());

            now.addAndGet(500_000_000L);
            AcquireResult cached = c.acquire(DEMO);
            assertEquals(AcquireResult.Source.LOCAL_DENIAL_CACHE, cached.source());
            assertFalse(cached.allowed());
            assertEquals(java.time.Duration.ofMillis(1500), cached.retryAfter());
            assertEquals(List.of(new HttpHeader("Retry-After", "2")), cached.headers(), "whole seconds, rounded up");
            assertEquals("slow down", cached.body());
            assertEquals(1, server.seen.size(), "no call was made");

            assertEquals(AcquireResult.Source.SERVER, c.acquire(DEMO.cost(2)).source(), "another cost is another request");
            assertEquals(AcquireResult.Source.SERVER, c.acquire(Acquire.domain("demo").with("ip", "198.51.100.1")).source());
            assertEquals(AcquireResult.Source.SERVER, c.acquire(DEMO.dryRun()).source(), "dry runs always ask");

            now.addAndGet(1_499_999_999L);
            assertEquals(AcquireResult.Source.LOCAL_DENIAL_CACHE, c.acquire(DEMO).source(), "1 ns before the retry-after");
            now.addAndGet(1);
            AcquireResult asked = c.acquire(DEMO);
            assertEquals(AcquireResult.Source.SERVER, asked.source(), "at the retry-after the server is asked again");
            assertTrue(asked.allowed());
        }
    }

    @Test
    void theDenialCacheCanBeSwitchedOff() {
        server.script.add(r -> denied(30));
        try (SluiceClient c = client().denialCache(false).build()) {
            c.acquire(DEMO);
            assertEquals(AcquireResult.Source.SERVER, c.acquire(DEMO).source());
            assertEquals(0, c.cachedDenials());
        }
    }

    @Test
    void aResultWritesItselfToAnHttpResponse() {
        List<String> written = new ArrayList<>();
        ResponseWriter writer = new ResponseWriter() {
            @Override
            public void status(int code) {
                written.add("status " + code);
            }

            @Override
            public void header(String name, String value) {
                written.add(name + ": " + value);
            }

            @Override
            public void body(String text) {
                written.add("body " + text);
            }
        };
        server.script.add(r -> allowed());
        server.script.add(r -> denied(3));
        try (SluiceClient c = client().denialCache(false).build()) {
            c.acquire(DEMO).writeTo(writer);
            assertEquals(List.of("RateLimit: \"per-ip\";r=9;t=1"), written, "an allowed request gets the headers only");
            written.clear();
            c.acquire(DEMO).writeTo(writer);
            assertEquals(List.of("Retry-After: 3", "status 429", "body slow down"), written);
        }
    }

    @Test
    void closingAnswersCallsInFlightAtOnce() {
        server.script.add(r -> ScriptedServer.SILENCE);
        SluiceClient c = SluiceClient.builder().channel(channel).deadline(java.time.Duration.ofMinutes(5)).build();
        CompletableFuture<AcquireResult> pending = c.acquireAsync(DEMO);
        c.close();
        AcquireResult r = pending.join();
        assertEquals(AcquireResult.Source.FAIL_OPEN, r.source());
        assertEquals("the client is closed", r.failure().orElseThrow());
    }

    @Test
    void requestsAreImmutableValues() {
        Acquire a = Acquire.domain("d").with("b", "2").with("a", "1");
        assertEquals(List.of("a", "b"), List.copyOf(a.descriptors().keySet()), "sorted");
        assertEquals(a, Acquire.domain("d").with(Map.of("a", "1", "b", "2")));
        assertThrows(UnsupportedOperationException.class, () -> a.descriptors().put("c", "3"));
        assertThrows(IllegalArgumentException.class, () -> a.cost(0));
        assertThrows(IllegalArgumentException.class, () -> Acquire.domain(""));
        assertThrows(IllegalStateException.class, () -> SluiceClient.builder().build());
        assertThrows(IllegalArgumentException.class, () -> SluiceClient.builder().target("no-port"));
    }
}
