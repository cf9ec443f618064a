package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.StreamRequest;
import dev.sluice.api.v1.StreamRequests;
import dev.sluice.api.v1.StreamResponses;
import dev.sluice.server.api.EventLoops;
import dev.sluice.server.api.RateLimiterService;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.observe.DecisionMetrics;
import dev.sluice.server.observe.DecisionTracing;
import dev.sluice.server.observe.RpcMetrics;
import dev.sluice.server.observe.TopKeys;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.time.Clock;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * A node's first decisions are slow (the JIT has compiled nothing, Hazelcast has made no call):
 * 60 to 300 ms, past a client's deadline. Before a node reports SERVING it decides several
 * thousand requests on a domain of its own, through the real service on a plaintext loopback port
 * of its own served by the node's own event loops (so gRPC's and Netty's server paths warm too),
 * on every algorithm and with keys spread over the partitions, unary, in batches and on streams.
 * The domain's buckets come to rest within a second and are swept like any others.
 */
final class WarmUp {

    private static final Logger LOG = Logger.getLogger(WarmUp.class.getName());

    /** The warm-up's own domain; a policy file's domain of this name would share nothing but the name's prefix of bucket keys. */
    static final String DOMAIN = "sluice-warm-up";

    /**
     * Shapes of policy and request as real ones come: rules of five, one and two limits (a
     * request meets one to seven of them), every header dialect, a body and extra headers; the JIT
     * compiles for the shapes it has seen, and a shape first met by a real request sends the
     * compiled code back to the interpreter while it recompiles (measured: the first real burst
     * after a warm-up of one shape alone had the hot path's methods deoptimized under it).
     */
    private static final String POLICY = """
            domains:
              sluice-warm-up:
                rules:
                  - name: warm
                    limits:
                      - {name: tb, algorithm: token_bucket, capacity: 5, refill: 5, refill_period: 1s, key: [k]}
                      - {name: lb, algorithm: leaky_bucket, capacity: 5, leak: 5, leak_period: 1s, key: [k]}
                      - {name: fw, algorithm: fixed_window, limit: 5, window: 1s, key: [k]}
                      - {name: sw, algorithm: sliding_window, limit: 5, window: 1s, key: [k]}
                      - {name: sh, algorithm: token_bucket, capacity: 1, refill: 1, shadow: true, key: [k]}
                  - name: one
                    limits:
                      - {name: one, algorithm: token_bucket, capacity: 5, refill: 5, key: [o]}
                  - name: two
                    limits:
                      - {name: two-fw, algorithm: fixed_window, limit: 5, window: 1s, key: [t]}
                      - {name: two-sw, algorithm: sliding_window, limit: 5, window: 1s, key: [t, u]}
              sluice-warm-up-x:
                response:
                  headers: x-ratelimit
                  body: '{"error": "rate limited", "retry_after": ${retry_after}, "limit": "${name}"}'
                  content_type: application/json
                  extra_headers: {X-Warm-Used: "${used}"}
                rules:
                  - name: one
                    limits:
                      - {name: one, algorithm: token_bucket, capacity: 5, refill: 5, key: [o]}
                  - name: two
                    limits:
                      - {name: two-tb, algorithm: token_bucket, capacity: 5, refill: 5, key: [t]}
                      - {name: two-fw, algorithm: fixed_window, limit: 5, window: 1s, key: [k]}
              sluice-warm-up-i:
                response:
                  headers: x-ratelimit-interval
                  retry_after: false
                rules:
                  - name: one
                    limits:
                      - {name: one, algorithm: fixed_window, limit: 5, window: 1s, key: [o]}
                  - name: two
                    limits:
                      - {name: two-lb, algorithm: leaky_bucket, capacity: 5, leak: 5, leak_period: 1s, key: [t]}
                      - {name: two-sw, algorithm: sliding_window, limit: 5, window: 1s, key: [k]}
              sluice-warm-up-late-1:
                rules:
                  - {name: late, limits: [{name: late, algorithm: token_bucket, capacity: 5, refill: 5, key: [k]}]}
              sluice-warm-up-late-2:
                rules:
                  - {name: late, limits: [{name: late, algorithm: token_bucket, capacity: 5, refill: 5, key: [k]}]}
            """;

    /**
     * Distinct keys, a few on every partition: each leaves a bucket per limit, and every bucket the
     * warm-up leaves is one the first sweep after it removes.
     */
    static final int KEYS = 1024;

