package dev.sluice.client;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.StreamRequest;
import dev.sluice.api.v1.StreamRequests;
import dev.sluice.api.v1.StreamResponse;
import dev.sluice.api.v1.StreamResponses;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests carried on AcquireStream: answers matched by id, deadlines kept, broken and ended streams replaced. */
class StreamingTest {

    /**
     * Answers {@code remaining} = the number in descriptor {@code k}. Each stream it serves is
     * numbered from 0; {@code behaviour} says, per stream, what to do with the requests it reads.
     */
    static class StreamServer extends RateLimiterGrpc.RateLimiterImplBase {
        final AtomicInteger streams = new AtomicInteger();
        final AtomicInteger unary = new AtomicInteger();
        final List<AcquireRequest> seen = new CopyOnWriteArrayList<>();
        /** How many requests each message read carried. */
        final List<Integer> messageSizes = new CopyOnWriteArrayList<>();

        /** What stream {@code n} does with the {@code i}th request it reads; by default it answers at once. */
        void onRequest(int n, int i, StreamRequest r, StreamObserver<StreamResponse> out) {
            out.onNext(answer(r));
        }

        static StreamResponse answer(StreamRequest r) {
            return StreamResponse.newBuilder().setId(r.getId()).setResult(BatchEntry.newBuilder().setResponse(response(r.getRequest())))
                    .build();
        }

        static AcquireResponse response(AcquireRequest r) {
            return AcquireResponse.newBuilder().setDecision(Decision.ALLOWED).setHttpStatus(200)
                    .addLimits(LimitStatus.newBuilder().setName("l").setDecision(Decision.ALLOWED).setLimit(1000)
                            .setRemaining(Long.parseLong(r.getDescriptorsOrThrow("k"))))
                    .build();
        }

        @Override
        public StreamObserver<StreamRequests> acquireStream(StreamObserver<StreamResponses> answers) {
            int n = streams.getAndIncrement();
            AtomicInteger read = new AtomicInteger();
            // Each answer in a message of its own.
            StreamObserver<StreamResponse> out = new StreamObserver<>() {
                @Override
                public void onNext(StreamResponse r) {
                    answers.onNext(StreamResponses.newBuilder().addResponses(r).build());
                }

                @Override
                public void onError(Throwable t) {
                    answers.onError(t);
                }

                @Override
                public void onCompleted() {
                    answers.onCompleted();
                }
            };
            return new StreamObserver<>() {
                @Override
                public void onNext(StreamRequests message) {
                    messageSizes.add(message.getRequestsCount());
                    for (StreamRequest r : message.getRequestsList()) {
                        seen.add(r.getRequest());
                        synchronized (out) {
                            onRequest(n, read.getAndIncrement(), r, out);
                        }
                    }
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    synchronized (out) {
                        out.onCompleted();
                    }
                }
            };
        }

