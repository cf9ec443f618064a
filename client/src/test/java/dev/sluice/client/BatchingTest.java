package dev.sluice.client;

import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireBatchResponse;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.BatchError;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.api.v1.RateLimiterGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests that find the wire busy go together in AcquireBatch calls, each with its own answer. */
class BatchingTest {

    /**
     * Answers {@code remaining} = the number in descriptor {@code k}; "bad" is INVALID_ARGUMENT,
     * "flaky" is UNAVAILABLE the first time its request id is seen. Holds every answer while
     * {@code holding}, so the test decides when the wire frees up.
     */
    static class NumberingServer extends RateLimiterGrpc.RateLimiterImplBase {
        final AtomicInteger unary = new AtomicInteger();
        final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        final List<Runnable> held = new CopyOnWriteArrayList<>();
        final Set<String> seenIds = ConcurrentHashMap.newKeySet();
        volatile boolean holding = true;

        void release() {
            holding = false;
            held.forEach(Runnable::run);
        }

        private void answer(Runnable r) {
            if (holding) {
                held.add(r);
            } else {
                r.run();
            }
        }

        Object decide(AcquireRequest request) {
            String k = request.getDescriptorsOrThrow("k");
            if (k.equals("bad")) {
                return Status.INVALID_ARGUMENT.withDescription("descriptors: k is bad");
            }
            if (k.equals("flaky") && seenIds.add(request.getRequestId())) {
                return Status.UNAVAILABLE.withDescription("a member left while deciding");
            }
            long n = k.equals("flaky") ? 7 : Long.parseLong(k);
            return AcquireResponse.newBuilder().setDecision(Decision.ALLOWED).setHttpStatus(200)
                    .addLimits(LimitStatus.newBuilder().setName("l").setDecision(Decision.ALLOWED).setLimit(1000).setRemaining(n))
                    .build();
        }

        @Override
        public void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
            unary.incrementAndGet();
            Object d = decide(request);
            answer(() -> {
                if (d instanceof Status s) {
                    observer.onError(s.asRuntimeException());
                } else {
                    observer.onNext((AcquireResponse) d);
                    observer.onCompleted();
                }
            });
        }

        @Override
        public void acquireBatch(AcquireBatchRequest batch, StreamObserver<AcquireBatchResponse> observer) {
            batchSizes.add(batch.getRequestsCount());
            AcquireBatchResponse.Builder out = AcquireBatchResponse.newBuilder();
            for (AcquireRequest r : batch.getRequestsList()) {
                Object d = decide(r);
                out.addResults(d instanceof Status s
                        ? BatchEntry.newBuilder().setError(BatchError.newBuilder().setCode(s.getCode().value()).setMessage(s.getDescription()))
                        : BatchEntry.newBuilder().setResponse((AcquireResponse) d));
            }
            answer(() -> {
                observer.onNext(out.build());
                observer.onCompleted();
            });
        }
    }

    /** The same, from a node that predates AcquireBatch. */
    static final class UnaryOnlyServer extends NumberingServer {
        @Override
        public void acquireBatch(AcquireBatchRequest batch, StreamObserver<AcquireBatchResponse> observer) {
            observer.onError(Status.UNIMPLEMENTED.asRuntimeException());
        }
    }

    private Server grpc;
    private ManagedChannel channel;

    private SluiceClient client(NumberingServer server, int callsInFlight, int maxBatch) throws Exception {
        String name = InProcessServerBuilder.generateName();
        grpc = InProcessServerBuilder.forName(name).addService(server).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        return SluiceClient.builder().channel(channel).deadline(Duration.ofSeconds(20)).batching(callsInFlight, maxBatch)
                .streaming(false).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static List<CompletableFuture<AcquireResult>> ask(SluiceClient c, List<String> ks) {
        List<CompletableFuture<AcquireResult>> out = new ArrayList<>();
        for (String k : ks) {
            out.add(c.acquireAsync(Acquire.domain("d").with("k", k)));
        }
        return out;
    }

    private static List<String> numbers(int n) {
        List<String> ks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ks.add(Integer.toString(i));
        }
        return ks;
    }

    @Test
    void requestsWaitingForABusyWireGoTogetherAndEachGetsItsOwnAnswer() throws Exception {
        NumberingServer server = new NumberingServer();
        try (SluiceClient c = client(server, 2, 50)) {
            List<CompletableFuture<AcquireResult>> results = ask(c, numbers(120));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.held.size() == 2);
            assertEquals(2, server.unary.get(), "the first two went at once, alone");
            assertEquals(List.of(), server.batchSizes, "the rest waited for the wire");
            server.release();
            for (int i = 0; i < 120; i++) {
                AcquireResult r = results.get(i).get(10, TimeUnit.SECONDS);
                assertEquals(AcquireResult.Source.SERVER, r.source());
                assertEquals(i, r.limits().get(0).remaining(), "answer " + i + " belongs to request " + i);
            }
        }
        assertEquals(2, server.unary.get());
        assertEquals(118, server.batchSizes.stream().mapToInt(Integer::intValue).sum());
        assertTrue(server.batchSizes.stream().allMatch(n -> n <= 50), "at most maxBatch per call: " + server.batchSizes);
    }

    @Test
    void anErrorForOneRequestOfABatchIsThatRequestsAlone() throws Exception {
        NumberingServer server = new NumberingServer();
        try (SluiceClient c = client(server, 1, 100)) {
            List<String> ks = new ArrayList<>(List.of("0", "1", "bad", "3", "flaky", "5"));
            List<CompletableFuture<AcquireResult>> results = ask(c, ks);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.held.size() == 1);
            server.release();
            for (int i = 0; i < ks.size(); i++) {
                CompletableFuture<AcquireResult> f = results.get(i);
                if (ks.get(i).equals("bad")) {
                    CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class, f::join);
                    assertInstanceOf(SluiceClientException.class, e.getCause());
                    assertTrue(e.getCause().getMessage().contains("k is bad"), e.getCause().getMessage());
                } else {
                    AcquireResult r = f.get(10, TimeUnit.SECONDS);
                    assertEquals(AcquireResult.Source.SERVER, r.source(), "request " + ks.get(i) + ": " + r.failure());
                    assertEquals(ks.get(i).equals("flaky") ? 7 : Long.parseLong(ks.get(i)), r.limits().get(0).remaining());
                }
            }
        }
        assertEquals(List.of(5), server.batchSizes.subList(0, 1), "five waited and went in one batch");
    }

    @Test
    void aNodeWithoutAcquireBatchIsAskedOneRequestAtATime() throws Exception {
        NumberingServer server = new UnaryOnlyServer();
        try (SluiceClient c = client(server, 2, 50)) {
            List<CompletableFuture<AcquireResult>> results = ask(c, numbers(40));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.held.size() == 2);
            server.release();
            for (int i = 0; i < 40; i++) {
                assertEquals(i, results.get(i).get(10, TimeUnit.SECONDS).limits().get(0).remaining());
            }
        }
        assertEquals(40, server.unary.get(), "every request answered by a unary call in the end");
    }
}
