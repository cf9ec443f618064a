package dev.sluice.server.engine;

import java.util.List;

/**
 * The decision on one request across every limit that applied.
 *
 * @param allowed         true when every limit that is not in shadow mode allowed the cost
 * @param results         one per applied limit, in policy order
 * @param retryAfterNanos the longest retry-after among the limits that denied; zero when allowed
 * @param binding         the result that explains the decision: the denying limit with the longest
 *                        retry-after, or when allowed the limit with the fewest units left; {@code null}
 *                        when no limit applied
 */
public record Verdict(boolean allowed, List<LimitResult> results, long retryAfterNanos, LimitResult binding) {

    static final Verdict NO_LIMITS = new Verdict(true, List.of(), 0, null);
}
