package dev.sluice.server.api;

import dev.sluice.api.admin.v1.AdminGrpc;
import dev.sluice.api.admin.v1.BucketInfo;
import dev.sluice.api.admin.v1.ClusterRequest;
import dev.sluice.api.admin.v1.ClusterResponse;
import dev.sluice.api.admin.v1.HotKey;
import dev.sluice.api.admin.v1.InspectRequest;
import dev.sluice.api.admin.v1.InspectResponse;
import dev.sluice.api.admin.v1.MemberInfo;
import dev.sluice.api.admin.v1.ResetBucket;
import dev.sluice.api.admin.v1.ResetRequest;
import dev.sluice.api.admin.v1.ResetResponse;
import dev.sluice.api.admin.v1.TopKeysRequest;
import dev.sluice.api.admin.v1.TopKeysResponse;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.admin.v1.CheckPolicyRequest;
import dev.sluice.api.admin.v1.CheckPolicyResponse;
import dev.sluice.api.admin.v1.PolicyProblem;
import dev.sluice.api.admin.v1.PolicyRequest;
import dev.sluice.api.admin.v1.PolicyResponse;
import dev.sluice.server.logging.Events;
import dev.sluice.server.observe.KeyCounts;
import dev.sluice.server.observe.TopKeys;
import dev.sluice.server.path.Caller;
import dev.sluice.server.path.RequestValidator;
import dev.sluice.server.path.ResponseRenderer;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.policy.BucketNames;
import dev.sluice.server.policy.Domain;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.policy.Problem;
import dev.sluice.server.store.BucketKey;
import dev.sluice.server.store.BucketView;
import dev.sluice.server.store.Buckets;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code sluice.admin.v1.Admin}: what operators ask a node by hand. Every call needs a verified
 * caller holding the policy's admin role ({@code admins:}); an anonymous caller is refused
 * UNAUTHENTICATED and a known caller without the role PERMISSION_DENIED, neither told who holds it.
 */
public final class AdminService extends AdminGrpc.AdminImplBase {

    private static final Logger LOG = Logger.getLogger(AdminService.class.getName());

    /** Most keys TopKeys answers at once. */
    static final int MAX_TOP_KEYS = 1000;

    private final Supplier<Policies> policies;
    private final Buckets buckets;
    private final ClusterAdmin cluster;
    private final Consumer<String> resetCounted;

    /**
     * @param buckets      the store Inspect reads and Reset changes
     * @param cluster      the members, for TopKeys, Cluster and where a bucket lives
     * @param resetCounted told the domain of every bucket reset (the node counts them in its metrics)
     */
    public AdminService(Supplier<Policies> policies, Buckets buckets, ClusterAdmin cluster, Consumer<String> resetCounted) {
        this.policies = policies;
        this.buckets = buckets;
        this.cluster = cluster;
        this.resetCounted = resetCounted;
    }

    @Override
    public void policy(PolicyRequest request, StreamObserver<PolicyResponse> observer) {
        Policies p = policies.get();
        if (refused("Policy", p, observer)) {
            return;
        }
        observer.onNext(PolicyResponse.newBuilder().setVersion(p.version()).setSource(p.source()).setText(p.text())
                .addAllDomains(new TreeSet<>(p.domainNames())).build());
        observer.onCompleted();
    }

    @Override
    public void checkPolicy(CheckPolicyRequest request, StreamObserver<CheckPolicyResponse> observer) {
        if (refused("CheckPolicy", policies.get(), observer)) {
            return;
        }
        String source = request.getSource().isEmpty() ? "policy" : request.getSource();
        CheckPolicyResponse.Builder answer = CheckPolicyResponse.newBuilder();
        try {
            Policies checked = PolicyLoader.parse(request.getText(), source);
            answer.setValid(true).setVersion(checked.version()).addAllDomains(new TreeSet<>(checked.domainNames()));
        } catch (PolicyException e) {
            for (Problem problem : e.problems()) {
                answer.addProblems(PolicyProblem.newBuilder().setLine(problem.line()).setPath(problem.path()).setMessage(problem.message()));
            }
        }
        observer.onNext(answer.build());
        observer.onCompleted();
    }

