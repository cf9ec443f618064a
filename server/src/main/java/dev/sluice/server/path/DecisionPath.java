package dev.sluice.server.path;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.engine.LeaseResult;
import dev.sluice.server.engine.RequestIds;
import dev.sluice.server.engine.Verdict;
import dev.sluice.server.observe.DecisionMetrics;
import dev.sluice.server.observe.DecisionTracing;
import dev.sluice.server.observe.TopKeys;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.policy.Domain;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.store.Settlement;
import dev.sluice.server.store.StoreException;
import dev.sluice.server.time.Clock;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one path every API takes: <b>admission</b> (the request's shape, the call's deadline, the
 * in-flight gate), <b>resolve</b> (the domain's rules: the limits that apply and their bucket
 * keys), <b>decide</b> (the engine, all or nothing) and <b>render</b> (status, headers and body in
 * the policy's dialect). An API is an adapter: it turns its messages into {@link #admit} calls,
 * hands the admitted requests to {@link #decide} (together, when it has several), and turns each
 * {@link Answer} into its own protocol's reply. Nothing here blocks or knows about gRPC.
 *
 * <p>When more than {@code maxInFlight} decisions are outstanding, new requests are refused with
 * UNAVAILABLE instead of queueing: overload is not a denial.
 */
public final class DecisionPath {

    private static final Logger LOG = Logger.getLogger(DecisionPath.class.getName());

    private final Supplier<Policies> policies;
    private final DecisionEngine engine;
    private final Clock clock;
    private final int maxInFlight;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final LongAdder received = new LongAdder();
    /** A caller's unreadable bytes are its mistake: said as a count per interval, never as a line (or a trace) each. */
    private final CountedLog unreadable;
    private final DecisionMetrics metrics;
    private final DecisionTracing tracing;
    private final TopKeys topKeys;
    private final LongAdder overloaded = new LongAdder();
    /** Decisions the store could not make, by why. */
    private final LongAdder[] storeFailures = new LongAdder[StoreException.Kind.values().length];

    /**
     * The policies in {@code current}, read through one lambda for every path built with it (the
     * node's and its warm-up's): a supplier of another class met by the compiled {@link #admit}
     * sends it back to the interpreter, as a lambda of the warm-up's own did at the first real request.
     */
    public static Supplier<Policies> policiesOf(AtomicReference<Policies> current) {
        return current::get;
    }

    public DecisionPath(Supplier<Policies> policies, DecisionEngine engine, Clock clock, int maxInFlight) {
        this(policies, engine, clock, maxInFlight, DecisionMetrics.OFF, DecisionTracing.OFF);
    }

    public DecisionPath(Supplier<Policies> policies, DecisionEngine engine, Clock clock, int maxInFlight, DecisionMetrics metrics,
                        DecisionTracing tracing) {
        this(policies, engine, clock, maxInFlight, metrics, tracing, TopKeys.OFF);
    }

    /** @param topKeys counts every decided bucket for the admin API's heaviest keys */
    public DecisionPath(Supplier<Policies> policies, DecisionEngine engine, Clock clock, int maxInFlight, DecisionMetrics metrics,
                        DecisionTracing tracing, TopKeys topKeys) {
        this.topKeys = topKeys;
        this.policies = policies;
        this.engine = engine;
        this.clock = clock;
        this.maxInFlight = maxInFlight;
        this.metrics = metrics;
        this.tracing = tracing;
        this.unreadable = new CountedLog(LOG, "unreadable_requests", "request(s) refused as unreadable (not a request's bytes)", clock);
        for (int i = 0; i < storeFailures.length; i++) {
            storeFailures[i] = new LongAdder();
        }
    }

    /** A request that passed admission and is ready to decide. */
    public static final class Admitted {
        private final String domainName;
        private final Domain domain;
        private final Map<String, String> descriptors;
        private final DecisionEngine.Request decision;
        private final Answer answer;
        /** The decision's span, or {@code null} when tracing is off. */
        private final Span span;
        /** For an adapter that resolved its own limits: its requests and where their verdicts go; otherwise {@code null}. */
        private final List<DecisionEngine.Request> resolved;
        private final Verdicts verdicts;
        /** The lease its concurrency limits' slots are held under when allowed, or {@code null} when none applies. */
        private final String leaseId;
        /** Whether the answer names the partition of the first bucket (AcquireRequest.route_hint). */
        private boolean routeHint;
        /** For a Lease: where its answer goes, and the longest it may be decided from; {@code null} for a decision. */
        private Leased units;
        private long unitsFor;

        private Admitted(String domainName, Domain domain, Map<String, String> descriptors, DecisionEngine.Request decision,
                         Answer answer, Span span, String leaseId) {
            this.leaseId = leaseId;
            this.domainName = domainName;
            this.domain = domain;
            this.descriptors = descriptors;
            this.decision = decision;
            this.answer = answer;
            this.span = span;
            this.resolved = null;
            this.verdicts = null;
        }

        private Admitted(String domainName, List<DecisionEngine.Request> resolved, Verdicts verdicts) {
            this.leaseId = null;
            this.domainName = domainName;
            this.domain = null;
            this.descriptors = null;
            this.decision = null;
            this.answer = null;
            this.span = null;
            this.resolved = resolved;
            this.verdicts = verdicts;
        }
    }

    /**
     * Admits one request of {@code caller}: checks its shape, the caller's right to its domain,
     * resolves its limits and takes a place in flight. Returns {@code null}, having answered
     * {@code answer} with the refusal already, when the call's deadline has passed, the request is
     * malformed, names no known domain or one the caller may not ask, asks for more than a limit
     * can ever give, or the node is overloaded.
     */
    public Admitted admit(Caller caller, AcquireRequest request, boolean deadlinePassed, Answer answer) {
        return admit(caller, null, request, deadlinePassed, answer);
    }

    /**
     * As {@link #admit(Caller, AcquireRequest, boolean, Answer)}, continuing the caller's trace:
     * {@code trace} is the context its W3C trace headers gave, or {@code null}.
     */
    public Admitted admit(Caller caller, Context trace, AcquireRequest request, boolean deadlinePassed, Answer answer) {
        received.increment();
        if (deadlinePassed) {
            answer.accept(null, new Refusal(Refusal.Code.DEADLINE_EXCEEDED, "the call's deadline passed before a decision was asked for"));
            return null;
        }
        String problem = RequestValidator.problem(request);
        if (problem != null) {
            answer.accept(null, Refusal.invalid(problem));
            return null;
        }
        Domain domain = policies.get().domain(request.getDomain());
        Refusal refused = refusal(caller, request.getDomain(), domain);
        if (refused != null) {
            answer.accept(null, refused);
            return null;
        }
        Map<String, String> descriptors = domain.withDefaults(request.getDescriptorsMap());
        long cost = request.getCost() == 0 ? 1 : request.getCost();
        List<AppliedLimit> limits = domain.resolve(descriptors);
        for (AppliedLimit limit : limits) {
            long max = limit.algorithm().limit();
            if (cost > max) {
                answer.accept(null, Refusal.invalid("cost: " + cost + " can never be allowed by limit '" + limit.name()
                        + "', which allows at most " + max + " at once"));
                return null;
            }
        }
        if (inFlight.incrementAndGet() > maxInFlight) {
            inFlight.decrementAndGet();
            overloaded.increment();
            answer.accept(null, overloaded(maxInFlight));
            return null;
        }
        // A request that takes slots of a concurrency limit holds them under a lease its caller
        // names in Release: its request id, or one made here when it has none.
        String requestId = request.getRequestId();
        String leaseId = null;
        if (!request.getDryRun() && DecisionEngine.holdsLeases(limits)) {
            leaseId = requestId.isEmpty() ? RequestIds.fresh() : requestId;
            requestId = leaseId;
        }
        Admitted admitted = new Admitted(request.getDomain(), domain, descriptors,
                new DecisionEngine.Request(limits, cost, request.getDryRun(), RequestIds.of(caller.id(), requestId)), answer,
                tracing.decision(trace, request.getDomain(), cost), leaseId);
        admitted.routeHint = request.getRouteHint();
        return admitted;
    }

    /** Why {@code caller} may not ask {@code domain} (named {@code name}, {@code null} when not served), or {@code null}. */
    private static Refusal refusal(Caller caller, String name, Domain domain) {
        if (domain == null) {
            return new Refusal(Refusal.Code.NOT_FOUND, "domain: \"" + name + "\" has no policies on this cluster");
        }
        if (!domain.admits(caller.id())) {
            return caller.anonymous()
                    ? new Refusal(Refusal.Code.UNAUTHENTICATED, "domain: \"" + name
                            + "\" answers only callers it knows; present a client certificate or a bearer token")
                    : new Refusal(Refusal.Code.PERMISSION_DENIED, "domain: caller \"" + caller.id() + "\" may not ask domain \"" + name + "\"");
        }
        return null;
    }

    /** The failure a chain of futures completed with, without the {@code CompletionException} around it. */
    private static Throwable unwrapped(Throwable error) {
        return error instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : error;
    }

    /** What a call on an earlier request's buckets (Release, Renew, Settle) hears: one result per limit it acts on, or why there are none. */
    @FunctionalInterface
    public interface FollowUp<T> {
        void accept(List<T> results, Refusal refusal);
    }

    /**
     * Gives back ({@code renew} false) or extends the lease {@code leaseId} of {@code caller}
     * under the concurrency limits that apply to {@code descriptors} in {@code domainName},
     * checked as an Acquire is: the request's shape, the domain, the caller's right to it.
     */
    public void lease(Caller caller, String domainName, Map<String, String> descriptors, String leaseId, boolean renew,
                      FollowUp<LeaseResult> answer) {
        followUp(caller, domainName, descriptors, leaseId, "lease_id", "lease_id: required; the lease_id the Acquire that took the slots answered",
                null, (limits, id) -> renew ? engine.renew(limits, id) : engine.release(limits, id), answer);
    }

    /**
     * Settles the cost of {@code caller}'s request {@code requestId} at {@code actualCost} units
     * under the limits that apply to {@code descriptors} in {@code domainName}, checked as an
     * Acquire is. Refused with FAILED_PRECONDITION, nothing applied, when every bucket has
     * forgotten the request.
     */
    public void settle(Caller caller, String domainName, Map<String, String> descriptors, String requestId, long actualCost,
                       FollowUp<DecisionEngine.SettleResult> answer) {
        String negative = actualCost < 0 ? "actual_cost: must not be negative, got " + actualCost + " (0 gives back everything the Acquire took)"
                : null;
        followUp(caller, domainName, descriptors, requestId, "request_id", "request_id: required; the request_id of the Acquire whose cost this settles",
                negative, (limits, id) -> engine.settle(limits, id, actualCost), (results, refusal) -> {
                    if (refusal == null && !results.isEmpty()
                            && results.stream().allMatch(r -> r.settlement().result() == Settlement.Result.FORGOTTEN)) {
                        answer.accept(null, new Refusal(Refusal.Code.FAILED_PRECONDITION, "request_id: \"" + requestId + "\" is not "
                                + "remembered by the buckets of domain \"" + domainName + "\" for these descriptors: its memory ran out "
                                + "(the node's request memory, or the limit's settle_within), it was denied (a denial takes nothing "
                                + "and is not remembered), or no Acquire with this id and these descriptors was made; nothing was settled"));
                    } else {
                        answer.accept(results, refusal);
                    }
                });
    }

    /**
     * A call on the buckets of an earlier request named by {@code id} (its field {@code idField}),
     * checked as an Acquire is: the request's shape, the id present ({@code required} otherwise),
     * {@code problem} (a further mistake of the caller's, or {@code null}), the domain and the
     * caller's right to it; then {@code call} on the limits that apply, with the id scoped to the caller.
     */
    private <T> void followUp(Caller caller, String domainName, Map<String, String> descriptors, String id, String idField, String required,
                              String problem, java.util.function.BiFunction<List<AppliedLimit>, Long, CompletableFuture<List<T>>> call,
                              FollowUp<T> answer) {
        String shape = RequestValidator.problem(AcquireRequest.newBuilder().setDomain(domainName).putAllDescriptors(descriptors)
                .setRequestId(id).build());
        if (shape != null && shape.startsWith("request_id")) {
            shape = idField + shape.substring("request_id".length());
        }
        String wrong = shape != null ? shape : id.isEmpty() ? required : problem;
        if (wrong != null) {
            answer.accept(null, Refusal.invalid(wrong));
            return;
        }
        Domain domain = policies.get().domain(domainName);
        Refusal refused = refusal(caller, domainName, domain);
        if (refused != null) {
            answer.accept(null, refused);
            return;
        }
        List<AppliedLimit> limits = domain.resolve(domain.withDefaults(descriptors));
        CompletableFuture<List<T>> done;
        try {
            done = call.apply(limits, RequestIds.of(caller.id(), id));
        } catch (RuntimeException e) {
            answer.accept(null, refusalOf(e));
            return;
        }
        done.whenComplete((results, error) -> {
            if (error != null) {
                answer.accept(null, refusalOf(unwrapped(error)));
            } else {
                answer.accept(results, null);
            }
        });
    }

    /**
     * Refuses a request that could not even be read ({@code problem} names the field), counting
     * it as received: the answer is INVALID_ARGUMENT, as for any malformed request.
     */
    public void refuseUnreadable(String problem, Answer answer) {
        received.increment();
        unreadable.note(problem);
        answer.accept(null, Refusal.invalid(problem));
    }

    /** Requests refused because their bytes made no request, since start. */
    public long unreadable() {
        return unreadable.count();
    }

    /**
     * The refusal for {@code n} more decisions when they would not fit in flight now, else
     * {@code null}: an API that takes many requests in one call refuses the whole call up front.
     */
    public Refusal overloadedFor(int n) {
        int now = inFlight.get();
        if (now + n <= maxInFlight) {
            return null;
        }
        overloaded.add(n);
        return Refusal.unavailable("node overloaded: " + now + " decisions in flight and " + n + " more asked, " + maxInFlight
                + " allowed; retry on another node" + (n > maxInFlight ? " with fewer requests a call" : ""));
    }

    private static Refusal overloaded(int inFlight) {
        return Refusal.unavailable("node overloaded: " + inFlight + " decisions in flight; retry on another node");
    }

    /** Decides admitted requests together and answers each as its verdict arrives. */
    public void decide(List<Admitted> batch) {
        if (batch.isEmpty()) {
            return;
        }
        List<DecisionEngine.Request> requests = new ArrayList<>(batch.size());
        for (Admitted a : batch) {
            if (a.resolved != null) {
                requests.addAll(a.resolved);
            } else {
                requests.add(a.decision);
            }
        }
        Span[] stores = tracing.on() ? new Span[batch.size()] : null;
        if (stores != null) {
            for (int i = 0; i < stores.length; i++) {
                stores[i] = tracing.store(batch.get(i).span);
            }
        }
        List<CompletableFuture<Verdict>> verdicts;
        try {
            verdicts = engine.decideAll(requests);
        } catch (RuntimeException e) {
            for (int i = 0; i < batch.size(); i++) {
                Admitted a = batch.get(i);
                if (a.resolved != null) {
                    inFlight.addAndGet(-a.resolved.size());
                    a.verdicts.accept(null, refusalOf(e));
                } else {
                    inFlight.decrementAndGet();
                    fail(a, stores == null ? null : stores[i], e);
                }
            }
            return;
        }
        int at = 0;
        for (int i = 0; i < batch.size(); i++) {
            Admitted a = batch.get(i);
            if (a.resolved != null) {
                concludeResolved(a, verdicts.subList(at, at + a.resolved.size()));
                at += a.resolved.size();
                continue;
            }
            Span store = stores == null ? null : stores[i];
            verdicts.get(at++).whenComplete((verdict, error) -> {
                inFlight.decrementAndGet();
                if (error != null) {
                    fail(a, store, error);
                } else {
                    metrics.decided(a.domain, a.descriptors, verdict, a.decision.dryRun());
                    tracing.decided(a.span, store, verdict);
                    long now = clock.nanos();
                    if (!a.decision.dryRun()) {
                        topKeys.record(a.domainName, verdict, now);
                    }
                    if (a.units != null) {
                        concludeLease(a, verdict, now);
                        return;
                    }
                    AcquireResponse response = ResponseRenderer.render(a.domainName, a.descriptors, verdict, a.domain.response(), now);
                    if (a.leaseId != null && verdict.allowed()) {
                        response = response.toBuilder().setLeaseId(a.leaseId).build();
                    }
                    if (a.routeHint) {
                        response = withPartition(response, a.decision.limits());
                    }
                    a.answer.accept(response, null);
                }
            });
        }
    }

    /** {@code response} naming the partition of the first of {@code limits}' buckets, where there is one. */
    private AcquireResponse withPartition(AcquireResponse response, List<AppliedLimit> limits) {
        int partition = limits.isEmpty() ? -1 : engine.partitionOf(limits.get(0).bucketKey());
        return partition < 0 ? response : response.toBuilder().setPartition(partition).build();
    }

    /** What a Lease hears: the answer (a template when granted), how long it may be decided from, or why there is none. */
    @FunctionalInterface
    public interface Leased {
        void accept(AcquireResponse answer, long validForNanos, Refusal refusal);
    }

    /** The longest a client may decide from a lease. */
    public static final long MOST_LEASE_NANOS = 5_000_000_000L;

    /**
     * Admits a Lease of {@code request.cost} units under {@code request.request_id} for at most
     * {@code validForNanos}, checked as an Acquire is and refused when one of its limits cannot be
     * leased; {@code null} when refused (answered already). Decide it with {@link #decide}.
     */
    public Admitted admitLease(Caller caller, Context trace, AcquireRequest request, long validForNanos, Leased answer) {
        String problem = request.getRequestId().isEmpty() ? "request_id: required; it names the lease for the Settle that gives back its rest"
                : request.getCost() < 1 ? "units: must be at least 1, got " + request.getCost()
                : validForNanos <= 0 || validForNanos > MOST_LEASE_NANOS ? "valid_for: must be above 0 and at most 5s" : null;
        if (problem != null || request.getDryRun()) {
            received.increment();
            answer.accept(null, 0, Refusal.invalid(problem != null ? problem : "dry_run: a lease takes units"));
            return null;
        }
        Admitted a = admit(caller, trace, request, false, (response, refusal) -> answer.accept(response, 0, refusal));
        if (a == null) {
            return null;
        }
        for (AppliedLimit l : a.decision.limits()) {
            if (l.algorithm().leaseHorizonNanos(Long.MAX_VALUE) == 0) {
                inFlight.decrementAndGet();
                answer.accept(null, 0, new Refusal(Refusal.Code.FAILED_PRECONDITION, "limit '" + l.name() + "' ("
                        + (DecisionEngine.holdsLeases(List.of(l)) ? "concurrency: slots, not units" : "sliding_window: its units leave one by one")
                        + ") cannot be leased; decide these requests one by one"));
                return null;
            }
        }
        a.units = answer;
        a.unitsFor = validForNanos;
        return a;
    }

    /** A Lease's answer: the template of its answers and how long it holds, or the denial as it is. */
    private void concludeLease(Admitted a, Verdict verdict, long now) {
        if (!verdict.allowed()) {
            a.units.accept(ResponseRenderer.render(a.domainName, a.descriptors, verdict, a.domain.response(), now), 0, null);
            return;
        }
        long validFor = a.unitsFor;
        for (dev.sluice.server.engine.LimitResult r : verdict.results()) {
            validFor = Math.min(validFor, r.limit().algorithm().leaseHorizonNanos(r.resetAfterNanos()));
        }
        a.units.accept(ResponseRenderer.renderTemplate(a.domainName, a.descriptors, verdict, a.domain.response(), now), validFor, null);
    }

    /** Answers a resolved call once every one of its verdicts is in. */
    private void concludeResolved(Admitted a, List<CompletableFuture<Verdict>> parts) {
        CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).whenComplete((ignored, error) -> {
            inFlight.addAndGet(-parts.size());
            if (error != null) {
                a.verdicts.accept(null, refusalOf(unwrapped(error)));
            } else {
                List<Verdict> verdicts = parts.stream().map(CompletableFuture::join).toList();
                long now = clock.nanos();
                for (int i = 0; i < verdicts.size(); i++) {
                    if (!a.resolved.get(i).dryRun()) {
                        topKeys.record(a.domainName, verdicts.get(i), now);
                    }
                }
                a.verdicts.accept(verdicts, null);
            }
        });
    }

    private void fail(Admitted a, Span store, Throwable error) {
        Refusal r = refusalOf(error);
        tracing.failed(a.span, store, r.code().name(), r.message());
        a.answer.accept(null, r);
    }

    /** What an adapter that resolved its own limits hears: every verdict, in order, or why there are none. */
    @FunctionalInterface
    public interface Verdicts {
        void accept(List<Verdict> verdicts, Refusal refusal);
    }

    /**
     * Admits requests an adapter resolved itself (Envoy's API, whose descriptors are not
     * {@code sluice.v1} requests): one call received, its decisions taking places in flight
     * together. Returns {@code null}, having answered {@code answer} already, when there is nothing
     * to decide or the node is overloaded; otherwise hand it to {@link #decide} with the others of
     * the turn. Each request is concluded on its own by the engine, and {@code answer} hears once
     * all are, or the first store failure as a refusal.
     */
    public Admitted admitResolved(String domain, List<DecisionEngine.Request> requests, Verdicts answer) {
        received.increment();
        int n = requests.size();
        if (n == 0) {
            answer.accept(List.of(), null);
            return null;
        }
        if (inFlight.addAndGet(n) > maxInFlight) {
            inFlight.addAndGet(-n);
            overloaded.add(n);
            answer.accept(null, overloaded(maxInFlight));
            return null;
        }
        return new Admitted(domain, requests, answer);
    }

    /** The decision counters, for adapters that count what their own limits said. */
    public DecisionMetrics metrics() {
        return metrics;
    }

    /** Requests refused for overload (too many decisions in flight) since start. */
    public long overloadRefusals() {
        return overloaded.sum();
    }

    /** Decisions the store could not make for {@code kind} since start (below minimum size, unavailable, ...). */
    public long storeFailures(StoreException.Kind kind) {
        return storeFailures[kind.ordinal()].sum();
    }

    /** Decisions admitted and not yet answered. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Requests received since start, answered or not. */
    public long received() {
        return received.sum();
    }

    /** A failed decision as the caller hears of it: the engine fails a verdict only with a store's exception, or a defect. */
    private Refusal refusalOf(Throwable e) {
        if (e instanceof StoreException s) {
            storeFailures[s.kind().ordinal()].increment();
            return switch (s.kind()) {
                case OUTCOME_UNKNOWN -> Refusal.unavailable(s.getMessage()
                        + "; retry with a request_id to be answered without being counted twice");
                case BELOW_MINIMUM_SIZE -> Refusal.unavailable("this node's side of the cluster is below its minimum size;"
                        + " it refuses to decide alone: " + s.getMessage());
                case UNAVAILABLE -> Refusal.unavailable("the cluster could not decide: " + s.getMessage());
                case OVERLOADED -> Refusal.unavailable("the cluster is overloaded: " + s.getMessage() + "; retry later");
                case FULL -> new Refusal(Refusal.Code.RESOURCE_EXHAUSTED, "buckets: " + s.getMessage() + "; retry later");
                case FAILED -> internal(s.getCause() != null ? s.getCause() : s);
            };
        }
        return internal(e);
    }

    private static Refusal internal(Throwable e) {
        LOG.log(Level.WARNING, "decision failed", e);
        return new Refusal(Refusal.Code.INTERNAL, "decision failed: " + e);
    }
}
