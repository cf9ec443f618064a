package dev.sluice.server.engine;

import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.store.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Decides a request against every limit that applies, all or nothing: each bucket is asked on
 * its owner at once, and when any limit that is not in shadow mode denies, the units the others
 * took are given back (except for limits that count denied attempts) before the answer is
 * given, so a caller who sees a denial never finds those units missing. One round trip when
 * allowed, two when a multi-limit request is denied. Nothing here blocks a thread.
 */
public final class DecisionEngine {

    private static final Logger LOG = Logger.getLogger(DecisionEngine.class.getName());

    private static final Executor FOLLOW_UPS = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sluice-refunds");
        t.setDaemon(true);
        return t;
    });

    private final BucketStore store;
    private final Executor followUps;

    public DecisionEngine(BucketStore store) {
        this(store, FOLLOW_UPS);
    }

    /**
     * @param followUps starts the refunds a denial triggers. Decisions complete on Hazelcast's
     *                  partition threads, which must not start further cluster calls; this
     *                  executor only starts asynchronous calls, it never waits on them.
     */
    public DecisionEngine(BucketStore store, Executor followUps) {
        this.store = store;
        this.followUps = followUps;
    }

    /**
     * Decides {@code cost} units against {@code limits}. Every limit must allow the cost
     * ({@code cost <= limit}), which callers check first. With {@code dryRun}, nothing is consumed.
     */
    public CompletableFuture<Verdict> decide(List<AppliedLimit> limits, long cost, boolean dryRun) {
        return decide(limits, cost, dryRun, 0);
    }

    /**
     * As {@link #decide(List, long, boolean)}, for a request with an id ({@link RequestIds#of}):
     * each bucket remembers it, so a repeat of the request is answered without being applied
     * twice, and the node may retry operations whose outcome a member crash left unknown.
     */
    public CompletableFuture<Verdict> decide(List<AppliedLimit> limits, long cost, boolean dryRun, long requestId) {
        if (limits.isEmpty()) {
            return CompletableFuture.completedFuture(Verdict.NO_LIMITS);
        }
        List<CompletableFuture<Outcome>> parts = new ArrayList<>(limits.size());
        for (AppliedLimit limit : limits) {
            parts.add(store.acquire(limit.bucketKey(), limit.algorithm(), cost, !dryRun, limit.countDenied(), requestId));
        }
        return conclude(limits, cost, dryRun, requestId, parts);
    }

    /** Waits for the outcome of every limit of one request ({@code parts}, in limit order), then concludes it. */
    private CompletableFuture<Verdict> conclude(List<AppliedLimit> limits, long cost, boolean dryRun, long requestId,
                                                List<CompletableFuture<Outcome>> parts) {
        int n = limits.size();
        CompletableFuture<Verdict> verdict = new CompletableFuture<>();
        if (n == 1) {
            AppliedLimit limit = limits.get(0);
            parts.get(0).whenComplete((outcome, error) -> {
                if (error != null) {
                    verdict.completeExceptionally(error);
                } else {
                    verdict.complete(combine(List.of(LimitResult.of(limit, outcome))));
                }
            });
            return verdict;
        }
        AtomicReferenceArray<Outcome> outcomes = new AtomicReferenceArray<>(n);
        AtomicReferenceArray<Throwable> errors = new AtomicReferenceArray<>(n);
        AtomicInteger pending = new AtomicInteger(n);
        for (int i = 0; i < n; i++) {
            int at = i;
            parts.get(i).whenComplete((outcome, error) -> {
                if (error != null) {
                    errors.set(at, error);
                } else {
                    outcomes.set(at, outcome);
                }
                if (pending.decrementAndGet() == 0) {
                    try {
                        settle(limits, cost, dryRun, requestId, outcomes, errors, verdict);
                    } catch (RuntimeException e) {
                        // Never leave a caller waiting: a bug here must still answer.
                        verdict.completeExceptionally(e);
                    }
                }
            });
        }
        return verdict;
    }

    /**
     * Combines the outcomes of one request's limits ({@code null} where a limit failed) into its
     * verdict, giving back what the other limits took when one denied or failed, before answering.
     */
    private void settle(List<AppliedLimit> limits, long cost, boolean dryRun, long requestId, AtomicReferenceArray<Outcome> outcomes,
                        AtomicReferenceArray<Throwable> errors, CompletableFuture<Verdict> verdict) {
        int n = limits.size();
        boolean denied = false;
        Throwable firstError = null;
        for (int i = 0; i < n; i++) {
            Outcome o = outcomes.get(i);
            if (o != null && !o.allowed() && !limits.get(i).shadow()) {
                denied = true;
            }
            if (firstError == null) {
                firstError = errors.get(i);
            }
        }
        boolean giveBack = !dryRun && (denied || firstError != null);
        List<LimitResult> results = new ArrayList<>(n);
        List<Refund> refunds = new ArrayList<>(0);
        for (int i = 0; i < n; i++) {
            Outcome outcome = outcomes.get(i);
            if (outcome == null) {
                continue;
            }
            AppliedLimit limit = limits.get(i);
            LimitResult result = LimitResult.of(limit, outcome);
            if (giveBack && outcome.allowed() && !limit.countDenied()) {
                refunds.add(new Refund(limit, outcome.marker()));
                result = result.refunded(cost);
            }
            results.add(result);
        }
        Throwable error = firstError;
        Runnable answer = error != null ? () -> verdict.completeExceptionally(error) : () -> verdict.complete(combine(results));
        if (refunds.isEmpty()) {
            answer.run();
            return;
        }
        AtomicInteger left = new AtomicInteger(refunds.size());
        followUps.execute(() -> {
            for (Refund r : refunds) {
                store.refund(r.limit().bucketKey(), r.limit().algorithm(), cost, r.marker(), requestId).whenComplete((done, e) -> {
                    if (e != null) {
                        // The units stay taken until the bucket refills: under-admission, never over-admission.
                        LOG.log(Level.WARNING, "could not give back " + cost + " units to limit '" + r.limit().name() + "': " + e);
                    }
                    if (left.decrementAndGet() == 0) {
                        answer.run();
                    }
                });
            }
        });
    }

    /** One request of a batch: its limits, cost, whether it is a dry run, and its id (0: none). */
    public record Request(List<AppliedLimit> limits, long cost, boolean dryRun, long requestId) {
    }

    /**
     * Decides many requests together: the commands of all of them go to the cluster at once (a
     * hot key asked by several is visited once), and each request is concluded on its own as soon
     * as its own limits have answered, all or nothing, exactly as {@link #decide} would. A slow or
     * failed bucket holds up only the requests that use it.
     */
    public List<CompletableFuture<Verdict>> decideAll(List<Request> requests) {
        List<Command> commands = new ArrayList<>(requests.size() * 2);
        for (Request q : requests) {
            for (AppliedLimit limit : q.limits()) {
                commands.add(new Command(limit.bucketKey(), limit.algorithm(), q.cost(), !q.dryRun(), limit.countDenied(), q.requestId()));
            }
        }
        List<CompletableFuture<Outcome>> outcomes = commands.isEmpty() ? List.of() : store.acquireAll(commands);
        List<CompletableFuture<Verdict>> verdicts = new ArrayList<>(requests.size());
        int first = 0;
        for (Request q : requests) {
            int n = q.limits().size();
            verdicts.add(n == 0 ? CompletableFuture.completedFuture(Verdict.NO_LIMITS)
                    : conclude(q.limits(), q.cost(), q.dryRun(), q.requestId(), outcomes.subList(first, first + n)));
            first += n;
        }
        return verdicts;
    }

    private record Refund(AppliedLimit limit, long marker) {
    }

    static Verdict combine(List<LimitResult> results) {
        boolean allowed = true;
        long retryAfter = 0;
        LimitResult binding = null;
        for (LimitResult r : results) {
            if (!r.allowed() && !r.limit().shadow()) {
                if (allowed || r.retryAfterNanos() > retryAfter) {
                    binding = r;
                }
                allowed = false;
                retryAfter = Math.max(retryAfter, r.retryAfterNanos());
            }
        }
        if (allowed) {
            for (LimitResult r : results) {
                if (r.limit().shadow()) {
                    continue;
                }
                if (binding == null || r.remaining() < binding.remaining()) {
                    binding = r;
                }
            }
            if (binding == null && !results.isEmpty()) {
                binding = results.get(0);
            }
        }
        return new Verdict(allowed, List.copyOf(results), allowed ? 0 : retryAfter, binding);
    }
}