        @Override
        public void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
            unary.incrementAndGet();
            seen.add(request);
            observer.onNext(response(request));
            observer.onCompleted();
        }
    }

    private Server grpc;
    private ManagedChannel channel;
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private SluiceClient client(RateLimiterGrpc.RateLimiterImplBase server) throws Exception {
        String name = InProcessServerBuilder.generateName();
        grpc = InProcessServerBuilder.forName(name).addService(server).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        return SluiceClient.builder().channel(channel).deadline(Duration.ofSeconds(20)).nanoTime(now::get).streaming(true).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel == null) {
            return; // the test made its own
        }
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static List<CompletableFuture<AcquireResult>> ask(SluiceClient c, int n) {
        List<CompletableFuture<AcquireResult>> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            out.add(c.acquireAsync(Acquire.domain("d").with("k", Integer.toString(k))));
        }
        return out;
    }

    private static void assertEachHasItsOwnAnswer(List<CompletableFuture<AcquireResult>> results) throws Exception {
        for (int k = 0; k < results.size(); k++) {
            AcquireResult r = results.get(k).get(10, TimeUnit.SECONDS);
            assertEquals(AcquireResult.Source.SERVER, r.source(), "request " + k + ": " + r.failure());
            assertEquals(k, r.limits().get(0).remaining(), "answer " + k + " belongs to request " + k);
        }
    }

    @Test
    void requestsAskedForOnAnIoThreadGoOutTogetherInOneMessage() throws Exception {
        StreamServer server = new StreamServer();
        // A real socket: the client's answers are delivered on a Netty I/O thread, as in use.
        Server netty = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(server).build().start();
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", netty.getPort()).usePlaintext().build();
        try (SluiceClient c = SluiceClient.builder().channel(ch).deadline(Duration.ofSeconds(20)).streaming(true).build()) {
            CompletableFuture<List<CompletableFuture<AcquireResult>>> asked = new CompletableFuture<>();
            c.acquireAsync(Acquire.domain("d").with("k", "0")).thenAccept(first -> asked.complete(ask(c, 60)));
            assertEachHasItsOwnAnswer(asked.get(10, TimeUnit.SECONDS));
            List<CompletableFuture<AcquireResult>> fromHere = ask(c, 3);
            assertEachHasItsOwnAnswer(fromHere);
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            netty.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertEquals(64, server.seen.size());
        assertEquals(1, server.messageSizes.get(0), "the first request, asked for on the test's thread, went at once");
        assertEquals(60, server.messageSizes.get(1), "the 60 asked for in one answer's callback went in one message: " + server.messageSizes);
        assertEquals(List.of(1, 1, 1), server.messageSizes.subList(2, 5), "asked for off the I/O threads, each went at once");
    }

    @Test
    void answersAreMatchedToTheirRequestsWhateverTheirOrder() throws Exception {
        List<StreamRequest> held = new CopyOnWriteArrayList<>();
        StreamServer server = new StreamServer() {
            @Override
            void onRequest(int n, int i, StreamRequest r, StreamObserver<StreamResponse> out) {
                held.add(r);
                if (held.size() == 50) {
                    for (int j = held.size() - 1; j >= 0; j--) {
                        out.onNext(answer(held.get(j)));
                    }
                }
            }
        };
        try (SluiceClient c = client(server)) {
            assertEachHasItsOwnAnswer(ask(c, 50));
        }
        assertEquals(1, server.streams.get(), "one stream carried them all");
        assertEquals(0, server.unary.get());
    }

    @Test
    void aRequestNeverAnsweredGetsTheFailureModeAtItsDeadline() throws Exception {
        StreamServer server = new StreamServer() {
            @Override
            void onRequest(int n, int i, StreamRequest r, StreamObserver<StreamResponse> out) {
                if (!r.getRequest().getDescriptorsOrThrow("k").equals("0")) {
                    out.onNext(answer(r));
                }
            }
        };
        try (SluiceClient c = client(server)) {
            List<CompletableFuture<AcquireResult>> results = ask(c, 3);
            assertEquals(2, results.get(2).get(10, TimeUnit.SECONDS).limits().get(0).remaining());
            assertTrue(!results.get(0).isDone(), "still within its deadline");
            now.addAndGet(Duration.ofSeconds(20).toNanos());
            AcquireResult r = results.get(0).get(10, TimeUnit.SECONDS);
            assertEquals(AcquireResult.Source.FAIL_OPEN, r.source());
            assertTrue(r.failure().orElseThrow().contains("no answer within the 20000 ms deadline"), r.failure().orElseThrow());
        }
    }

    @Test
    void anAttemptPastItsOwnTimeoutIsSentAgainOnANewStreamWithItsId() throws Exception {
        // Stream 0 reads and never answers (a node that stalled); the others answer.
        StreamServer server = new StreamServer() {
            @Override
            void onRequest(int n, int i, StreamRequest r, StreamObserver<StreamResponse> out) {
                if (n > 0) {
                    out.onNext(answer(r));
                }
            }
        };
        String name = InProcessServerBuilder.generateName();
        grpc = InProcessServerBuilder.forName(name).addService(server).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        try (SluiceClient c = SluiceClient.builder().channel(channel).deadline(Duration.ofSeconds(20)).attemptTimeout(Duration.ofMillis(100))
                .nanoTime(now::get).streaming(true).build()) {
            List<CompletableFuture<AcquireResult>> results = ask(c, 3);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.seen.size() == 3);
            assertTrue(results.stream().noneMatch(CompletableFuture::isDone), "unanswered within their attempt's timeout");
            now.addAndGet(Duration.ofMillis(150).toNanos());
            assertEachHasItsOwnAnswer(results);
        }
        assertTrue(server.streams.get() >= 2, "a new stream carried the second attempts");
        assertEquals(6, server.seen.size());
        assertEquals(3, server.seen.stream().map(AcquireRequest::getRequestId).distinct().count(), "each sent again with its id");
    }

    @Test
    void aCallPastItsAttemptTimeoutIsMadeAgainWithItsId() throws Exception {
        // The first call is never answered (a node that stalled); the next is.
        AtomicInteger calls = new AtomicInteger();
        StreamServer server = new StreamServer() {
            @Override
            public void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
                seen.add(request);
                if (calls.getAndIncrement() > 0) {
                    observer.onNext(response(request));
                    observer.onCompleted();
                }
            }
        };
        String name = InProcessServerBuilder.generateName();
        grpc = InProcessServerBuilder.forName(name).addService(server).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        try (SluiceClient c = SluiceClient.builder().channel(channel).deadline(Duration.ofSeconds(20)).attemptTimeout(Duration.ofMillis(200))
                .nanoTime(now::get).streaming(false).build()) {
            AcquireResult r = c.acquireAsync(Acquire.domain("d").with("k", "7")).get(10, TimeUnit.SECONDS);
            assertEquals(AcquireResult.Source.SERVER, r.source(), r.toString());
            assertEquals(7, r.limits().get(0).remaining());
        }
        assertEquals(2, server.seen.size());
        assertEquals(server.seen.get(0).getRequestId(), server.seen.get(1).getRequestId(), "made again with its id");
    }

    @Test
    void theRequestsOfABrokenStreamAreSentAgainOnANewOneWithTheirIds() throws Exception {
        StreamServer server = new StreamServer() {
            @Override
            void onRequest(int n, int i, StreamRequest r, StreamObserver<StreamResponse> out) {
                if (n == 0 && i == 4) {
                    out.onError(Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
                } else if (n > 0) {
                    out.onNext(answer(r));
                }
            }
        };
        try (SluiceClient c = client(server)) {
            assertEachHasItsOwnAnswer(ask(c, 20));
        }
        assertTrue(server.streams.get() >= 2, "a new stream replaced the broken one");
        long distinctIds = server.seen.stream().map(AcquireRequest::getRequestId).distinct().count();
        assertEquals(20, distinctIds, "a request sent again keeps its id: " + server.seen.size() + " sent");
    }

    @Test
    void requestsANodeDidNotReadBeforeEndingItsStreamAreSentAgain() throws Exception {
        StreamServer server = new StreamServer() {
            @Override
            void onRequest(int n, int i, StreamRequest r, StreamObserver<StreamResponse> out) {
                if (n == 0 && i == 0) {
                    out.onNext(answer(r));
                    out.onCompleted(); // shutting down: the rest are not read
                } else if (n > 0) {
                    out.onNext(answer(r));
                }
            }
        };
        try (SluiceClient c = client(server)) {
            assertEachHasItsOwnAnswer(ask(c, 10));
        }
        assertTrue(server.streams.get() >= 2);
    }

    @Test
    void aStreamIsReplacedAfterItsShareOfRequestsAndLosesNone() throws Exception {
        StreamServer server = new StreamServer();
        String name = InProcessServerBuilder.generateName();
        grpc = InProcessServerBuilder.forName(name).addService(server).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        try (SluiceClient c = SluiceClient.builder().channel(channel).deadline(Duration.ofSeconds(20)).streaming(true)
                .requestsPerStream(10).build()) {
            for (int k = 0; k < 35; k++) {
                AcquireResult r = c.acquire(Acquire.domain("d").with("k", Integer.toString(k)));
                assertEquals(k, r.limits().get(0).remaining());
            }
            assertEachHasItsOwnAnswer(ask(c, 45));
        }
        assertTrue(server.streams.get() >= 8, "ten requests a stream: " + server.streams.get() + " streams");
        assertEquals(80, server.seen.size(), "each request sent once");
    }

    @Test
    void aNodeWithoutAcquireStreamIsAskedWithCalls() throws Exception {
        StreamServer server = new StreamServer() {
            @Override
            public StreamObserver<StreamRequests> acquireStream(StreamObserver<StreamResponses> out) {
                streams.incrementAndGet();
                out.onError(Status.UNIMPLEMENTED.asRuntimeException());
                return new StreamObserver<>() {
                    @Override
                    public void onNext(StreamRequests value) {
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                };
            }
        };
        try (SluiceClient c = client(server)) {
            assertEachHasItsOwnAnswer(ask(c, 5));
            assertEachHasItsOwnAnswer(ask(c, 5));
        }
        assertEquals(10, server.unary.get(), "every request answered by Acquire");
        assertEquals(1, server.streams.get(), "asked once whether it serves streams");
    }
}
