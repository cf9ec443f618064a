package dev.sluice.bench;

import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Calls a RateLimiter service over gRPC with the generated async stub: unary Acquire, or
 * AcquireBatch of {@code batch} requests. With several nodes, calls go to each in turn.
 */
final class GrpcTarget implements Target {

    private final String name;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<RateLimiterGrpc.RateLimiterStub> stubs = new ArrayList<>();
    private final List<Long> pids;
    private final int batch;
    private final AtomicInteger next = new AtomicInteger();
    private final AcquireRequest[] requests;

    GrpcTarget(String name, List<Integer> ports, List<Long> pids, int batch, int keys, long cost) {
        this.name = name;
        this.pids = pids;
        this.batch = batch;
        for (int port : ports) {
            ManagedChannel ch = channel(port);
            channels.add(ch);
            stubs.add(RateLimiterGrpc.newStub(ch));
        }
        requests = requests(keys + batch, cost);
    }

    /** The generator's channel to a server on this machine: answers handled on the I/O thread, a wide flow-control window. */
    static ManagedChannel channel(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor().flowControlWindow(4 * 1024 * 1024)
                .build();
    }

    /** The load's requests, one per bucket, built once: the generator measures the target, not protobuf building. */
    static AcquireRequest[] requests(int keys, long cost) {
        AcquireRequest[] out = new AcquireRequest[keys];
        for (int k = 0; k < keys; k++) {
            out[k] = AcquireRequest.newBuilder().setDomain("bench").putDescriptors("k", "k" + k).setCost(cost).build();
        }
        return out;
    }

    /** A request for the limit check's small bucket {@code key}. */
    static AcquireRequest checkRequest(String key) {
        return AcquireRequest.newBuilder().setDomain("bench").putDescriptors("kind", "check").putDescriptors("k", key).build();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int decisionsPerCall() {
        return batch;
    }

    private RateLimiterGrpc.RateLimiterStub stub() {
        return stubs.get(Math.floorMod(next.getAndIncrement(), stubs.size()));
    }

    @Override
    public CompletableFuture<Integer> call(long key) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        if (batch == 1) {
            stub().acquire(requests[(int) key], completing(f, r -> r.getDecision() == Decision.ALLOWED ? 1 : 0));
            return f;
        }
        AcquireBatchRequest.Builder b = AcquireBatchRequest.newBuilder();
        for (int i = 0; i < batch; i++) {
            b.addRequests(requests[(int) key + i]);
        }
        stub().acquireBatch(b.build(), completing(f, r -> {
            int allowed = 0;
            for (BatchEntry e : r.getResultsList()) {
                allowed += e.hasResponse() && e.getResponse().getDecision() == Decision.ALLOWED ? 1 : 0;
            }
            return allowed;
        }));
        return f;
    }

    /** Completes {@code f} with the number of decisions allowed in the answer, or with the call's error. */
    static <T> StreamObserver<T> completing(CompletableFuture<Integer> f, java.util.function.ToIntFunction<T> allowed) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T r) {
                f.complete(allowed.applyAsInt(r));
            }

            @Override
            public void onError(Throwable t) {
                f.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        };
    }

    @Override
    public int limitCheck(String key, int capacity, int attempts) {
        int allowed = 0;
        for (int i = 0; i < attempts; i++) {
            AcquireResponse r = RateLimiterGrpc.newBlockingStub(channels.get(0)).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .acquire(checkRequest(key));
            allowed += r.getDecision() == Decision.ALLOWED ? 1 : 0;
        }
        return allowed;
    }

    @Override
    public List<Long> pids() {
        return pids;
    }

    @Override
    public void close() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
