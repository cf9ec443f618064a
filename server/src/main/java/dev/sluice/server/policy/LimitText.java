package dev.sluice.server.policy;

import dev.sluice.server.algorithm.Algorithm;

/**
 * The parts of a limit's headers that are the same on every response: written once, when the
 * policy is loaded, instead of on every decision.
 *
 * @param ietfPolicy    the limit's item of the IETF {@code RateLimit-Policy} field, e.g. {@code "per-ip";q=10;w=1}
 * @param limit         the limit, in decimal
 * @param windowSeconds the window in whole seconds, rounded up, in decimal
 */
public record LimitText(String ietfPolicy, String limit, String windowSeconds) {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    /** Whole seconds in {@code nanos}, rounded up, as rate-limit headers count them. */
    public static long ceilSeconds(long nanos) {
        return -Math.floorDiv(-nanos, NANOS_PER_SECOND);
    }

    /** The text of limit {@code name} with the numbers of {@code algorithm}; {@code null} for an unlimited one. */
    static LimitText of(String name, Algorithm algorithm) {
        if (algorithm == null) {
            return null;
        }
        long window = ceilSeconds(algorithm.windowNanos());
        return new LimitText("\"" + name + "\";q=" + algorithm.limit() + ";w=" + Math.max(1, window),
                Long.toString(algorithm.limit()), Long.toString(window));
    }
}
