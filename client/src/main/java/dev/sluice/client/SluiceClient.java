package dev.sluice.client;

import dev.sluice.api.v1.AcquireRequest;
import io.grpc.stub.StreamObserver;
import io.grpc.Status;
import dev.sluice.api.v1.LeaseStatus;
import dev.sluice.api.v1.PartitionsRequest;
import dev.sluice.api.v1.PartitionsResponse;
import dev.sluice.api.v1.RenewResponse;
import dev.sluice.api.v1.RenewRequest;
import dev.sluice.api.v1.ReleaseResponse;
import dev.sluice.api.v1.ReleaseRequest;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.LeaseRequest;
import dev.sluice.api.v1.LeaseResponse;
import dev.sluice.api.v1.SettleRequest;
import dev.sluice.api.v1.SettleResponse;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;

import java.net.InetAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The Java client for Sluice: ask before serving a request, get a decision back in time, always.
 *
 * <pre>{@code
 * SluiceClient sluice = SluiceClient.builder().target("sluice.limits.svc.cluster.local:8081").build();
 *
 * AcquireResult result = sluice.acquire(Acquire.domain("demo").with("ip", clientIp));
 * if (result.denied()) {
 *     result.writeTo(responseWriter);   // 429, Retry-After, the policy's headers and body
 *     return;
 * }
 * }</pre>
 *
 * <p>Every call has a deadline (50 ms unless configured) and a fresh request id, so retries of
 * the same call are never counted twice. Requests go to the next node in turn over every node the
 * targets resolve to, or, with {@link Builder#routing}, to the node owning their bucket once the
 * client has learned where that is; nodes are re-resolved every few seconds and after failures. A transport
 * failure never throws from {@link #acquire}: the {@link FailureMode} answers instead. Denials
 * are remembered locally for exactly as long as the server said to wait. Under load, requests
 * that find several calls already on the wire go together in one {@code AcquireBatch} call, each
 * with its own answer ({@link Builder#batching}); by default requests travel instead as messages on
 * long-lived {@code AcquireStream} calls, one per node ({@link Builder#streaming}). Thread-safe; create one
 * per process and {@link #close()} it on shutdown.
 */
public final class SluiceClient implements AutoCloseable {

    /** How often the client pings each node's connection, and how long it waits for the answer before taking it for dead. */
    static final long KEEPALIVE_SECONDS = 5;
    static final long KEEPALIVE_TIMEOUT_SECONDS = 2;

    private final ManagedChannel channel;
    private final boolean ownsChannel;
    private final RateLimiterGrpc.RateLimiterStub rawStub;
    private final ScheduledExecutorService timer;
    private final long deadlineNanos;
    /** How long each attempt of a request may wait for its node: the deadline, unless {@link Builder#attemptTimeout} says less. */
    private final long attemptNanos;
    private final DenialCache denials;
    private final LongSupplier nanoTime;
    private final NodesResolver.Factory resolvers;
    private final RequestIds requestIds = new RequestIds();
    private final Replies replies;
    /** How attempts travel: streams, batched calls or calls, as the builder chose. */
    private final Transport transport;
    /** Which node owns which request's bucket, for sending requests there. */
    private final Routes routes;
    private final Set<CompletableFuture<AcquireResult>> outstanding = ConcurrentHashMap.newKeySet();
    /** Leases for hot keys, or {@code null} when the builder did not ask for them. */
    private final HotLeases hot;
    private volatile boolean closed;

    private SluiceClient(Builder b) {
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-client");
            t.setDaemon(true);
            return t;
        });
        this.nanoTime = b.nanoTime;
        if (b.channel != null) {
            this.channel = b.channel;
            this.ownsChannel = false;
            this.resolvers = null;
        } else {
            List<NodesResolver.Target> targets = new ArrayList<>();
            for (String t : b.targets) {
                targets.add(NodesResolver.Target.parse(t));
            }
            this.resolvers = new NodesResolver.Factory(targets, b.lookup, timer, b.refreshInterval);
            NodePicker.register();
            NettyChannelBuilder channelBuilder = NettyChannelBuilder.forTarget("sluice:///nodes")
                    .nameResolverFactory(resolvers)
                    .defaultLoadBalancingPolicy(NodePicker.POLICY)
                    .disableRetry()
                    // A connection a network fault left dead (no reset, packets dropped) is found in
                    // 5 + 2 s and its node's requests go to the others; without it they would wait
                    // out their deadlines until TCP gave up, minutes later.
                    .keepAliveTime(KEEPALIVE_SECONDS, TimeUnit.SECONDS)
                    .keepAliveTimeout(KEEPALIVE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            // The nodes' certificate is checked against the first target's host name.
            this.channel = (b.tls == null ? channelBuilder.usePlaintext() : channelBuilder.sslContext(b.tls)).build();
            this.ownsChannel = true;
            // Resolve and connect now, so the first decisions do not pay for it: a burst of
            // requests made right after build() would otherwise wait for the connection and miss
            // their deadline together.
            awaitReady(channel, b.awaitConnection.toNanos());
        }
        this.rawStub = b.bearerToken == null ? RateLimiterGrpc.newStub(channel)
                : RateLimiterGrpc.newStub(channel).withCallCredentials(new BearerToken(b.bearerToken));
        RateLimiterGrpc.RateLimiterStub stub = rawStub.withExecutor(b.executor != null ? b.executor : IoThreads.EXECUTOR);
        this.deadlineNanos = b.deadline.toNanos();
        this.attemptNanos = b.attemptTimeout == null ? deadlineNanos : Math.min(deadlineNanos, b.attemptTimeout.toNanos());
        this.denials = new DenialCache(nanoTime, b.denialCache ? b.maxCachedDenials : 0);
        this.routes = new Routes(ownsChannel ? b.routedRequests : 0);
        this.replies = new Replies(denials, new Retries(b.retry, timer, nanoTime, attemptNanos), b.failureMode, nanoTime, deadlineNanos,
                routes);
        UnaryCalls unary = new UnaryCalls(stub, replies, nanoTime, routes);
        Transport calls = b.callsBeforeBatching == 0 ? unary
                : new BatchedCalls(stub, unary, replies, nanoTime, b.callsBeforeBatching, b.maxBatch);
        // Deadlines of requests on a stream are checked this often: a twentieth of the deadline, 1 to 5 ms.
        long sweep = Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(TimeUnit.MILLISECONDS.toNanos(5), deadlineNanos / 20));
        this.transport = b.streaming
                ? new Streams(stub, replies, calls, timer, nanoTime, this::nodeCount, sweep, b.requestsPerStream, routes) : calls;
        replies.retryOn(transport);
        if (ownsChannel && b.routedRequests > 0) {
            timer.execute(this::askPartitions);
            long every = b.refreshInterval.toNanos();
            timer.scheduleWithFixedDelay(this::askPartitions, every, every, TimeUnit.NANOSECONDS);
        }
        this.hot = b.hotKeyRate <= 0 ? null : new HotLeases(new HotLeases.Calls() {
            @Override
            public void lease(LeaseRequest request, CompletableFuture<LeaseResponse> done) {
                // No request waits for a lease (they are asked of a node meanwhile): it may take longer than a decision.
                rawStub.withDeadlineAfter(Math.max(deadlineNanos, LEASE_CALL_NANOS), TimeUnit.NANOSECONDS).lease(request, observer(done));
            }

            @Override
            public void settle(SettleRequest request, CompletableFuture<SettleResponse> done) {
                tried((s, answer) -> s.settle(request, answer), 1, done, Math.max(deadlineNanos, LEASE_CALL_NANOS));
            }
        }, b.hotKeyRate, b.hotKeyLease, nanoTime, timer, requestIds);
    }

    /** The nodes this client holds a routed stream to: none without streams. */
    Set<SocketAddress> routedStreamNodes() {
        return transport instanceof Streams streams ? streams.routedNodes() : Set.of();
    }

    /** Asks a node which node owns which partition, for {@link Routes}; a node that does not know the call turns routing off. */
    private void askPartitions() {
        NodesResolver resolver = resolvers.last();
        if (closed || resolver == null) {
            return;
        }
        CompletableFuture<PartitionsResponse> answer = new CompletableFuture<>();
        answer.whenComplete((table, failure) -> {
            if (failure == null) {
                routes.table(table, resolver.addresses());
            } else if (Status.fromThrowable(failure).getCode() == Status.Code.UNIMPLEMENTED) {
                routes.off();
            } else {
                return; // the table stays as it was until the next refresh
            }
            if (transport instanceof Streams streams) {
                streams.routeOnlyTo(routes.nodes());
            }
        });
        rawStub.withDeadlineAfter(PARTITIONS_CALL_NANOS, TimeUnit.NANOSECONDS).partitions(PartitionsRequest.getDefaultInstance(), observer(answer));
    }

    /** An observer that completes {@code done} with the one answer of a unary call. */
    private static <A> StreamObserver<A> observer(CompletableFuture<A> done) {
        return new StreamObserver<>() {
            @Override
            public void onNext(A answer) {
                done.complete(answer);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        };
    }

    /** Connects, and waits up to {@code nanos} for the channel to be ready; a node that is down only delays the return. */
    private static void awaitReady(ManagedChannel channel, long nanos) {
        long end = System.nanoTime() + nanos;
        ConnectivityState state = channel.getState(true);
        while (state != ConnectivityState.READY && state != ConnectivityState.SHUTDOWN) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return;
            }
            CountDownLatch changed = new CountDownLatch(1);
            channel.notifyWhenStateChanged(state, changed::countDown);
            try {
                changed.await(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            state = channel.getState(true);
        }
    }

    private int nodeCount() {
        NodesResolver r = resolvers == null ? null : resolvers.last();
        return r == null ? 1 : r.addresses().size();
    }

    /** A builder: give at least one target (or a channel of your own). */
    public static Builder builder() {
        return new Builder();
    }

    /** Asks and waits for the answer, at most the deadline plus scheduling noise. Never throws for a transport failure. */
    public AcquireResult acquire(Acquire request) {
        if (IoThreads.delivering()) {
            throw new IllegalStateException("acquire() waits for an answer that this very thread, one of the client's I/O threads,"
                    + " would have to deliver: from a callback of acquireAsync, call acquireAsync and chain on it, or give the"
                    + " builder an executor for callbacks that block");
        }
        try {
            return acquireAsync(request).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof SluiceClientException wrong) {
                throw wrong;
            }
            return replies.fail("unexpected: " + e.getCause());
        }
    }

    /** {@link #acquire(Acquire)} for {@code domain} and {@code descriptors} at a cost of 1. */
    public AcquireResult acquire(String domain, Map<String, String> descriptors) {
        return acquire(Acquire.domain(domain).with(descriptors));
    }

    /**
     * Asks without blocking. The future completes within the deadline with the answer (or the
     * failure mode's), or exceptionally with a {@link SluiceClientException} for a request that
     * is wrong. Unless the builder was given an {@link Builder#executor executor}, it completes on
     * one of gRPC's I/O threads: callbacks chained on it must not block (and {@link #acquire}
     * refuses to run there).
     */
    public CompletableFuture<AcquireResult> acquireAsync(Acquire request) {
        Objects.requireNonNull(request, "request");
        long start = nanoTime.getAsLong();
        if (!request.isDryRun()) {
            AcquireResult cached = denials.lookup(request);
            if (cached != null) {
                return CompletableFuture.completedFuture(cached);
            }
            if (hot != null && !closed) {
                AcquireResult leased = hot.local(request);
                if (leased != null) {
                    return CompletableFuture.completedFuture(leased);
                }
            }
        }
        AcquireRequest proto = AcquireRequest.newBuilder()
                .setDomain(request.domain())
                .putAllDescriptors(request.descriptors())
                .setCost(request.cost())
                .setDryRun(request.isDryRun())
                .setRequestId(requestIds.next())
                .setRouteHint(routes.wantsHint(request))
                .build();
        CompletableFuture<AcquireResult> result = new CompletableFuture<>();
        if (closed) {
            result.complete(replies.fail("the client is closed"));
            return result;
        }
        outstanding.add(result);
        result.whenComplete((r, e) -> {
            outstanding.remove(result);
            if (hot != null) {
                hot.observed(request, r);
            }
        });
        transport.send(new Attempt(request, proto, start + deadlineNanos, start + attemptNanos, 1, result));
        return result;
    }

    /**
     * Acquires slots of the concurrency limits that apply to {@code request} (with whatever rate
     * limits apply too, all or nothing), as a {@link Permit} that gives them back when closed.
     * Waits for the answer as {@link #acquire} does.
     */
    public Permit acquirePermit(Acquire request) {
        return new Permit(this, request, acquire(request));
    }

    /** {@link #acquirePermit(Acquire)}, renewing the lease every {@code renewEvery} while the permit is open. */
    public Permit acquirePermit(Acquire request, Duration renewEvery) {
        if (renewEvery.isNegative() || renewEvery.isZero()) {
            throw new IllegalArgumentException("renewEvery must be positive (well under the limit's lease), got " + renewEvery);
        }
        Permit p = acquirePermit(request);
        p.renewEvery(renewEvery);
        return p;
    }

    /** How many times a Release or a Settle (both idempotent) is tried while no node answers. */
    static final int IDEMPOTENT_TRIES = 5;

    /**
     * Gives back the slots {@code request} holds under lease {@code leaseId}. Completes with
     * whether any were held; tried again (it is idempotent) while no node answers, up to
     * {@value #IDEMPOTENT_TRIES} times, after which the lease running out gives them back.
     */
    public CompletableFuture<Boolean> releaseAsync(Acquire request, String leaseId) {
        ReleaseRequest r = ReleaseRequest.newBuilder().setDomain(request.domain()).putAllDescriptors(request.descriptors())
                .setLeaseId(leaseId).build();
        CompletableFuture<ReleaseResponse> done = new CompletableFuture<>();
        tried((stub, answer) -> stub.release(r, answer), 1, done);
        return done.thenApply(answer -> answer.getLeasesList().stream().anyMatch(LeaseStatus::getHeld));
    }

    /**
     * Settles the cost of a request acquired before at {@code actualCost} units, now that it is
     * known: the node gives back or charges the difference from the {@code request}'s cost (the
     * estimate) under every limit that took it, once however often it is asked. {@code acquired}
     * is what {@link #acquireAsync} answered for {@code request}: its request id names the
     * request. Tried again while no node answers, up to {@value #IDEMPOTENT_TRIES} times. Fails
     * with FAILED_PRECONDITION when the buckets no longer remember the request (past the node's
     * request memory or the limit's {@code settle_within}), or when nothing was charged for it
     * (a denial, or an answer of the failure mode).
     */
    public CompletableFuture<SettleResponse> settleAsync(Acquire request, AcquireResult acquired, long actualCost) {
        if (actualCost < 0) {
            throw new IllegalArgumentException("actualCost must not be negative, got " + actualCost);
        }
        if (acquired.source() == AcquireResult.Source.LEASE) {
            throw new IllegalArgumentException("this answer was decided from a hot key's lease, whose units are settled with the"
                    + " lease; settle only requests a node decided, or build the client without hotKeyLeases for them");
        }
        if (acquired.requestId().isEmpty()) {
            throw new IllegalArgumentException("this answer came from the client's cache of denials: no request was made to settle");
        }
        SettleRequest r = SettleRequest.newBuilder().setDomain(request.domain()).putAllDescriptors(request.descriptors())
                .setRequestId(acquired.requestId()).setActualCost(actualCost).build();
        CompletableFuture<SettleResponse> done = new CompletableFuture<>();
        tried((stub, answer) -> stub.settle(r, answer), 1, done);
        return done;
    }

    /** The deadline of a hot key's Lease and of the Settle giving back its rest: calls no request waits for. */
    static final long LEASE_CALL_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** How long the client waits for a node's partition table. */
    static final long PARTITIONS_CALL_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Makes an idempotent call, again after a pause while no node answers, up to {@value #IDEMPOTENT_TRIES} times. */
    private <A> void tried(java.util.function.BiConsumer<RateLimiterGrpc.RateLimiterStub, StreamObserver<A>> call, int attempt,
                           CompletableFuture<A> done) {
        tried(call, attempt, done, deadlineNanos);
    }

    private <A> void tried(java.util.function.BiConsumer<RateLimiterGrpc.RateLimiterStub, StreamObserver<A>> call, int attempt,
                           CompletableFuture<A> done, long deadline) {
        call.accept(rawStub.withDeadlineAfter(deadline, TimeUnit.NANOSECONDS), new StreamObserver<>() {
            @Override
            public void onNext(A answer) {
                done.complete(answer);
            }

            @Override
            public void onError(Throwable t) {
                Status.Code code = Status.fromThrowable(t).getCode();
                boolean transport = code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
                if (transport && attempt < IDEMPOTENT_TRIES && !closed) {
                    try {
                        timer.schedule(() -> tried(call, attempt + 1, done, deadline), 50L * attempt, TimeUnit.MILLISECONDS);
                        return;
                    } catch (java.util.concurrent.RejectedExecutionException stopping) {
                        // closing: the answer is the failure
                    }
                }
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
    }

    /** Extends the lease {@code leaseId} of {@code request} to a whole lease from now; completes with whether it is still held. */
    public CompletableFuture<Boolean> renewAsync(Acquire request, String leaseId) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        rawStub.withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS).renew(RenewRequest.newBuilder().setDomain(request.domain())
                .putAllDescriptors(request.descriptors()).setLeaseId(leaseId).build(), new StreamObserver<>() {
                    @Override
                    public void onNext(RenewResponse answer) {
                        done.complete(!answer.getLeasesList().isEmpty() && answer.getLeasesList().stream().allMatch(LeaseStatus::getHeld));
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        return done;
    }

    ScheduledExecutorService timer() {
        return timer;
    }

    /** How long a request may take, from when it is asked. */
    long deadlineNanos() {
        return deadlineNanos;
    }

    /**
     * The generated gRPC stub on this client's channel, for callers who want the protocol itself
     * (every field of {@code sluice.v1}). Calls made through it get none of this client's
     * deadline, retry, failure-mode or cache handling.
     */
    public RateLimiterGrpc.RateLimiterStub rawStub() {
        return rawStub;
    }

    /** Units this client holds in hot keys' leases now, neither used nor given back (0 without {@link Builder#hotKeyLeases}). */
    public long leasedUnits() {
        return hot == null ? 0 : hot.heldUnits();
    }

    /** Requests this client decided from hot keys' leases, since it was built. */
    public long decidedFromLeases() {
        return hot == null ? 0 : hot.decidedLocally();
    }

    /** Units of hot keys' leases this client could not give back (no node answered): spent, under-admitted, never over. */
    public long leaseUnitsNotGivenBack() {
        return hot == null ? 0 : hot.unitsNotGivenBack();
    }

    /** Leases of hot keys' units this client was granted, since it was built. */
    public long leasesGranted() {
        return hot == null ? 0 : hot.leasesGranted();
    }

    /** Denials currently held in the local cache. */
    public int cachedDenials() {
        return denials.size();
    }

    /** The node addresses the targets currently resolve to (empty when built on a channel of your own). */
    public List<java.net.InetSocketAddress> nodes() {
        NodesResolver r = resolvers == null ? null : resolvers.last();
        return r == null ? List.of() : r.addresses();
    }

    /** Stops the client; calls in flight are answered by the failure mode at once. */
    @Override
    public void close() {
        closed = true;
        if (hot != null) {
            // What the hot keys' leases did not use goes back before the channel closes (else it stays spent).
            try {
                hot.close().get(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // Not given back in time: those units stay spent, which under-admits and never over-admits.
            }
        }
        timer.shutdownNow();
        transport.close();
        for (CompletableFuture<AcquireResult> f : outstanding) {
            f.complete(replies.fail("the client is closed"));
        }
        if (ownsChannel) {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Configures a {@link SluiceClient}. */
    public static final class Builder {
        private final List<String> targets = new ArrayList<>();
        private ManagedChannel channel;
        private Duration deadline = Duration.ofMillis(50);
        private Duration attemptTimeout;
        private RetryPolicy retry = RetryPolicy.DEFAULT;
        private FailureMode failureMode = FailureMode.FAIL_OPEN;
        private boolean denialCache = true;
        private int maxCachedDenials = 10_000;
        private Duration refreshInterval = Duration.ofSeconds(5);
        private Duration awaitConnection = Duration.ofSeconds(1);
        private Executor executor;
        private int callsBeforeBatching = 4;
        private int maxBatch = 100;
        private boolean streaming = true;
        private int requestsPerStream = 100_000;
        private LongSupplier nanoTime = System::nanoTime;
        private NodesResolver.Lookup lookup = InetAddress::getAllByName;
        private SslContext tls;
        private String bearerToken;
        private double hotKeyRate;
        private Duration hotKeyLease = Duration.ofMillis(250);
        private int routedRequests = 0;

        private Builder() {
        }

        /**
         * Sends each request to the node owning its first bucket (off unless set; 50,000 is a good
         * start): the node that decides it then holds the bucket and no call between members is
         * needed. Off by default for now: with it on, a client just built sends its first burst of
         * requests more slowly (each first asking also learns its route), enough to miss the default
         * deadline for some of 1,000 requests sent at once on a two-core machine. The client learns
         * a request's partition from the answer to its first asking (until then it goes to whichever
         * node is next) and which node owns which partition from the nodes, again every
         * {@link #refreshInterval}. It keeps the partitions of at most
         * {@code requests} combinations of domain, descriptors and cost, the least recently asked
         * dropped first (about 200 bytes each with one or two descriptors); 0 turns routing off.
         * A stale table costs a request one more hop inside the cluster, never a wrong answer. Only
         * for the client's own channel ({@link #targets}); with {@link #channel}, requests go where
         * that channel sends them.
         */
        public Builder routing(int requests) {
            if (requests < 0) {
                throw new IllegalArgumentException("routing must not be negative, got " + requests);
            }
            this.routedRequests = requests;
            return this;
        }

        /**
         * Decides hot keys here, exactly: once a combination of domain and descriptors is asked more
         * than {@code requestsPerSecond} times a second, the client leases units of its buckets from a
         * node ({@code Lease}, all the request's buckets at once, spent when taken) and decides its
         * requests from them until they run out or {@link #hotKeyLease} ends, giving back the rest.
         * Never admits more than the limits do, with any number of clients, even one that dies
         * holding a lease; units held in leases are the most it can keep from others. Off unless set.
         */
        public Builder hotKeyLeases(double requestsPerSecond) {
            if (!(requestsPerSecond > 0)) {
                throw new IllegalArgumentException("requestsPerSecond must be above 0, got " + requestsPerSecond);
            }
            this.hotKeyRate = requestsPerSecond;
            return this;
        }

        /** How long a hot key's lease is decided from at most (default 250 ms; at most 5 s; never past a window's end). */
        public Builder hotKeyLease(Duration leaseFor) {
            if (leaseFor.isNegative() || leaseFor.isZero() || leaseFor.compareTo(Duration.ofSeconds(5)) > 0) {
                throw new IllegalArgumentException("a hot key's lease lasts above 0 and at most 5s, got " + leaseFor);
            }
            this.hotKeyLease = leaseFor;
            return this;
        }

        /**
         * Speaks TLS to the nodes, trusting the CA certificates in {@code trustRoots} (PEM). The
         * nodes' certificate must name the first target's host.
         */
        public Builder tls(Path trustRoots) {
            return tls(trustRoots, null, null);
        }

        /**
         * Speaks mutual TLS: trusts the CA certificates in {@code trustRoots} and presents the
         * certificate chain in {@code clientCertificate} with its PKCS#8 key {@code clientKey}
         * (PEM files), which tells the nodes who this service is.
         */
        public Builder tls(Path trustRoots, Path clientCertificate, Path clientKey) {
            Objects.requireNonNull(trustRoots, "trustRoots");
            if ((clientCertificate == null) != (clientKey == null)) {
                throw new IllegalArgumentException("a client certificate and its key go together");
            }
            try {
                SslContextBuilder b = GrpcSslContexts.forClient().trustManager(trustRoots.toFile());
                if (clientCertificate != null) {
                    b.keyManager(clientCertificate.toFile(), clientKey.toFile());
                }
                this.tls = b.build();
            } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
                throw new IllegalArgumentException("TLS: cannot use " + trustRoots
                        + (clientCertificate == null ? "" : ", " + clientCertificate + " and " + clientKey) + ": " + e.getMessage(), e);
            }
            return this;
        }

        /** Speaks TLS with a context of your own (trust, client certificate, provider), made with gRPC's {@code GrpcSslContexts}. */
        public Builder tls(SslContext context) {
            this.tls = Objects.requireNonNull(context, "context");
            return this;
        }

        /**
         * Sends {@code token} on every call as {@code authorization: Bearer TOKEN}, which tells the
         * nodes who this service is. Only over TLS ({@link #tls}), or a channel of your own.
         */
        public Builder bearerToken(String token) {
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("a bearer token must not be empty");
            }
            this.bearerToken = token;
            return this;
        }

        /**
         * A node or service to call, as {@code host:port}: one address, one of several (call
         * again for each), or a DNS name that resolves to every node, such as a Kubernetes
         * headless service.
         */
        public Builder target(String hostAndPort) {
            NodesResolver.Target.parse(hostAndPort);
            targets.add(hostAndPort);
            return this;
        }

        /** Several targets at once. */
        public Builder targets(List<String> hostsAndPorts) {
            hostsAndPorts.forEach(this::target);
            return this;
        }

        /**
         * A channel of your own (TLS, interceptors, in-process for tests) instead of targets.
         * The client does not close it.
         */
        public Builder channel(ManagedChannel channel) {
            this.channel = Objects.requireNonNull(channel);
            return this;
        }

        /**
         * How long {@link #build()} waits for a connection to a node (default 1 s; zero: not at
         * all). A node that cannot be reached only makes {@code build()} return later; calls then
         * go as they can, with the failure mode answering those that cannot.
         */
        public Builder awaitConnection(Duration wait) {
            if (wait.isNegative()) {
                throw new IllegalArgumentException("awaitConnection must not be negative, got " + wait);
            }
            this.awaitConnection = wait;
            return this;
        }

        /** The longest a call may take, retries included (default 50 ms). */
        public Builder deadline(Duration deadline) {
            if (deadline.isNegative() || deadline.isZero()) {
                throw new IllegalArgumentException("deadline must be positive, got " + deadline);
            }
            this.deadline = deadline;
            return this;
        }

        /**
         * How long each attempt of a request waits for its node before it is tried again, as a
         * failed one is (another node where the channel reaches several, the same request id, so a
         * request the slow node did apply is not counted twice), while the {@link #retryPolicy} has
         * attempts left and the deadline time (default: none shorter than the deadline). A stream
         * on which an attempt timed out takes no more requests: the next go on a new one. For a node
         * that stalls (a long pause, a host gone quiet) while others answer: say 20 ms of a 50 ms deadline.
         */
        public Builder attemptTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("attemptTimeout must be positive, got " + timeout);
            }
            this.attemptTimeout = timeout;
            return this;
        }

        /** How failed calls are retried within the deadline (default {@link RetryPolicy#DEFAULT}). */
        public Builder retryPolicy(RetryPolicy retry) {
            this.retry = Objects.requireNonNull(retry);
            return this;
        }

        /** What to answer when no node answers in time (default {@link FailureMode#FAIL_OPEN}). */
        public Builder failureMode(FailureMode failureMode) {
            this.failureMode = Objects.requireNonNull(failureMode);
            return this;
        }

        /** Whether denials are repeated locally until their retry-after (default on). */
        public Builder denialCache(boolean enabled) {
            this.denialCache = enabled;
            return this;
        }

        /** How many denials the local cache holds at most (default 10,000). */
        public Builder maxCachedDenials(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("maxCachedDenials must not be negative");
            }
            this.maxCachedDenials = max;
            return this;
        }

        /** How often targets are resolved again to pick up new nodes (default 5 s). */
        public Builder refreshInterval(Duration interval) {
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("refresh interval must be positive");
            }
            this.refreshInterval = interval;
            return this;
        }

        /**
         * Batching under load (default: 4 calls, 100 requests). While fewer than
         * {@code callsInFlight} calls are on the wire, each request is sent at once as its own
         * call; beyond that, requests wait for the next call to finish and then go together, up
         * to {@code maxBatch} in one {@code AcquireBatch} call, each with its own answer and its
         * own deadline. No timer is involved: a client that is not busy adds no delay. A
         * {@code callsInFlight} of 0 turns batching off.
         */
        public Builder batching(int callsInFlight, int maxBatch) {
            if (callsInFlight < 0) {
                throw new IllegalArgumentException("callsInFlight must not be negative, got " + callsInFlight);
            }
            if (maxBatch < 1 || maxBatch > 1000) {
                throw new IllegalArgumentException("maxBatch must be 1 to 1000, got " + maxBatch);
            }
            this.callsBeforeBatching = callsInFlight;
            this.maxBatch = maxBatch;
            return this;
        }

        /**
         * Whether requests travel as messages on long-lived {@code AcquireStream} calls, one
         * stream per node, each replaced after 100,000 requests so that streams spread over the
         * nodes as they come and go (default on), or each as a call of its own, batched under
         * load ({@link #batching}). A node without AcquireStream is asked with calls from then on.
         */
        public Builder streaming(boolean on) {
            this.streaming = on;
            return this;
        }

        /**
         * Where answers complete and the callbacks chained on {@link #acquireAsync} run. By
         * default they run on the gRPC I/O thread that read the answer, which is fastest but
         * must never block; give a pool here if your callbacks do.
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor);
            return this;
        }

        /** Requests a stream carries before it is replaced by a new one (default 100,000); tests make it small. */
        Builder requestsPerStream(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("requestsPerStream must be positive, got " + n);
            }
            this.requestsPerStream = n;
            return this;
        }

        /** The client's time source; tests substitute one they control. */
        Builder nanoTime(LongSupplier nanoTime) {
            this.nanoTime = Objects.requireNonNull(nanoTime);
            return this;
        }

        /** How host names are looked up; tests substitute one they control. */
        Builder lookup(NodesResolver.Lookup lookup) {
            this.lookup = Objects.requireNonNull(lookup);
            return this;
        }

        public SluiceClient build() {
            if (channel == null && targets.isEmpty()) {
                throw new IllegalStateException("give at least one target (host:port) or a channel");
            }
            if (channel != null && !targets.isEmpty()) {
                throw new IllegalStateException("give targets or a channel, not both");
            }
            if (channel != null && tls != null) {
                throw new IllegalStateException("tls(...) applies to the client's own channel; configure TLS on your channel instead");
            }
            if (channel == null && bearerToken != null && tls == null) {
                throw new IllegalStateException("a bearer token is sent only over TLS: give tls(...) too");
            }
            return new SluiceClient(this);
        }
    }
}