    @Override
    public void inspect(InspectRequest request, StreamObserver<InspectResponse> observer) {
        Policies p = policies.get();
        if (refused("Inspect", p, observer)) {
            return;
        }
        long cost = request.getCost() == 0 ? 1 : request.getCost();
        List<AppliedLimit> limits = resolve(p, request.getDomain(), request.getDescriptorsMap(), cost, observer);
        if (limits == null) {
            return;
        }
        for (AppliedLimit limit : limits) {
            if (cost > limit.algorithm().limit()) {
                observer.onError(invalid("cost: " + cost + " can never be allowed by limit '" + limit.name() + "', which allows at most "
                        + limit.algorithm().limit() + " at once"));
                return;
            }
        }
        List<CompletableFuture<BucketView>> views = new ArrayList<>(limits.size());
        for (AppliedLimit limit : limits) {
            views.add(buckets.inspect(limit.bucketKey(), limit.algorithm(), cost));
        }
        whenAll(views, observer, done -> {
            InspectResponse.Builder answer = InspectResponse.newBuilder();
            for (int i = 0; i < limits.size(); i++) {
                AppliedLimit limit = limits.get(i);
                BucketView v = done.get(i);
                ClusterAdmin.Owner owner = cluster.owner(limit.bucketKey());
                answer.addBuckets(BucketInfo.newBuilder().setRule(limit.rule()).setLimit(limit.name())
                        .setBucketKey(BucketKey.of(limit.bucketKey()).toString()).setAlgorithm(limit.algorithm().toString())
                        .setLimitValue(limit.algorithm().limit()).setRemaining(v.remaining()).setResetAfter(ResponseRenderer.duration(v.resetAfterNanos()))
                        .setAllowed(v.allowed()).setRetryAfter(ResponseRenderer.duration(v.retryAfterNanos())).setOwner(owner.memberAddress())
                        .setOwnerUuid(owner.uuid()).setShadow(limit.shadow()).setRememberedRequests(v.remembered()).setHeld(v.held()));
            }
            return answer.build();
        });
    }

    @Override
    public void reset(ResetRequest request, StreamObserver<ResetResponse> observer) {
        Policies p = policies.get();
        if (refused("Reset", p, observer)) {
            return;
        }
        if (!request.getAll() && request.getLimitsCount() == 0) {
            observer.onError(invalid("limits: name the limits to reset, or set all to reset every limit that applies"));
            return;
        }
        List<AppliedLimit> limits = resolve(p, request.getDomain(), request.getDescriptorsMap(), 1, observer);
        if (limits == null) {
            return;
        }
        List<AppliedLimit> chosen = new ArrayList<>();
        if (request.getAll()) {
            chosen.addAll(limits);
        } else {
            Set<String> applying = new LinkedHashSet<>();
            limits.forEach(l -> applying.add(l.name()));
            for (String name : request.getLimitsList()) {
                if (!applying.contains(name)) {
                    observer.onError(invalid("limits: no limit named '" + name + "' applies to this request in domain \""
                            + request.getDomain() + "\"" + (applying.isEmpty() ? " (no rule matches its descriptors)"
                            : "; those that do: " + String.join(", ", applying))));
                    return;
                }
            }
            for (AppliedLimit l : limits) {
                if (request.getLimitsList().contains(l.name())) {
                    chosen.add(l);
                }
            }
        }
        List<CompletableFuture<Boolean>> resets = new ArrayList<>(chosen.size());
        for (AppliedLimit limit : chosen) {
            resets.add(buckets.reset(limit.bucketKey()));
        }
        Caller caller = CallerIdentity.current();
        whenAll(resets, observer, done -> {
            ResetResponse.Builder answer = ResetResponse.newBuilder();
            for (int i = 0; i < chosen.size(); i++) {
                AppliedLimit limit = chosen.get(i);
                String key = BucketKey.of(limit.bucketKey()).toString();
                answer.addBuckets(ResetBucket.newBuilder().setRule(limit.rule()).setLimit(limit.name()).setBucketKey(key).setHeld(done.get(i)));
                resetCounted.accept(request.getDomain());
                boolean held = done.get(i);
                Events.log(LOG, Level.INFO, "bucket_reset", () -> "bucket reset by " + caller + ": domain " + request.getDomain()
                        + ", rule " + limit.rule() + ", limit " + limit.name() + ", key " + key + (held ? "" : " (it was at rest)"),
                        "caller", caller.id(), "domain", request.getDomain(), "rule", limit.rule(), "limit", limit.name(),
                        "bucket_key", key, "held", held);
            }
            return answer.build();
        });
    }

    @Override
    public void topKeys(TopKeysRequest request, StreamObserver<TopKeysResponse> observer) {
        Policies p = policies.get();
        if (refused("TopKeys", p, observer)) {
            return;
        }
        if (request.getDomain().isEmpty()) {
            observer.onError(invalid("domain: required; name the domain whose heaviest keys to list"));
            return;
        }
        if (request.getBy() == TopKeysRequest.By.UNRECOGNIZED) {
            observer.onError(invalid("by: " + request.getByValue() + " is not REQUESTS (0) or DENIALS (1)"));
            return;
        }
        if (request.getN() < 0 || request.getN() > MAX_TOP_KEYS) {
            observer.onError(invalid("n: " + request.getN() + " keys asked, from 1 to " + MAX_TOP_KEYS + " allowed (0: 10)"));
            return;
        }
        if (p.domain(request.getDomain()) == null) {
            observer.onError(notServed(request.getDomain()));
            return;
        }
        int n = request.getN() == 0 ? 10 : request.getN();
        TopKeys.By by = request.getBy() == TopKeysRequest.By.DENIALS ? TopKeys.By.DENIALS : TopKeys.By.REQUESTS;
        cluster.topKeys(request.getDomain(), by).whenComplete((answers, error) -> {
            if (error != null) {
                observer.onError(Status.UNAVAILABLE.withDescription("could not ask the members: " + error).asRuntimeException());
                return;
            }
            TopKeysResponse.Builder answer = TopKeysResponse.newBuilder()
                    .setWindow(ResponseRenderer.duration(TopKeys.SLOTS * TopKeys.SLOT_NANOS));
            List<KeyCounts> parts = new ArrayList<>();
            for (ClusterAdmin.MemberAnswer<KeyCounts> a : answers) {
                if (a.answer() == null) {
                    answer.addMembersMissing(a.memberAddress() + ": " + a.error());
                } else {
                    parts.add(a.answer());
                }
            }
            KeyCounts merged = KeyCounts.merge(parts, n);
            for (KeyCounts.Entry e : merged.entries()) {
                BucketNames.Parts name = BucketNames.parse(e.key());
                answer.addKeys(HotKey.newBuilder().setRule(name.rule()).setLimit(name.limit()).putAllDescriptors(name.descriptors())
                        .setCount(e.count()).setError(e.error()).setBucketKey(BucketKey.of(e.key()).toString()));
            }
            observer.onNext(answer.setTotal(merged.total()).setErrorBound(merged.bound()).setMembersAnswered(parts.size()).build());
            observer.onCompleted();
        });
    }

