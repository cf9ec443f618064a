package dev.sluice.server.api;

import dev.sluice.api.v1.AcquireBatchResponse;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.LeaseStatus;
import dev.sluice.api.v1.PartitionsRequest;
import dev.sluice.api.v1.PartitionsResponse;
import dev.sluice.api.v1.ReleaseRequest;
import dev.sluice.api.v1.ReleaseResponse;
import dev.sluice.api.v1.RenewRequest;
import dev.sluice.api.v1.RenewResponse;
import dev.sluice.api.v1.LeaseRequest;
import dev.sluice.api.v1.LeaseResponse;
import dev.sluice.api.v1.SettleOutcome;
import dev.sluice.api.v1.SettleRequest;
import dev.sluice.api.v1.SettleResponse;
import dev.sluice.api.v1.SettleStatus;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.store.Settlement;
import dev.sluice.server.engine.LeaseResult;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.StreamResponses;
import dev.sluice.server.observe.RpcMetrics;
import dev.sluice.server.path.Caller;
import dev.sluice.server.path.Answer;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.path.Refusal;
import dev.sluice.server.path.ResponseRenderer;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code sluice.v1.RateLimiter} over gRPC: Acquire, AcquireBatch and AcquireStream as adapters
 * over the one {@link DecisionPath}. Never blocks: answers are sent from the callbacks that
 * complete the decisions, from the event loop the call arrived on.
 */
public final class RateLimiterService implements BindableService {

    private static final Logger LOG = Logger.getLogger(RateLimiterService.class.getName());

    /** Most requests in one batch. */
    static final int MAX_BATCH = 1000;

    private final DecisionPath path;
    private final EventLoops loops;
    private final TurnBatcher batcher;
    /** Streams not yet ended, so that a node shutting down can end them. */
    private final Set<DecisionStream> streams = ConcurrentHashMap.newKeySet();
    private volatile boolean ending;

    private final RpcMetrics metrics;
    /** The partition table Partitions answers, or {@code null} where the node has none to give. */
    private final Supplier<PartitionsResponse> partitions;

    public RateLimiterService(DecisionPath path, EventLoops loops) {
        this(path, loops, RpcMetrics.OFF);
    }

    public RateLimiterService(DecisionPath path, EventLoops loops, RpcMetrics metrics) {
        this(path, loops, metrics, null);
    }

    /** @param partitions the table {@code Partitions} answers; {@code null}: that call is UNIMPLEMENTED */
    public RateLimiterService(DecisionPath path, EventLoops loops, RpcMetrics metrics, Supplier<PartitionsResponse> partitions) {
        this.path = path;
        this.loops = loops;
        this.metrics = metrics;
        this.partitions = partitions;
        this.batcher = new TurnBatcher(path);
    }

    /**
     * Envoy's {@code ShouldRateLimit} over the same decision path, event loops and turns as this
     * service: its requests and this service's, read in one turn, are decided together.
     */
    public EnvoyRateLimitService envoy(java.util.function.Supplier<dev.sluice.server.envoy.EnvoyConfig> config,
                                       EnvoyRateLimitService.Options options) {
        return new EnvoyRateLimitService(path, config, options, metrics, batcher, loops);
    }

    /** AcquireStream calls open now. */
    public int openStreams() {
        return streams.size();
    }

