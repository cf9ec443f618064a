package dev.sluice.bench;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.StreamRequest;
import dev.sluice.api.v1.StreamRequests;
import dev.sluice.api.v1.StreamResponse;
import dev.sluice.api.v1.StreamResponses;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Calls AcquireStream with the generated async stub: one long-lived stream per node, each
 * decision one message (the Java client packs the requests it has waiting; this target shows
 * what a message costs), answers matched to requests by id. With several nodes, requests go to
 * each stream in turn.
 */
final class StreamTarget implements Target {

    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<StreamObserver<StreamRequests>> streams = new ArrayList<>();
    private final Map<Long, CompletableFuture<Integer>> waiting = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicInteger next = new AtomicInteger();
    private final List<Long> pids;
    private final AcquireRequest[] requests;

    StreamTarget(List<Integer> ports, List<Long> pids, int keys, long cost) {
        this.pids = pids;
        for (int port : ports) {
            ManagedChannel ch = GrpcTarget.channel(port);
            channels.add(ch);
            streams.add(RateLimiterGrpc.newStub(ch).acquireStream(new StreamObserver<>() {
                @Override
                public void onNext(StreamResponses message) {
                    for (StreamResponse r : message.getResponsesList()) {
                        CompletableFuture<Integer> f = waiting.remove(r.getId());
                        if (f == null) {
                            continue;
                        }
                        if (r.getResult().hasResponse()) {
                            f.complete(r.getResult().getResponse().getDecision() == Decision.ALLOWED ? 1 : 0);
                        } else {
                            f.completeExceptionally(new IllegalStateException("error " + r.getResult().getError().getCode() + ": "
                                    + r.getResult().getError().getMessage()));
                        }
                    }
                }

                @Override
                public void onError(Throwable t) {
                    waiting.values().forEach(f -> f.completeExceptionally(t));
                }

                @Override
                public void onCompleted() {
                }
            }));
        }
        requests = GrpcTarget.requests(keys, cost);
    }

    @Override
    public String name() {
        return "sluice-stream";
    }

    @Override
    public CompletableFuture<Integer> call(long key) {
        return send(requests[(int) key]);
    }

    private CompletableFuture<Integer> send(AcquireRequest request) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        long id = ids.incrementAndGet();
        waiting.put(id, f);
        StreamObserver<StreamRequests> stream = streams.get(Math.floorMod(next.getAndIncrement(), streams.size()));
        synchronized (stream) {
            stream.onNext(StreamRequests.newBuilder().addRequests(StreamRequest.newBuilder().setId(id).setRequest(request)).build());
        }
        return f;
    }

    @Override
    public int limitCheck(String key, int capacity, int attempts) throws Exception {
        int allowed = 0;
        for (int i = 0; i < attempts; i++) {
            allowed += send(GrpcTarget.checkRequest(key)).get(10, TimeUnit.SECONDS);
        }
        return allowed;
    }

    @Override
    public List<Long> pids() {
        return pids;
    }

    @Override
    public void close() throws InterruptedException {
        for (StreamObserver<StreamRequests> s : streams) {
            synchronized (s) {
                s.onCompleted();
            }
        }
        for (ManagedChannel c : channels) {
            c.shutdown().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
