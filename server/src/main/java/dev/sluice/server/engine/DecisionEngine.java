package dev.sluice.server.engine;

import dev.sluice.server.algorithm.ConcurrencyLimit;
import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.policy.WhenFull;
import dev.sluice.server.store.Buckets;
import dev.sluice.server.store.Command;
import dev.sluice.server.store.Settlement;
import dev.sluice.server.store.NewBucket;
import dev.sluice.server.store.Refund;
import dev.sluice.server.store.StoreException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;

/**
 * Decides requests against every limit that applies, all or nothing: each bucket is asked at
 * once, and when any limit that is not in shadow mode denies (or its store call fails), the units
 * the others took are given back (except for limits that count denied attempts) before the answer
 * is given, so a caller who sees a denial never finds those units missing. One round trip when
 * allowed, two when a multi-limit request is denied. Nothing here blocks a thread; a give-back
 * that fails is logged and counted, and one that does not answer in time no longer holds up the
 * answer.
 */
public final class DecisionEngine {

    private static final Logger LOG = Logger.getLogger(DecisionEngine.class.getName());

    /** How long an answer waits for the give-backs of a denial, unless told otherwise. */
    public static final Duration DEFAULT_REFUND_WAIT = Duration.ofSeconds(1);

    private final Buckets buckets;
    private final ScheduledExecutorService followUps;
    private final long refundWaitNanos;
    private final LongAdder refundsApplied = new LongAdder();
    private final LongAdder refundsFailed = new LongAdder();

    /**
     * @param followUps  starts the give-backs a denial triggers, and times the wait for them. A
     *                   store's answers may complete on its own threads (Hazelcast's partition
     *                   threads), which must not start further store calls; this executor only
     *                   starts calls, it never waits on them
     * @param refundWait how long an answer waits for its give-backs before it is sent anyway
     */
    public DecisionEngine(Buckets buckets, ScheduledExecutorService followUps, Duration refundWait) {
        this.buckets = buckets;
        this.followUps = followUps;
        this.refundWaitNanos = refundWait.toNanos();
    }

    public DecisionEngine(Buckets buckets, ScheduledExecutorService followUps) {
        this(buckets, followUps, DEFAULT_REFUND_WAIT);
    }

    /**
     * One request: its limits, cost, whether it is a dry run, and its id (0: none). Every limit
     * must allow the cost ({@code cost <= limit}), which callers check first. With a request id,
     * each bucket remembers it, so a repeat of the request is answered without being applied
     * twice, and the store may retry operations whose outcome a member crash left unknown.
     */
    public record Request(List<AppliedLimit> limits, long cost, boolean dryRun, long requestId) {
    }

    /** {@link #decideAll} for one request. */
    public CompletableFuture<Verdict> decide(Request request) {
        return decideAll(List.of(request)).get(0);
    }

    /**
     * Decides many requests together: the commands of all of them go to the store at once (a
     * hot key asked by several is visited once), and each request is concluded on its own as soon
     * as its own limits have answered, all or nothing. A slow or failed bucket holds up only the
     * requests that use it. A future fails only with the {@link StoreException} of a limit whose
     * store call failed.
     */
    public List<CompletableFuture<Verdict>> decideAll(List<Request> requests) {
        List<Command> commands = new ArrayList<>(requests.size() * 2);
        for (Request q : requests) {
            for (AppliedLimit limit : q.limits()) {
                commands.add(new Command(limit.bucketKey(), limit.algorithm(), q.cost(), !q.dryRun(), limit.countDenied(), q.requestId(),
                        newBucket(limit.whenFull()), limit.settleWithinNanos()));
            }
        }
        List<CompletableFuture<Outcome>> outcomes = commands.isEmpty() ? List.of() : buckets.acquireAll(commands);
        List<CompletableFuture<Verdict>> verdicts = new ArrayList<>(requests.size());
        int first = 0;
        for (Request q : requests) {
            int n = q.limits().size();
            verdicts.add(n == 0 ? CompletableFuture.completedFuture(Verdict.NO_LIMITS) : conclude(q, outcomes.subList(first, first + n)));
            first += n;
        }
        return verdicts;
    }