    /**
     * The {@code sluice.v1.RateLimiter} service as generated (its names, its schema for
     * reflection), with requests read by {@link WireRequests} so that bytes that make no request
     * are answered INVALID_ARGUMENT like any other malformed request.
     */
    @Override
    public ServerServiceDefinition bindService() {
        MethodDescriptor<WireRequests.Read<AcquireRequest>, AcquireResponse> acquire = RateLimiterGrpc.getAcquireMethod()
                .toBuilder(WireRequests.reading(WireRequests::acquire), RateLimiterGrpc.getAcquireMethod().getResponseMarshaller()).build();
        MethodDescriptor<WireRequests.Read<List<WireRequests.Read<AcquireRequest>>>, AcquireBatchResponse> batch =
                RateLimiterGrpc.getAcquireBatchMethod().toBuilder(WireRequests.reading(WireRequests::batch),
                        RateLimiterGrpc.getAcquireBatchMethod().getResponseMarshaller()).build();
        MethodDescriptor<List<WireRequests.StreamEntry>, StreamResponses> stream = RateLimiterGrpc.getAcquireStreamMethod()
                .toBuilder(WireRequests.reading(WireRequests::stream), RateLimiterGrpc.getAcquireStreamMethod().getResponseMarshaller())
                .build();
        ServiceDescriptor service = ServiceDescriptor.newBuilder(RateLimiterGrpc.SERVICE_NAME)
                .setSchemaDescriptor(RateLimiterGrpc.getServiceDescriptor().getSchemaDescriptor())
                .addMethod(acquire).addMethod(batch).addMethod(stream)
                .addMethod(RateLimiterGrpc.getReleaseMethod()).addMethod(RateLimiterGrpc.getRenewMethod())
                .addMethod(RateLimiterGrpc.getSettleMethod()).addMethod(RateLimiterGrpc.getLeaseMethod())
                .addMethod(RateLimiterGrpc.getPartitionsMethod()).build();
        return ServerServiceDefinition.builder(service)
                .addMethod(acquire, ServerCalls.asyncUnaryCall(this::acquire))
                .addMethod(batch, ServerCalls.asyncUnaryCall(this::acquireBatch))
                .addMethod(stream, ServerCalls.asyncBidiStreamingCall(this::acquireStream))
                .addMethod(RateLimiterGrpc.getReleaseMethod(), ServerCalls.asyncUnaryCall(this::release))
                .addMethod(RateLimiterGrpc.getRenewMethod(), ServerCalls.asyncUnaryCall(this::renew))
                .addMethod(RateLimiterGrpc.getSettleMethod(), ServerCalls.asyncUnaryCall(this::settle))
                .addMethod(RateLimiterGrpc.getLeaseMethod(), ServerCalls.asyncUnaryCall(this::lease))
                .addMethod(RateLimiterGrpc.getPartitionsMethod(), ServerCalls.asyncUnaryCall(this::partitions))
                .build();
    }

    private void acquire(WireRequests.Read<AcquireRequest> request, StreamObserver<AcquireResponse> observer) {
        long started = metrics.start();
        if (observer instanceof ServerCallStreamObserver<AcquireResponse> call) {
            // A call cancelled by its deadline still completes its decision; the answer is dropped.
            call.setOnCancelHandler(() -> { });
        }
        Executor home = loops.current();
        Answer answer = (response, refusal) -> home.execute(() -> {
            send(observer, response, refusal);
            metrics.answered(RpcMetrics.Rpc.ACQUIRE, started, refusal == null ? null : refusal.code().name());
        });
        if (request.problem() != null) {
            path.refuseUnreadable(request.problem(), answer);
            return;
        }
        DecisionPath.Admitted a = path.admit(CallerIdentity.current(), TraceContext.current(), request.message(),
                Context.current().isCancelled(), answer);
        if (a != null) {
            batcher.decideSoon(a, home);
        }
    }

