package dev.sluice.server.algorithm;

/** Checks shared by every algorithm. */
final class Costs {

    private Costs() {
    }

    /** A cost outside [1, limit] can never be decided: callers must reject it before asking. */
    static void check(long cost, long limit) {
        if (cost < 1 || cost > limit) {
            throw new IllegalArgumentException("cost " + cost + " is outside 1.." + limit);
        }
    }
}
