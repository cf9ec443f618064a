package dev.sluice.server.store;

import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.BucketState;
import dev.sluice.server.algorithm.Outcome;

import java.util.Map;

/**
 * One command applied to one bucket's record, where the bucket lives: read the clock once, replay
 * a request the bucket already applied or run the algorithm, store the new record with the time
 * it must be kept, and produce the delta a backup applies ({@link StateBackup}) instead of
 * running the arithmetic again with a clock of its own. Shared by the entry processors (on a
 * partition owner) and by {@link MemoryBuckets}.
 */
final class BucketUpdate {

    /** What applying a command produced: the answer, and the backup's delta ({@code null} when nothing changed). */
    record Applied<R>(R answer, StateBackup backup) {
    }

    private BucketUpdate() {
    }

    /** Applies {@code command} (its key is the entry's) to the bucket in {@code entry}. */
    static Applied<BucketAnswer> acquire(Map.Entry<BucketKey, BucketRecord> entry, StoreContext context, Command command) {
        return acquire(entry, context, command.algorithm(), command.cost(), command.consume(), command.countDenied(),
                command.requestId(), command.whenFull(), command.rememberNanos());
    }

    /** How long a request denied for want of room for its bucket is told to wait. */
    static final long FULL_RETRY_NANOS = 1_000_000_000L;

    static Applied<BucketAnswer> acquire(Map.Entry<BucketKey, BucketRecord> entry, StoreContext context, Algorithm algorithm,
                                         long cost, boolean consume, boolean countDenied, long requestId, NewBucket whenFull,
                                         long rememberNanos) {
        long now = context.clock().nanos();
        BucketRecord record = entry.getValue();
        if (record == null && consume && context.budget().full()) {
            // No room for a new bucket: the buckets held keep deciding; this one is answered as its domain chose.
            context.budget().counted(whenFull);
            return new Applied<>(switch (whenFull) {
                case REFUSE -> BucketAnswer.refusedFull();
                case DENY -> new BucketAnswer(new Outcome(false, 0, 0, FULL_RETRY_NANOS, null, 0), false);
                case ALLOW -> new BucketAnswer(algorithm.acquire(null, now, cost, false, false), false);
            }, null);
        }
        BucketState state = record == null ? null : record.state();
        RecentRequests recent = record == null ? null : record.recent();
        if (recent != null) {
            // Also without an id: a bucket whose remembered ids are all forgotten is stored compactly again.
            recent.prune(now);
        }
        if (consume && requestId != 0 && recent != null) {
            int known = recent.find(requestId);
            if (known >= 0 && (recent.flags(known) & RecentRequests.REFUNDED) == 0) {
                return new Applied<>(replay(algorithm, state, now, cost, recent.flags(known), recent.marker(known)), null);
            }
        }
        Outcome outcome = algorithm.acquire(state, now, cost, consume, countDenied, requestId);
        if (outcome.next() == null) {
            return new Applied<>(new BucketAnswer(outcome, false), null);
        }
        int flags = outcome.allowed() ? RecentRequests.ALLOWED : 0;
        long remembered = now + Math.max(context.requestMemoryNanos(), rememberNanos);
        record = BucketRecord.applied(record, outcome.next(), requestId, now, remembered, flags, outcome.marker(), cost);
        long keep = now + algorithm.restAfterNanos(outcome.next(), now);
        record = record.keptUntil(requestId != 0 ? Math.max(keep, remembered) : keep);
        entry.setValue(record);
        return new Applied<>(new BucketAnswer(outcome, false),
                new StateBackup(outcome.next(), record.keepUntil(), requestId, now, remembered, flags, outcome.marker(), cost));
    }

    /**
     * The bucket in {@code record} as it is now, by the context's clock, without changing it:
     * the units that could be spent, whether {@code cost} of them fits and when it would, when
     * the bucket is back at rest, and how many request ids it remembers.
     */
    static BucketView inspect(BucketRecord record, StoreContext context, Algorithm algorithm, long cost) {
        long now = context.clock().nanos();
        BucketState state = record == null ? null : record.state();
        Outcome one = algorithm.acquire(state, now, 1, false, false);
        long remaining = one.allowed() ? one.remaining() + 1 : 0;
        Outcome asked = cost == 1 ? one : algorithm.acquire(state, now, cost, false, false);
        RecentRequests recent = record == null ? null : record.recent();
        return new BucketView(record != null, asked.allowed(), remaining, algorithm.restAfterNanos(state, now),
                asked.allowed() ? 0 : asked.retryAfterNanos(), recent == null ? 0 : recent.rememberedAt(now));
    }

    /**
     * Extends the lease {@code id} holds on a concurrency limit's bucket to a whole lease from now.
     * Answers the lease's length, or -1 when the lease is not held (given back, run out, or the
     * limit is not a concurrency limit).
     */
    static Applied<Long> renew(Map.Entry<BucketKey, BucketRecord> entry, StoreContext context, Algorithm algorithm, long id) {
        BucketRecord record = entry.getValue();
        if (record == null || !(algorithm instanceof dev.sluice.server.algorithm.ConcurrencyLimit c)) {
            return new Applied<>(-1L, null);
        }
        long now = context.clock().nanos();
        BucketState next = c.renew(record.state(), now, id);
        if (next == null) {
            return new Applied<>(-1L, null);
        }
        record = BucketRecord.holding(record, next, false);
        record = record.keptUntil(now + c.restAfterNanos(next, now));
        entry.setValue(record);
        return new Applied<>(c.leaseNanos(), new StateBackup(next, record.keepUntil(), 0, now, 0, 0, 0, 0));
    }