    @Override
    public void cluster(ClusterRequest request, StreamObserver<ClusterResponse> observer) {
        if (refused("Cluster", policies.get(), observer)) {
            return;
        }
        cluster.reports().whenComplete((answers, error) -> {
            if (error != null) {
                observer.onError(Status.UNAVAILABLE.withDescription("could not ask the members: " + error).asRuntimeException());
                return;
            }
            ClusterResponse.Builder answer = ClusterResponse.newBuilder().setState(cluster.state()).setSafe(cluster.safe())
                    .setPartitions(cluster.partitions());
            for (ClusterAdmin.MemberAnswer<ClusterAdmin.Report> a : answers) {
                MemberInfo.Builder m = MemberInfo.newBuilder().setUuid(a.uuid()).setMemberAddress(a.memberAddress()).setLocal(a.local());
                ClusterAdmin.Report r = a.answer();
                if (r == null) {
                    m.setState("UNREACHABLE").setError(a.error());
                } else {
                    m.setGrpcAddress(r.grpcAddress()).setState(r.state()).setOwnedPartitions(r.ownedPartitions())
                            .setOwnedBuckets(r.ownedBuckets()).setBackupBuckets(r.backupBuckets()).setPolicyVersion(r.policyVersion())
                            .setClockOffsetMillis(r.clockOffsetMillis()).setUptime(ResponseRenderer.duration(r.uptimeMillis() * 1_000_000L))
                            .setVersion(r.version());
                }
                answer.addMembers(m);
            }
            observer.onNext(answer.build());
            observer.onCompleted();
        });
    }

    /** The limits that apply to a request's descriptors in its domain, or {@code null} having refused it. */
    private static List<AppliedLimit> resolve(Policies p, String domainName, Map<String, String> descriptors, long cost, StreamObserver<?> observer) {
        String problem = RequestValidator.problem(AcquireRequest.newBuilder().setDomain(domainName).putAllDescriptors(descriptors)
                .setCost(cost).build());
        if (problem != null) {
            observer.onError(invalid(problem));
            return null;
        }
        Domain domain = p.domain(domainName);
        if (domain == null) {
            observer.onError(notServed(domainName));
            return null;
        }
        return domain.resolve(domain.withDefaults(descriptors));
    }

    /** Answers with {@code build} of every future's value once all are in, or the first failure as UNAVAILABLE. */
    private static <T, R> void whenAll(List<CompletableFuture<T>> parts, StreamObserver<R> observer, Function<List<T>, R> build) {
        CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).whenComplete((ignored, error) -> {
            if (error != null) {
                Throwable cause = error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
                observer.onError(Status.UNAVAILABLE.withDescription("the store could not answer: " + cause.getMessage()).asRuntimeException());
                return;
            }
            R answer;
            try {
                answer = build.apply(parts.stream().map(CompletableFuture::join).toList());
            } catch (RuntimeException e) {
                observer.onError(Status.INTERNAL.withDescription(String.valueOf(e)).asRuntimeException());
                return;
            }
            observer.onNext(answer);
            observer.onCompleted();
        });
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static StatusRuntimeException notServed(String domain) {
        return Status.NOT_FOUND.withDescription("domain: \"" + domain + "\" has no policies on this cluster").asRuntimeException();
    }


    /** Refuses the call unless its caller holds the admin role; answers whether it did. */
    private static boolean refused(String method, Policies in, StreamObserver<?> observer) {
        Caller caller = CallerIdentity.current();
        if (caller.anonymous()) {
            observer.onError(Status.UNAUTHENTICATED.withDescription("the admin API needs a verified caller holding the admin role "
                    + "(a client certificate or bearer token the node verifies, named by the policy's admins:)").asRuntimeException());
            return true;
        }
        if (!in.isAdmin(caller.id())) {
            LOG.fine(() -> "admin " + method + " refused: caller " + caller + " does not hold the admin role");
            observer.onError(Status.PERMISSION_DENIED.withDescription("caller " + caller + " does not hold the admin role")
                    .asRuntimeException());
            return true;
        }
        return false;
    }
}