    private void acquireBatch(WireRequests.Read<List<WireRequests.Read<AcquireRequest>>> read,
                              StreamObserver<AcquireBatchResponse> observer) {
        long started = metrics.start();
        if (read.problem() != null) {
            refuseBatch(observer, started, new Refusal(Refusal.Code.INVALID_ARGUMENT, read.problem()));
            return;
        }
        List<WireRequests.Read<AcquireRequest>> batch = read.message();
        int n = batch.size();
        if (n == 0 || n > MAX_BATCH) {
            refuseBatch(observer, started, new Refusal(Refusal.Code.INVALID_ARGUMENT, "requests: " + n + " in the batch; send 1 to "
                    + MAX_BATCH));
            return;
        }
        Refusal overloaded = path.overloadedFor(n);
        if (overloaded != null) {
            refuseBatch(observer, started, overloaded);
            return;
        }
        if (observer instanceof ServerCallStreamObserver<AcquireBatchResponse> call) {
            call.setOnCancelHandler(() -> { });
        }
        BatchEntry[] results = new BatchEntry[n];
        AtomicInteger left = new AtomicInteger(n);
        Executor home = loops.current();
        List<DecisionPath.Admitted> admitted = new ArrayList<>(n);
        Caller caller = CallerIdentity.current();
        io.opentelemetry.context.Context trace = TraceContext.current();
        for (int i = 0; i < n; i++) {
            int at = i;
            Answer answer = (response, refusal) -> {
                results[at] = Statuses.entry(response, refusal);
                if (refusal != null) {
                    metrics.failed(RpcMetrics.Rpc.ACQUIRE_BATCH, refusal.code().name());
                }
                if (left.decrementAndGet() == 0) {
                    home.execute(() -> {
                        send(observer, AcquireBatchResponse.newBuilder().addAllResults(Arrays.asList(results)).build(), null);
                        metrics.answered(RpcMetrics.Rpc.ACQUIRE_BATCH, started, null);
                    });
                }
            };
            WireRequests.Read<AcquireRequest> r = batch.get(i);
            if (r.problem() != null) {
                path.refuseUnreadable(r.problem(), answer);
                continue;
            }
            DecisionPath.Admitted a = path.admit(caller, trace, r.message(), false, answer);
            if (a != null) {
                admitted.add(a);
            }
        }
        path.decide(admitted);
    }

    private StreamObserver<List<WireRequests.StreamEntry>> acquireStream(StreamObserver<StreamResponses> responses) {
        DecisionStream stream = new DecisionStream(path, batcher, (ServerCallStreamObserver<StreamResponses>) responses,
                loops.current(), streams, metrics);
        streams.add(stream);
        if (ending) {
            stream.end();
        }
        return stream;
    }

    /**
     * Ends every AcquireStream, for a node that is shutting down: each stops reading, answers
     * the requests it has read, then completes. A caller's requests that were not read get no
     * answer; it sends them again, to another node. Streams opened after this are ended at once.
     */
    public void endStreams() {
        ending = true;
        for (DecisionStream s : streams) {
            s.end();
        }
    }

    private void release(ReleaseRequest request, StreamObserver<ReleaseResponse> observer) {
        long started = metrics.start();
        Executor home = loops.current();
        path.lease(CallerIdentity.current(), request.getDomain(), request.getDescriptorsMap(), request.getLeaseId(), false,
                (results, refusal) -> home.execute(() -> {
                    send(observer, refusal != null ? null : ReleaseResponse.newBuilder().addAllLeases(statuses(results)).build(), refusal);
                    metrics.answered(RpcMetrics.Rpc.RELEASE, started, refusal == null ? null : refusal.code().name());
                }));
    }

    private void renew(RenewRequest request, StreamObserver<RenewResponse> observer) {
        long started = metrics.start();
        Executor home = loops.current();
        path.lease(CallerIdentity.current(), request.getDomain(), request.getDescriptorsMap(), request.getLeaseId(), true,
                (results, refusal) -> home.execute(() -> {
                    send(observer, refusal != null ? null : RenewResponse.newBuilder().addAllLeases(statuses(results)).build(), refusal);
                    metrics.answered(RpcMetrics.Rpc.RENEW, started, refusal == null ? null : refusal.code().name());
                }));
    }

    private void settle(SettleRequest request, StreamObserver<SettleResponse> observer) {
        long started = metrics.start();
        Executor home = loops.current();
        path.settle(CallerIdentity.current(), request.getDomain(), request.getDescriptorsMap(), request.getRequestId(),
                request.getActualCost(), (results, refusal) -> home.execute(() -> {
                    send(observer, refusal != null ? null : settled(results), refusal);
                    metrics.answered(RpcMetrics.Rpc.SETTLE, started, refusal == null ? null : refusal.code().name());
                }));
    }

