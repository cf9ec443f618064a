package dev.sluice.server.store;

import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.BucketState;
import dev.sluice.server.algorithm.Outcome;

import java.util.Map;

/**
 * The decision on one bucket, on its partition owner, shared by the single and the batched entry
 * processors: replay a request the bucket already applied, or decide, store the new state with
 * the time it must be kept and produce the delta the backup must apply.
 */
final class Decider {

    /** What a decision produced: the answer, and the backup's delta ({@code null} when nothing changed). */
    record Decided(AcquireResult result, StateBackup backup) {
    }

    private Decider() {
    }

    static Decided decide(Map.Entry<BucketKey, BucketRecord> entry, StoreContext context, Algorithm algorithm, long cost,
                          boolean consume, boolean countDenied, long requestId) {
        long now = context.clock().nanos();
        BucketRecord record = entry.getValue();
        BucketState state = record == null ? null : record.state();
        RecentRequests recent = record == null ? null : record.recent();
        if (recent != null) {
            // Also without an id: a bucket whose remembered ids are all forgotten is stored compactly again.
            recent.prune(now);
        }
        if (consume && requestId != 0 && recent != null) {
            int known = recent.find(requestId);
            if (known >= 0 && (recent.flags(known) & RecentRequests.REFUNDED) == 0) {
                return new Decided(replay(algorithm, state, now, cost, recent.flags(known), recent.marker(known)), null);
            }
        }
        Outcome outcome = algorithm.acquire(state, now, cost, consume, countDenied);
        if (outcome.next() == null) {
            return new Decided(new AcquireResult(outcome, false), null);
        }
        int flags = outcome.allowed() ? RecentRequests.ALLOWED : 0;
        long remembered = now + context.requestMemoryNanos();
        record = BucketRecord.applied(record, outcome.next(), requestId, now, remembered, flags, outcome.marker());
        long keep = now + algorithm.restAfterNanos(outcome.next(), now);
        record.keepUntil(requestId != 0 ? Math.max(keep, remembered) : keep);
        entry.setValue(record);
        return new Decided(new AcquireResult(outcome, false),
                new StateBackup(outcome.next(), record.keepUntil(), requestId, now, remembered, flags, outcome.marker()));
    }

    /** The answer to a request applied before: its decision, and the bucket as it is now. */
    private static AcquireResult replay(Algorithm algorithm, BucketState state, long now, long cost, int flags, long marker) {
        Outcome peek = algorithm.acquire(state, now, 1, false, false);
        long remaining = peek.allowed() ? peek.remaining() + 1 : peek.remaining();
        boolean allowed = (flags & RecentRequests.ALLOWED) != 0;
        long retry = allowed ? 0 : algorithm.acquire(state, now, cost, false, false).retryAfterNanos();
        return new AcquireResult(new Outcome(allowed, remaining, algorithm.restAfterNanos(state, now), retry, null, marker), true);
    }
}