    /** Requests of a burst on each of a unary and a stream path. */
    static final int BURST = 1000;

    /** A burst of both taking no longer than this (two thousand decisions at 25,000 a second)... */
    static final long SETTLED_NANOS = TimeUnit.MILLISECONDS.toNanos(80);

    /** ...this many times in a row, and the node is warm. */
    static final int SETTLED_BURSTS = 3;

    private WarmUp() {
    }

    /**
     * Decides about {@code decisions} requests through the service, served by {@code loopback} (a
     * server builder on a free loopback port); gives up after {@code timeoutMillis}.
     */
    static void run(DecisionEngine engine, Runnable sweep, Clock clock, NettyServerBuilder loopback, EventLoops loops, int decisions,
                    long timeoutMillis, boolean metered, double nearLimit, boolean topKeys) {
        if (decisions <= 0) {
            return;
        }
        Policies policies;
        try {
            policies = PolicyLoader.parse(POLICY, "warm-up");
        } catch (PolicyException e) {
            throw new IllegalStateException("the warm-up policy is invalid", e);
        }
        // A node that serves metrics records every decision in them: the warm-up records its own in a
        // registry of the same kind that nobody scrapes, so that code is compiled before the first
        // real request and the node's metrics count real decisions alone.
        PrometheusMeterRegistry registry = metered ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null;
        // Built as the node's own path is (its policies read through the same lambda, top keys counted
        // where the node counts them, in a sketch of its own), so the code compiled here is for the
        // types real requests meet.
        DecisionPath path = new DecisionPath(DecisionPath.policiesOf(new AtomicReference<>(policies)), engine, clock, 100_000,
                registry == null ? DecisionMetrics.OFF : new DecisionMetrics(registry, nearLimit), DecisionTracing.OFF,
                topKeys ? new TopKeys() : TopKeys.OFF);
        RpcMetrics rpc = registry == null ? RpcMetrics.OFF : new RpcMetrics(registry);
        long t0 = System.nanoTime();
        Server server = null;
        ManagedChannel channel = null;
        try {
            server = loopback.addService(new RateLimiterService(path, loops, rpc)).build().start();
            channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            long done = unary(channel, decisions / 2, deadline);
            done += batches(channel, decisions / 4, deadline);
            done += stream(channel, decisions - done, deadline);
            // Then until the node answers a burst as a warm one does: the JIT compiles in the
            // background, and a node that has made the decisions may not yet make them fast.
            int settled = 0;
            long burstNanos = Long.MAX_VALUE;
            int bursts = 0;
            while (settled < SETTLED_BURSTS && System.nanoTime() < deadline) {
                if (bursts < LATE.length) {
                    RateLimiterGrpc.newBlockingStub(channel).withDeadlineAfter(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                            .acquire(AcquireRequest.newBuilder().setDomain(LATE[bursts]).putDescriptors("k", "late").build());
                    done++;
                }
                bursts++;
                long b0 = System.nanoTime();
                done += unary(channel, BURST, deadline) + stream(channel, BURST, deadline);
                burstNanos = System.nanoTime() - b0;
                settled = burstNanos <= SETTLED_NANOS ? settled + 1 : 0;
                long took = burstNanos;
                LOG.fine(() -> "warm-up burst of " + 2 * BURST + " took " + TimeUnit.NANOSECONDS.toMicros(took) + " µs");
                // The sweep of rested buckets scans every owned partition on its partition thread:
                // its first run, cold, held the first real requests past their deadline when it
                // fell just after the warm-up. Run here after every burst, it is compiled by then
                // (once every ten bursts measured worse: 1,000 and 0 answers missed in two runs).
                sweep.run();
            }
            long made = done;
            long lastBurst = burstNanos;
            boolean warm = settled >= SETTLED_BURSTS;
            LOG.info(() -> "warmed the decision path with " + made + " decisions in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms before serving"
                    + (warm ? "" : "; it had not settled (the last burst of " + 2 * BURST + " took "
                            + TimeUnit.NANOSECONDS.toMillis(lastBurst) + " ms), serving anyway"));
        } catch (IOException | RuntimeException e) {
            LOG.warning("warm-up did not finish (" + e + "); serving anyway");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (channel != null) {
                channel.shutdownNow();
            }
            if (server != null) {
                server.shutdownNow();
            }
            if (registry != null) {
                registry.close();
            }
        }
    }

    private static final String[] DOMAINS = {DOMAIN, DOMAIN + "-x", DOMAIN + "-i"};

    /**
     * Domains first asked for once the path is compiled, one before each of the first bursts: the
     * first request of a domain takes branches no later one does (its metrics and top-keys
     * counters are made), and compiled code that has never seen them traps back to the
     * interpreter there. Met here, they are compiled in before the first real domain's request.
     */
    private static final String[] LATE = {DOMAIN + "-late-1", DOMAIN + "-late-2"};

    /** Request ids, as the Java client gives every request: unique within this warm-up, and its node's start. */
    private static final String IDS = "sluice-warm-up-" + Long.toHexString(System.nanoTime()) + "-";
    private static final AtomicLong REQUESTS = new AtomicLong();

    /**
     * The {@code i}th request: each domain in turn; one, two or three descriptors; a request id on
     * three of four (the Java client sends one, other callers may not); the cost given on half; a
     * route hint asked on one of eight (the Java client asks on a request's first asking).
     */
    private static AcquireRequest request(long i) {
        String key = "w" + (i & (KEYS - 1));
        AcquireRequest.Builder b = AcquireRequest.newBuilder().setDomain(DOMAINS[(int) (i % DOMAINS.length)]);
        switch ((int) ((i >> 2) & 3)) {
            case 0 -> b.putDescriptors("k", key);
            case 1 -> b.putDescriptors("o", key);
            case 2 -> b.putDescriptors("t", key).putDescriptors("u", "a");
            default -> b.putDescriptors("k", key).putDescriptors("o", key);
        }
        if ((i & 3) != 3) {
            b.setRequestId(IDS + REQUESTS.incrementAndGet());
        }
        if ((i & 16) == 0) {
            b.setCost(1);
        }
        if ((i % 8) == 5) {
            b.setRouteHint(true);
        }
        return b.build();
    }

    private static long unary(ManagedChannel channel, int n, long deadline) throws InterruptedException {
        RateLimiterGrpc.RateLimiterStub stub = RateLimiterGrpc.newStub(channel);
        Semaphore window = new Semaphore(64);
        AtomicLong answered = new AtomicLong();
        for (int i = 0; i < n && System.nanoTime() < deadline; i++) {
            if (!window.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                break;
            }
            stub.acquire(request(i), new StreamObserver<>() {
                @Override
                public void onNext(dev.sluice.api.v1.AcquireResponse value) {
                    answered.incrementAndGet();
                }

                @Override
                public void onError(Throwable t) {
                    window.release();
                }

                @Override
                public void onCompleted() {
                    window.release();
                }
            });
        }
        window.tryAcquire(64, Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        return answered.get();
    }

    private static long batches(ManagedChannel channel, int n, long deadline) {
        RateLimiterGrpc.RateLimiterBlockingStub stub = RateLimiterGrpc.newBlockingStub(channel);
        long done = 0;
        for (int i = 0; done < n && System.nanoTime() < deadline; i++) {
            AcquireBatchRequest.Builder b = AcquireBatchRequest.newBuilder();
            for (int j = 0; j < 50; j++) {
                b.addRequests(request((long) i * 50 + j));
            }
            done += stub.withDeadlineAfter(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).acquireBatch(b.build())
                    .getResultsCount();
        }
        return done;
    }

    private static long stream(ManagedChannel channel, long n, long deadline) throws InterruptedException {
        if (n <= 0) {
            return 0;
        }
        AtomicLong answered = new AtomicLong();
        CountDownLatch ended = new CountDownLatch(1);
        StreamObserver<StreamRequests> out = RateLimiterGrpc.newStub(channel).acquireStream(new StreamObserver<>() {
            @Override
            public void onNext(StreamResponses value) {
                answered.addAndGet(value.getResponsesCount());
            }

            @Override
            public void onError(Throwable t) {
                ended.countDown();
            }

            @Override
            public void onCompleted() {
                ended.countDown();
            }
        });
        // Messages of one request (as a caller sends them one at a time), of two, and of twenty.
        int[] sizes = {1, 2, 20};
        for (long sent = 0, k = 0; sent < n; k++) {
            int size = sizes[(int) (k % sizes.length)];
            StreamRequests.Builder m = StreamRequests.newBuilder();
            for (int j = 0; j < size; j++, sent++) {
                m.addRequests(StreamRequest.newBuilder().setId(sent).setRequest(request(sent)));
            }
            out.onNext(m.build());
        }
        out.onCompleted();
        ended.await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        return answered.get();
    }
}