    /**
     * Settles request {@code requestId}'s cost on this bucket at {@code actual} units: the
     * difference from what the bucket charged it is given back (the algorithm's refund: within the
     * window it was counted in) or charged ({@link Algorithm#charge}: up to what is left, or into
     * debt where the limit allows overdraft). The request is marked settled, so a second settle,
     * a retry after a lost answer, changes nothing.
     */
    static Applied<Settlement> settle(Map.Entry<BucketKey, BucketRecord> entry, StoreContext context, Algorithm algorithm,
                                      long requestId, long actual) {
        long now = context.clock().nanos();
        BucketRecord record = entry.getValue();
        BucketState state = record == null ? null : record.state();
        RecentRequests recent = record == null ? null : record.recent();
        int known = -1;
        if (recent != null) {
            recent.prune(now);
            known = recent.find(requestId);
        }
        if (known < 0) {
            return new Applied<>(new Settlement(Settlement.Result.FORGOTTEN, 0, 0, algorithm.balance(state, now)), null);
        }
        int flags = recent.flags(known);
        long estimate = recent.cost(known);
        if ((flags & RecentRequests.SETTLED) != 0) {
            return new Applied<>(new Settlement(Settlement.Result.ALREADY_SETTLED, estimate, 0, algorithm.balance(state, now)), null);
        }
        if ((flags & RecentRequests.ALLOWED) == 0 || (flags & RecentRequests.REFUNDED) != 0) {
            return new Applied<>(new Settlement(Settlement.Result.NOT_CHARGED, 0, 0, algorithm.balance(state, now)), null);
        }
        long marker = recent.marker(known);
        long before = algorithm.balance(state, now);
        BucketState next = actual < estimate ? algorithm.refund(state, now, estimate - actual, marker)
                : actual > estimate ? algorithm.charge(state, now, actual - estimate, marker) : null;
        if (next != null) {
            record = BucketRecord.holding(record, next, true);
            state = next;
        }
        flags |= RecentRequests.SETTLED;
        recent.update(known, flags, marker);
        long after = algorithm.balance(state, now);
        record = record.keptUntil(now + algorithm.restAfterNanos(state, now));
        entry.setValue(record);
        StateBackup backup = new StateBackup(state, record.keepUntil(), requestId, now, now + context.requestMemoryNanos(), flags,
                marker, estimate);
        return new Applied<>(new Settlement(Settlement.Result.SETTLED, estimate, before - after, after), backup);
    }

    /** The answer to a request applied before: its decision, and the bucket as it is now. */
    private static BucketAnswer replay(Algorithm algorithm, BucketState state, long now, long cost, int flags, long marker) {
        Outcome peek = algorithm.acquire(state, now, 1, false, false);
        long remaining = peek.allowed() ? peek.remaining() + 1 : peek.remaining();
        boolean allowed = (flags & RecentRequests.ALLOWED) != 0;
        long retry = allowed ? 0 : algorithm.acquire(state, now, cost, false, false).retryAfterNanos();
        return new BucketAnswer(new Outcome(allowed, remaining, algorithm.restAfterNanos(state, now), retry, null, marker), true);
    }

    /**
     * Gives back units an earlier command took; with a request id the bucket remembers, at most
     * once. Answers whether anything was given back.
     */
    static Applied<Boolean> refund(Map.Entry<BucketKey, BucketRecord> entry, StoreContext context, Algorithm algorithm, long cost,
                                   long marker, long requestId) {
        BucketRecord record = entry.getValue();
        if (record == null) {
            return new Applied<>(Boolean.FALSE, null);
        }
        long now = context.clock().nanos();
        RecentRequests recent = requestId == 0 ? null : record.recent();
        int known = -1;
        if (recent != null) {
            recent.prune(now);
            known = recent.find(requestId);
            if (known >= 0 && (recent.flags(known) & RecentRequests.REFUNDED) != 0) {
                return new Applied<>(Boolean.FALSE, null);
            }
        }
        // Read once: a record holding a two-number state builds a new object each time it is asked.
        BucketState current = record.state();
        BucketState next = algorithm.refund(current, now, cost, marker);
        if (next == null && known < 0) {
            return new Applied<>(Boolean.FALSE, null);
        }
        if (next != null) {
            record = BucketRecord.holding(record, next, false);
            current = next;
        }
        int flags = 0;
        if (known >= 0) {
            flags = recent.flags(known) | RecentRequests.REFUNDED;
            recent.update(known, flags, marker);
        }
        record = record.keptUntil(now + algorithm.restAfterNanos(current, now));
        entry.setValue(record);
        StateBackup backup = new StateBackup(current, record.keepUntil(), known >= 0 ? requestId : 0, now,
                now + context.requestMemoryNanos(), flags, marker, known >= 0 ? recent.cost(known) : 0);
        return new Applied<>(next != null, backup);
    }
}
