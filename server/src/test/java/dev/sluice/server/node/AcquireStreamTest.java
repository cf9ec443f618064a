package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.StreamRequest;
import dev.sluice.api.v1.StreamRequests;
import dev.sluice.api.v1.StreamResponse;
import dev.sluice.api.v1.StreamResponses;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AcquireStream on a real node (gRPC over a real socket, a Hazelcast member over TCP) serving the
 * bundled demo policy, 10 requests a second per ip, with time held still.
 */
class AcquireStreamTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static SluiceNode node;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        node = TestNodes.single(TestNodes.uniqueCluster("stream"), CLOCK, PolicyLoader.bundledDemo());
        // A small receive window, so that a caller that stops reading answers is felt by the node soon.
        channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().flowControlWindow(16 * 1024).build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    /** Collects a stream's answers by id; {@code finished} completes when the node ends the stream. */
    private static final class Answers implements ClientResponseObserver<StreamRequests, StreamResponses> {
        final Map<Long, StreamResponse> byId = new ConcurrentHashMap<>();
        final AtomicInteger repeats = new AtomicInteger();
        final CompletableFuture<Status> finished = new CompletableFuture<>();
        private final boolean holdAnswers;
        final AtomicInteger messages = new AtomicInteger();
        volatile ClientCallStreamObserver<StreamRequests> call;

        Answers(boolean holdAnswers) {
            this.holdAnswers = holdAnswers;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<StreamRequests> requestStream) {
            call = requestStream;
            if (holdAnswers) {
                requestStream.disableAutoRequestWithInitial(0);
            }
        }

        @Override
        public void onNext(StreamResponses message) {
            messages.incrementAndGet();
            for (StreamResponse r : message.getResponsesList()) {
                if (byId.put(r.getId(), r) != null) {
                    repeats.incrementAndGet();
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            finished.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            finished.complete(Status.OK);
        }

        long allowed() {
            return byId.values().stream().filter(r -> r.getResult().hasResponse()
                    && r.getResult().getResponse().getDecision() == Decision.ALLOWED).count();
        }
    }

    private static StreamRequest ask(long id, String ip) {
        return StreamRequest.newBuilder().setId(id).setRequest(AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", ip))
                .build();
    }

    /** A message carrying one request. */
    private static StreamRequests one(StreamRequest request) {
        return StreamRequests.newBuilder().addRequests(request).build();
    }

    @Test
    void everyRequestIsAnsweredOnceUnderItsIdAndTheLimitHoldsExactly() throws Exception {
        Answers answers = new Answers(false);
        StreamObserver<StreamRequests> requests = RateLimiterGrpc.newStub(channel).acquireStream(answers);
        // One request alone, then messages of 4, 1, 12 and 12: a message carries any number.
        int[] sizes = {1, 4, 1, 12, 12};
        long id = 1000;
        for (int size : sizes) {
            StreamRequests.Builder message = StreamRequests.newBuilder();
            for (int i = 0; i < size; i++) {
                message.addRequests(ask(++id, "10.1.0.1"));
            }
            requests.onNext(message.build());
        }
        requests.onCompleted();
        assertEquals(Status.OK, answers.finished.get(10, TimeUnit.SECONDS), "the node ends the stream after answering all");
        assertEquals(30, answers.byId.size());
        assertEquals(0, answers.repeats.get());
        for (long answered = 1001; answered <= 1030; answered++) {
            assertTrue(answers.byId.containsKey(answered), "answered " + answered);
        }
        assertTrue(answers.messages.get() <= 30, "answers decided together travel together: " + answers.messages.get() + " messages");
        assertEquals(10, answers.allowed(), "the demo limit allows 10 a second per ip, however the requests arrive");
        answers.byId.values().stream().filter(r -> r.getResult().getResponse().getDecision() == Decision.DENIED)
                .forEach(r -> assertEquals(429, r.getResult().getResponse().getHttpStatus()));
    }

    @Test
    void aRequestThatCannotBeDecidedGetsItsOwnErrorAndTheStreamGoesOn() throws Exception {
        Answers answers = new Answers(false);
        StreamObserver<StreamRequests> requests = RateLimiterGrpc.newStub(channel).acquireStream(answers);
        requests.onNext(StreamRequests.newBuilder()
                .addRequests(StreamRequest.newBuilder().setId(1).setRequest(AcquireRequest.newBuilder().setDomain("")))
                .addRequests(StreamRequest.newBuilder().setId(2).setRequest(AcquireRequest.newBuilder().setDomain("nowhere")))
                .addRequests(ask(3, "10.1.0.2"))
                .build());
        requests.onCompleted();
        assertEquals(Status.OK, answers.finished.get(10, TimeUnit.SECONDS));
        assertEquals(Status.Code.INVALID_ARGUMENT.value(), answers.byId.get(1L).getResult().getError().getCode());
        assertTrue(answers.byId.get(1L).getResult().getError().getMessage().startsWith("domain:"),
                answers.byId.get(1L).getResult().getError().getMessage());
        assertEquals(Status.Code.NOT_FOUND.value(), answers.byId.get(2L).getResult().getError().getCode());
        assertTrue(answers.byId.get(2L).getResult().getError().getMessage().contains("nowhere"));
        assertEquals(Decision.ALLOWED, answers.byId.get(3L).getResult().getResponse().getDecision());
    }

    @Test
    void aNodeShuttingDownAnswersWhatItHasReadAndEndsTheStream() throws Exception {
        SluiceNode closing = TestNodes.single(TestNodes.uniqueCluster("stream-close"), CLOCK, PolicyLoader.bundledDemo());
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", closing.port()).usePlaintext().build();
        try {
            Answers answers = new Answers(false);
            StreamObserver<StreamRequests> requests = RateLimiterGrpc.newStub(ch).acquireStream(answers);
            for (long id = 1; id <= 20; id++) {
                requests.onNext(one(ask(id, "10.1.0.4")));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> answers.byId.size() == 20);
            // The caller never half-closes: without the node ending the stream, shutdown would wait
            // out its grace and then cancel the call.
            closing.close();
            assertEquals(Status.OK, answers.finished.get(10, TimeUnit.SECONDS));
            assertEquals(20, answers.byId.size());
            assertEquals(10, answers.allowed());
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            closing.close();
        }
    }

    @Test
    void aCallerThatStopsReadingAnswersStopsBeingReadAndLosesNothing() throws Exception {
        int sent = 5000;
        long before = node.callsReceived();
        Answers answers = new Answers(true);
        StreamObserver<StreamRequests> requests = RateLimiterGrpc.newStub(channel).acquireStream(answers);
        for (long id = 1; id <= sent; id++) {
            requests.onNext(one(ask(id, "10.1.0.3")));
        }
        // The node reads ahead of its written answers only so far, then waits for the caller.
        AtomicLong lastSeen = new AtomicLong(-1);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> {
            long read = node.callsReceived() - before;
            return read > 0 && lastSeen.getAndSet(read) == read && node.callsInFlight() == 0;
        });
        long readWhileHeld = node.callsReceived() - before;
        assertTrue(readWhileHeld < sent, "the node stopped reading (read " + readWhileHeld + " of " + sent + ")");
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> node.callsReceived() - before == readWhileHeld);

        answers.call.request(sent);
        requests.onCompleted();
        assertEquals(Status.OK, answers.finished.get(20, TimeUnit.SECONDS));
        assertEquals(sent, answers.byId.size(), "every request answered once the caller reads again (read " + readWhileHeld
                + " while it did not)");
        assertEquals(0, answers.repeats.get());
        assertEquals(10, answers.allowed());
    }
}
