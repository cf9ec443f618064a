package dev.sluice.server.api;

import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.IndeterminateOperationStateException;
import com.hazelcast.core.OperationTimeoutException;
import com.hazelcast.spi.exception.RetryableException;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;
import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireBatchResponse;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.BatchError;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.StreamRequest;
import dev.sluice.api.v1.StreamRequests;
import dev.sluice.api.v1.StreamResponse;
import dev.sluice.api.v1.StreamResponses;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.engine.RequestIds;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.policy.Domain;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.time.Clock;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The gRPC edge: validates, resolves the policy, asks the engine, renders the answer. Never
 * blocks: the response is sent from the callback that completes the decision. When more than
 * {@code maxInFlight} decisions are outstanding, new calls fail fast with UNAVAILABLE instead of
 * queueing: overload is not a denial.
 */
public final class RateLimiterService extends RateLimiterGrpc.RateLimiterImplBase {

    private static final Logger LOG = Logger.getLogger(RateLimiterService.class.getName());

    private final Supplier<Policies> policies;
    private final DecisionEngine engine;
    private final Clock clock;
    private final int maxInFlight;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final java.util.concurrent.atomic.LongAdder calls = new java.util.concurrent.atomic.LongAdder();

    public RateLimiterService(Supplier<Policies> policies, DecisionEngine engine, Clock clock, int maxInFlight) {
        this.policies = policies;
        this.engine = engine;
        this.clock = clock;
        this.maxInFlight = maxInFlight;
    }

    /** Decisions currently waiting on the cluster. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Acquire calls received since start, answered or not. */
    public long calls() {
        return calls.sum();
    }

