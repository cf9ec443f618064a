package dev.sluice.server.engine;

import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.policy.AppliedLimit;

/**
 * One limit's part in a decision.
 *
 * @param limit     the limit that applied
 * @param allowed   whether this limit allowed the cost
 * @param remaining units left after the decision (with nothing taken if the request was denied)
 * @param resetAfterNanos time until the limit is back at rest
 * @param retryAfterNanos time until the cost would fit this limit; zero when it allowed
 */
public record LimitResult(AppliedLimit limit, boolean allowed, long remaining, long resetAfterNanos, long retryAfterNanos) {

    static LimitResult of(AppliedLimit limit, Outcome outcome) {
        return new LimitResult(limit, outcome.allowed(), outcome.remaining(), outcome.resetAfterNanos(), outcome.retryAfterNanos());
    }

    /** The same result with {@code cost} units given back. */
    LimitResult refunded(long cost) {
        return new LimitResult(limit, allowed, Math.min(limit.algorithm().limit(), remaining + cost), resetAfterNanos, retryAfterNanos);
    }
}