    private void partitions(PartitionsRequest request, StreamObserver<PartitionsResponse> observer) {
        if (partitions == null) {
            observer.onError(io.grpc.Status.UNIMPLEMENTED.withDescription("this node gives no partition table").asRuntimeException());
            return;
        }
        observer.onNext(partitions.get());
        observer.onCompleted();
    }

    private void lease(LeaseRequest request, StreamObserver<LeaseResponse> observer) {
        long started = metrics.start();
        Executor home = loops.current();
        AcquireRequest asked = AcquireRequest.newBuilder().setDomain(request.getDomain()).putAllDescriptors(request.getDescriptorsMap())
                .setCost(request.getUnits()).setRequestId(request.getRequestId()).build();
        long validFor = request.getValidFor().getSeconds() * 1_000_000_000L + request.getValidFor().getNanos();
        DecisionPath.Admitted a = path.admitLease(CallerIdentity.current(), TraceContext.current(), asked, validFor,
                (answer, grantedFor, refusal) -> home.execute(() -> {
                    LeaseResponse response = null;
                    if (refusal == null) {
                        boolean granted = answer.getDecision() == Decision.ALLOWED;
                        response = LeaseResponse.newBuilder().setGranted(granted).setUnits(granted ? request.getUnits() : 0)
                                .setValidFor(ResponseRenderer.duration(grantedFor)).setAnswer(answer).build();
                    }
                    send(observer, response, refusal);
                    metrics.answered(RpcMetrics.Rpc.LEASE, started, refusal == null ? null : refusal.code().name());
                }));
        if (a != null) {
            path.decide(List.of(a));
        }
    }

    private static SettleResponse settled(List<DecisionEngine.SettleResult> results) {
        SettleResponse.Builder out = SettleResponse.newBuilder();
        for (DecisionEngine.SettleResult r : results) {
            Settlement s = r.settlement();
            out.addLimits(SettleStatus.newBuilder().setName(r.limit().name())
                    .setOutcome(switch (s.result()) {
                        case SETTLED -> SettleOutcome.SETTLED;
                        case ALREADY_SETTLED -> SettleOutcome.ALREADY_SETTLED;
                        case NOT_CHARGED -> SettleOutcome.NOT_CHARGED;
                        case FORGOTTEN -> SettleOutcome.FORGOTTEN;
                    })
                    .setEstimate(s.estimate()).setAdjusted(s.adjusted())
                    .setRemaining(Math.max(0, s.balance())).setDebt(Math.max(0, -s.balance())));
        }
        return out.build();
    }

    private static List<LeaseStatus> statuses(List<LeaseResult> results) {
        List<LeaseStatus> out = new java.util.ArrayList<>(results.size());
        for (LeaseResult r : results) {
            out.add(LeaseStatus.newBuilder().setName(r.limit().name()).setHeld(r.held())
                    .setExpiresAfter(ResponseRenderer.duration(r.expiresAfterNanos()))
                    .build());
        }
        return out;
    }

    /** Fails a whole batch call. */
    private void refuseBatch(StreamObserver<AcquireBatchResponse> observer, long started, Refusal refusal) {
        send(observer, null, refusal);
        metrics.answered(RpcMetrics.Rpc.ACQUIRE_BATCH, started, refusal.code().name());
    }

    /** Answers a call with {@code response}, or fails it with {@code refusal} when that is not null. */
    private static <T> void send(StreamObserver<T> observer, T response, Refusal refusal) {
        try {
            if (refusal != null) {
                observer.onError(Statuses.of(refusal).asRuntimeException());
            } else {
                observer.onNext(response);
                observer.onCompleted();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not send an answer (call cancelled?)", e);
        }
    }
}