    @Override
    public void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
        calls.increment();
        if (Context.current().isCancelled()) {
            observer.onError(Status.DEADLINE_EXCEEDED.withDescription("the call's deadline passed before a decision was asked for")
                    .asRuntimeException());
            return;
        }
        if (observer instanceof ServerCallStreamObserver<AcquireResponse> call) {
            // A call cancelled by its deadline still completes its decision; the answer is dropped.
            call.setOnCancelHandler(() -> { });
        }
        Executor home = callingEventLoop();
        BiConsumer<AcquireResponse, Status> answer = (response, status) -> home.execute(() -> send(observer, response, status));
        Prepared p = prepare(request, answer);
        if (p == null) {
            return;
        }
        decideSoon(p, home);
    }

    /**
     * Decides {@code p}: at once when the call did not arrive on an event loop; otherwise after
     * the current turn of the loop, together with every other request read in that turn.
     */
    private void decideSoon(Prepared p, Executor home) {
        if (home == DIRECT) {
            decideAll(List.of(p));
            return;
        }
        Pending pending = pendingOnThisLoop.get();
        pending.add(p);
        if (!pending.scheduled) {
            pending.scheduled = true;
            home.execute(() -> {
                pending.scheduled = false;
                List<Prepared> batch = pending.take();
                decideAll(batch);
            });
        }
    }

    /** Answers a call with {@code response}, or fails it with {@code status} when that is not null. */
    private static <T> void send(StreamObserver<T> observer, T response, Status status) {
        try {
            if (status != null) {
                observer.onError(status.asRuntimeException());
            } else {
                observer.onNext(response);
                observer.onCompleted();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not send an answer (call cancelled?)", e);
        }
    }

    /** Requests an event loop has read and not yet sent to the engine; touched only by that loop's thread. */
    private static final class Pending {
        private List<Prepared> items = new ArrayList<>();
        private boolean scheduled;

        void add(Prepared p) {
            items.add(p);
        }

        List<Prepared> take() {
            List<Prepared> out = items;
            items = new ArrayList<>();
            return out;
        }
    }

    private final ThreadLocal<Pending> pendingOnThisLoop = ThreadLocal.withInitial(Pending::new);

    /**
     * Where to send an answer from: the Netty event loop the call arrived on, when there is one.
     * Decisions complete on Hazelcast's partition threads; an answer written from there is
     * flushed to the socket on its own, one system call per answer, while answers handed back to
     * the event loop are written together with the others queued there, in one flush.
     */
    private static Executor callingEventLoop() {
        Executor loop = io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap.currentExecutor();
        return loop != null ? loop : DIRECT;
    }

    private static final Executor DIRECT = Runnable::run;

    /** Most requests in one batch. */
    static final int MAX_BATCH = 1000;

    @Override
    public void acquireBatch(AcquireBatchRequest batch, StreamObserver<AcquireBatchResponse> observer) {
        int n = batch.getRequestsCount();
        calls.add(n);
        if (n == 0 || n > MAX_BATCH) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("requests: " + n + " in the batch; send 1 to " + MAX_BATCH)
                    .asRuntimeException());
            return;
        }
        if (inFlight.get() + n > maxInFlight) {
            observer.onError(Status.UNAVAILABLE.withDescription("node overloaded: " + inFlight.get()
                    + " decisions in flight; retry on another node").asRuntimeException());
            return;
        }
        if (observer instanceof ServerCallStreamObserver<AcquireBatchResponse> call) {
            call.setOnCancelHandler(() -> { });
        }
        BatchEntry[] results = new BatchEntry[n];
        AtomicInteger left = new AtomicInteger(n);
        Executor home = callingEventLoop();
        List<Prepared> ready = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int at = i;
            Prepared p = prepare(batch.getRequests(i), (response, status) -> {
                results[at] = entry(response, status);
                if (left.decrementAndGet() == 0) {
                    home.execute(() -> send(observer,
                            AcquireBatchResponse.newBuilder().addAllResults(java.util.Arrays.asList(results)).build(), null));
                }
            });
            if (p != null) {
                ready.add(p);
            }
        }
        decideAll(ready);
    }

    /** One request's answer in a batch or on a stream: its response, or the error Acquire would have failed with. */
    private static BatchEntry entry(AcquireResponse response, Status status) {
        return status == null ? BatchEntry.newBuilder().setResponse(response).build()
                : BatchEntry.newBuilder().setError(BatchError.newBuilder().setCode(status.getCode().value())
                        .setMessage(String.valueOf(status.getDescription()))).build();
    }

    /** Unanswered requests one stream may have before the node stops reading it. */
    static final int STREAM_WINDOW = 1000;

    /** Streams not yet ended, so that a node shutting down can end them. */
    private final java.util.Set<DecisionStream> streams = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean ending;

    @Override
    public StreamObserver<StreamRequests> acquireStream(StreamObserver<StreamResponses> responses) {
        DecisionStream stream = new DecisionStream((ServerCallStreamObserver<StreamResponses>) responses, callingEventLoop());
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

    /**
     * One AcquireStream call. Requests are decided as they arrive, exactly as unary ones are
     * (those read in one turn of the event loop together); each answer is written, from the
     * event loop, as soon as its decision is made, with the others made by then in one message.
     * The node reads no further message while {@link #STREAM_WINDOW} or more of the requests it
     * has read are unanswered, nor while the transport says the caller is not taking answers: a
     * caller that stops reading stops being read.
     */
    private final class DecisionStream implements StreamObserver<StreamRequests> {

        private final ServerCallStreamObserver<StreamResponses> responses;
        private final Executor home;
        /** Guards the fields below and every call on {@code responses}; uncontended on an event loop. */
        private final Object lock = new Object();
        private int unanswered;
        /** Whether a message has been asked of the transport and not yet delivered. */
        private boolean reading;
        private boolean halfClosed;
        private boolean done;
        /** Answers made and not yet written, and whether a task to write them is queued. */
        private StreamResponses.Builder outgoing;
        private boolean writeQueued;

        DecisionStream(ServerCallStreamObserver<StreamResponses> responses, Executor home) {
            this.responses = responses;
            this.home = home;
            responses.disableAutoRequest();
            responses.setOnCancelHandler(() -> {
                synchronized (lock) {
                    done = true;
                    streams.remove(this);
                }
            });
            responses.setOnReadyHandler(this::readMore);
            reading = true;
            responses.request(1);
        }

        @Override
        public void onNext(StreamRequests message) {
            int n = message.getRequestsCount();
            calls.add(n);
            boolean ended;
            synchronized (lock) {
                reading = false;
                if (done) {
                    return; // the stream is over: nothing decided, nothing to answer
                }
                ended = halfClosed;
                unanswered += n;
            }
            for (StreamRequest request : message.getRequestsList()) {
                long id = request.getId();
                if (ended) {
                    // Read after the node began shutting down, before it stopped reading: not decided.
                    home.execute(() -> answer(id, null, Status.UNAVAILABLE.withDescription("node shutting down; send it to another node")));
                    continue;
                }
                Prepared p = prepare(request.getRequest(), (response, status) -> home.execute(() -> answer(id, response, status)));
                if (p != null) {
                    decideSoon(p, home);
                }
            }
            readMore();
        }

        /** Adds one answer to the next message, and has that message written once the answers made by now are in it. */
        private void answer(long id, AcquireResponse response, Status status) {
            StreamResponse r = StreamResponse.newBuilder().setId(id).setResult(entry(response, status)).build();
            synchronized (lock) {
                unanswered--;
                if (done) {
                    return;
                }
                if (outgoing == null) {
                    outgoing = StreamResponses.newBuilder();
                }
                outgoing.addResponses(r);
                if (writeQueued) {
                    return;
                }
                writeQueued = true;
            }
            home.execute(this::write);
        }

        private void write() {
            synchronized (lock) {
                writeQueued = false;
                if (done || outgoing == null) {
                    return;
                }
                StreamResponses message = outgoing.build();
                outgoing = null;
                try {
                    responses.onNext(message);
                } catch (RuntimeException e) {
                    done = true;
                    streams.remove(this);
                    LOG.log(Level.FINE, "could not send answers on a stream (call cancelled?)", e);
                    return;
                }
                finishIfAnswered();
                if (done) {
                    return;
                }
            }
            readMore();
        }

        /** Stops reading; completes the stream once every request read has been answered. */
        void end() {
            synchronized (lock) {
                halfClosed = true;
                finishIfAnswered();
            }
        }

        /** Completes the stream when it is half-closed (by the caller, or by {@link #end}) and nothing is left to answer or write. */
        private void finishIfAnswered() {
            if (halfClosed && unanswered == 0 && outgoing == null && !done) {
                done = true;
                streams.remove(this);
                try {
                    responses.onCompleted();
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, "could not complete a stream (call cancelled?)", e);
                }
            }
        }

        /** Reads the next message, when none is on its way, the window has room and the caller is taking answers. */
        private void readMore() {
            synchronized (lock) {
                if (done || halfClosed || reading || unanswered >= STREAM_WINDOW || !responses.isReady()) {
                    return;
                }
                reading = true;
                responses.request(1);
            }
        }

        @Override
        public void onError(Throwable t) {
            synchronized (lock) {
                done = true;
                streams.remove(this);
            }
        }

        @Override
        public void onCompleted() {
            end();
        }
    }

    /** A request checked against its domain and ready to decide. */
    private record Prepared(AcquireRequest request, Domain domain, Map<String, String> descriptors,
                            DecisionEngine.Request decision, BiConsumer<AcquireResponse, Status> done) {
    }

    /**
     * Checks a request and resolves its limits; answers {@code done} at once and returns
     * {@code null} when it is malformed, names no known domain, asks for more than a limit can
     * ever give, or the node is overloaded.
     */
    private Prepared prepare(AcquireRequest request, BiConsumer<AcquireResponse, Status> done) {
        String problem = RequestValidator.problem(request);
        if (problem != null) {
            done.accept(null, Status.INVALID_ARGUMENT.withDescription(problem));
            return null;
        }
        Domain domain = policies.get().domain(request.getDomain());
        if (domain == null) {
            done.accept(null, Status.NOT_FOUND.withDescription("domain: \"" + request.getDomain() + "\" has no policies on this cluster"));
            return null;
        }
        Map<String, String> descriptors = domain.withDefaults(request.getDescriptorsMap());
        long cost = request.getCost() == 0 ? 1 : request.getCost();
        List<AppliedLimit> limits = domain.resolve(descriptors);
        for (AppliedLimit limit : limits) {
            long max = limit.algorithm().limit();
            if (cost > max) {
                done.accept(null, Status.INVALID_ARGUMENT.withDescription("cost: " + cost + " can never be allowed by limit '"
                        + limit.name() + "', which allows at most " + max + " at once"));
                return null;
            }
        }
        if (inFlight.incrementAndGet() > maxInFlight) {
            inFlight.decrementAndGet();
            done.accept(null, Status.UNAVAILABLE.withDescription("node overloaded: " + maxInFlight
                    + " decisions in flight; retry on another node"));
            return null;
        }
        return new Prepared(request, domain, descriptors,
                new DecisionEngine.Request(limits, cost, request.getDryRun(), RequestIds.of(request.getRequestId())), done);
    }

    /** Sends prepared requests to the engine together and answers each as its verdict arrives. */
    private void decideAll(List<Prepared> batch) {
        if (batch.isEmpty()) {
            return;
        }
        List<DecisionEngine.Request> requests = new ArrayList<>(batch.size());
        for (Prepared p : batch) {
            requests.add(p.decision());
        }
        List<java.util.concurrent.CompletableFuture<dev.sluice.server.engine.Verdict>> verdicts;
        try {
            verdicts = engine.decideAll(requests);
        } catch (RuntimeException e) {
            for (Prepared p : batch) {
                inFlight.decrementAndGet();
                p.done().accept(null, statusOf(e));
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            Prepared p = batch.get(i);
            verdicts.get(i).whenComplete((verdict, error) -> {
                inFlight.decrementAndGet();
                if (error != null) {
                    p.done().accept(null, statusOf(error));
                } else {
                    p.done().accept(ResponseRenderer.render(p.request().getDomain(), p.descriptors(), verdict, p.domain().response(),
                            clock.nanos()), null);
                }
            });
        }
    }

    private static Status statusOf(Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof IndeterminateOperationStateException) {
            return Status.UNAVAILABLE.withDescription("whether the units were taken is unknown (a member left while deciding,"
                    + " or a backup did not confirm in time);"
                    + " retry with a request_id to be answered without being counted twice");
        }
        if (e instanceof SplitBrainProtectionException) {
            return Status.UNAVAILABLE.withDescription("this node's side of the cluster is below its minimum size;"
                    + " it refuses to decide alone: " + e.getMessage());
        }
        if (e instanceof HazelcastInstanceNotActiveException || e instanceof RetryableException
                || e instanceof OperationTimeoutException) {
            return Status.UNAVAILABLE.withDescription("the cluster could not decide: " + e.getMessage());
        }
        LOG.log(Level.WARNING, "decision failed", e);
        return Status.INTERNAL.withDescription("decision failed: " + e);
    }
}
