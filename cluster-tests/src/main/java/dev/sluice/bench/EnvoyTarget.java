package dev.sluice.bench;

import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.ManagedChannel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Envoy's {@code ShouldRateLimit} as an Envoy proxy calls it: unary, one descriptor of one entry,
 * against the nodes' envoyproxy/ratelimit configuration ({@link #CONFIG}), each node in turn.
 */
final class EnvoyTarget implements Target {

    /** One counting window a key, too large to fill in a run; and the limit check's small one. */
    static final String CONFIG = """
            domain: bench
            descriptors:
              - key: k
                rate_limit: {unit: year, requests_per_unit: 4294967295}
              - key: kind
                value: check
                descriptors:
                  - key: k
                    rate_limit: {unit: year, requests_per_unit: 5}
            """;

    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<RateLimitServiceGrpc.RateLimitServiceStub> stubs = new ArrayList<>();
    private final List<Long> pids;
    private final AtomicInteger next = new AtomicInteger();
    private final RateLimitRequest[] requests;

    EnvoyTarget(List<Integer> ports, List<Long> pids, int keys, long cost) {
        this.pids = pids;
        for (int port : ports) {
            ManagedChannel ch = GrpcTarget.channel(port);
            channels.add(ch);
            stubs.add(RateLimitServiceGrpc.newStub(ch));
        }
        requests = new RateLimitRequest[keys];
        for (int k = 0; k < keys; k++) {
            requests[k] = RateLimitRequest.newBuilder().setDomain("bench").setHitsAddend((int) cost)
                    .addDescriptors(RateLimitDescriptor.newBuilder().addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("k")
                            .setValue("k" + k))).build();
        }
    }

    @Override
    public String name() {
        return "sluice-envoy";
    }

    @Override
    public CompletableFuture<Integer> call(long key) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        stubs.get(Math.floorMod(next.getAndIncrement(), stubs.size())).shouldRateLimit(requests[(int) key],
                GrpcTarget.<RateLimitResponse>completing(f, r -> r.getOverallCode() == RateLimitResponse.Code.OK ? 1 : 0));
        return f;
    }

    @Override
    public int limitCheck(String key, int capacity, int attempts) {
        RateLimitRequest check = RateLimitRequest.newBuilder().setDomain("bench").addDescriptors(RateLimitDescriptor.newBuilder()
                .addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("kind").setValue("check"))
                .addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("k").setValue(key))).build();
        int allowed = 0;
        for (int i = 0; i < attempts; i++) {
            RateLimitResponse r = RateLimitServiceGrpc.newBlockingStub(channels.get(0)).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .shouldRateLimit(check);
            allowed += r.getOverallCode() == RateLimitResponse.Code.OK ? 1 : 0;
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