    /** Waits for the outcome of every limit of one request ({@code parts}, in limit order), then concludes it. */
    private CompletableFuture<Verdict> conclude(Request q, List<CompletableFuture<Outcome>> parts) {
        int n = q.limits().size();
        CompletableFuture<Verdict> verdict = new CompletableFuture<>();
        if (n == 1) {
            AppliedLimit limit = q.limits().get(0);
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
                        settle(q, outcomes, errors, verdict);
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
    private void settle(Request q, AtomicReferenceArray<Outcome> outcomes, AtomicReferenceArray<Throwable> errors,
                        CompletableFuture<Verdict> verdict) {
        List<AppliedLimit> limits = q.limits();
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
        boolean giveBack = !q.dryRun() && (denied || firstError != null);
        List<LimitResult> results = new ArrayList<>(n);
        List<Refund> refunds = new ArrayList<>(0);
        List<String> refundedLimits = new ArrayList<>(0);
        for (int i = 0; i < n; i++) {
            Outcome outcome = outcomes.get(i);
            if (outcome == null) {
                continue;
            }
            AppliedLimit limit = limits.get(i);
            LimitResult result = LimitResult.of(limit, outcome);
            if (giveBack && outcome.allowed() && !limit.countDenied()) {
                refunds.add(new Refund(limit.bucketKey(), limit.algorithm(), q.cost(), outcome.marker(), q.requestId()));
                refundedLimits.add(limit.name());
                result = result.refunded(q.cost());
            }
            results.add(result);
        }
        Throwable error = firstError;
        Runnable answer = error != null ? () -> verdict.completeExceptionally(error) : () -> verdict.complete(combine(results));
        if (refunds.isEmpty()) {
            answer.run();
            return;
        }
        giveBack(refunds, refundedLimits, answer);
    }

    /**
     * Starts the give-backs from the follow-up executor and runs {@code answer} once all have
     * answered, or once the refund wait has passed, whichever comes first; exactly once.
     */
    private void giveBack(List<Refund> refunds, List<String> limitNames, Runnable answer) {
        AtomicBoolean answered = new AtomicBoolean();
        AtomicReference<Future<?>> timeout = new java.util.concurrent.atomic.AtomicReference<>();
        Runnable once = () -> {
            if (answered.compareAndSet(false, true)) {
                Future<?> t = timeout.get();
                if (t != null) {
                    t.cancel(false);
                }
                answer.run();
            }
        };
        AtomicInteger left = new AtomicInteger(refunds.size());
        try {
            timeout.set(followUps.schedule(() -> {
                if (!answered.get()) {
                    LOG.warning(() -> "give-backs to limit(s) " + limitNames + " did not answer within "
                            + TimeUnit.NANOSECONDS.toMillis(refundWaitNanos) + " ms; answering without waiting for them");
                    once.run();
                }
            }, refundWaitNanos, TimeUnit.NANOSECONDS));
            followUps.execute(() -> {
                for (int i = 0; i < refunds.size(); i++) {
                    Refund r = refunds.get(i);
                    String limit = limitNames.get(i);
                    CompletableFuture<Boolean> done;
                    try {
                        done = buckets.refund(r);
                    } catch (RuntimeException e) {
                        done = CompletableFuture.failedFuture(e);
                    }
                    done.whenComplete((given, e) -> {
                        if (e != null) {
                            refundFailed(r, limit, e);
                        } else {
                            refundsApplied.increment();
                        }
                        if (left.decrementAndGet() == 0) {
                            once.run();
                        }
                    });
                }
            });
        } catch (RejectedExecutionException stopping) {
            // The node is closing: nothing more will be given back; the answer is still sent.
            for (int i = 0; i < refunds.size(); i++) {
                refundFailed(refunds.get(i), limitNames.get(i), stopping);
            }
            once.run();
        }
    }

    private void refundFailed(Refund r, String limit, Throwable e) {
        refundsFailed.increment();
        // The units stay taken until the bucket refills: under-admission, never over-admission.
        LOG.warning(() -> "could not give back " + r.cost() + " units to limit '" + limit + "': "
                + (e instanceof StoreException s ? s.toString() : String.valueOf(e)));
    }

    /**
     * Gives back the lease {@code id} (a request id) holds under every concurrency limit among
     * {@code limits}, at most once however often it is asked. One result per concurrency limit,
     * in order.
     */
    public CompletableFuture<List<LeaseResult>> release(List<AppliedLimit> limits, long id) {
        List<AppliedLimit> leased = concurrency(limits);
        List<CompletableFuture<LeaseResult>> each = new ArrayList<>(leased.size());
        for (AppliedLimit l : leased) {
            each.add(buckets.refund(new Refund(l.bucketKey(), l.algorithm(), 0, id, id)).thenApply(given -> new LeaseResult(l, given, 0)));
        }
        return all(each);
    }

    /** Extends the lease {@code id} holds under every concurrency limit among {@code limits} to a whole lease from now. */
    public CompletableFuture<List<LeaseResult>> renew(List<AppliedLimit> limits, long id) {
        List<AppliedLimit> leased = concurrency(limits);
        List<CompletableFuture<LeaseResult>> each = new ArrayList<>(leased.size());
        for (AppliedLimit l : leased) {
            each.add(buckets.renew(l.bucketKey(), l.algorithm(), id).thenApply(n -> new LeaseResult(l, n >= 0, Math.max(0, n))));
        }
        return all(each);
    }

    /** What settling a request's cost did under one limit. */
    public record SettleResult(AppliedLimit limit, Settlement settlement) {
    }

    /**
     * Settles the cost of request {@code id} at {@code actual} units under every limit among
     * {@code limits} that spends units (a concurrency limit's slots are given back by Release, not
     * settled). One result per such limit, in order; each at most once however often it is asked.
     */
    public CompletableFuture<List<SettleResult>> settle(List<AppliedLimit> limits, long id, long actual) {
        List<CompletableFuture<SettleResult>> each = new ArrayList<>(limits.size());
        for (AppliedLimit l : limits) {
            if (!(l.algorithm() instanceof ConcurrencyLimit)) {
                each.add(buckets.settle(l.bucketKey(), l.algorithm(), id, actual).thenApply(s -> new SettleResult(l, s)));
            }
        }
        return all(each);
    }

    /** The concurrency limits among {@code limits}: those that hold leases. */
    public static List<AppliedLimit> concurrency(List<AppliedLimit> limits) {
        List<AppliedLimit> out = new ArrayList<>(0);
        for (AppliedLimit l : limits) {
            if (l.algorithm() instanceof ConcurrencyLimit) {
                out.add(l);
            }
        }
        return out;
    }

    /** Whether any of {@code limits} holds leases (a request of them takes slots it must give back). */
    public static boolean holdsLeases(List<AppliedLimit> limits) {
        for (AppliedLimit l : limits) {
            if (l.algorithm() instanceof ConcurrencyLimit) {
                return true;
            }
        }
        return false;
    }

    private static <T> CompletableFuture<List<T>> all(List<CompletableFuture<T>> each) {
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> each.stream().map(CompletableFuture::join).toList());
    }

    /** The store's answer for a new bucket past its budget, as the domain chose it. */
    private static NewBucket newBucket(WhenFull choice) {
        return switch (choice) {
            case REFUSE -> NewBucket.REFUSE;
            case DENY -> NewBucket.DENY;
            case ALLOW -> NewBucket.ALLOW;
        };
    }

    /** The partition the bucket named {@code key} lives in, or -1 where the store has none. */
    public int partitionOf(String key) {
        return buckets.partitionOf(key);
    }

    /** Give-backs applied since this engine was made. */
    public long refunds() {
        return refundsApplied.sum();
    }

    /** Give-backs that failed since this engine was made (their units stay taken until the bucket refills). */
    public long refundsFailed() {
        return refundsFailed.sum();
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
