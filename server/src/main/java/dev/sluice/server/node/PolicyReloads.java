package dev.sluice.server.node;

import java.util.concurrent.atomic.AtomicLong;

/** What became of the policy file's changes: counted for the metrics. */
final class PolicyReloads {

    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong unreadable = new AtomicLong();
    private volatile long lastAppliedMillis = System.currentTimeMillis();
    /** The last reload's outcome, for the console: what, when, and why when it was not applied. */
    private volatile Last last = new Last("loaded at start", lastAppliedMillis, "");

    /** The outcome of the last reload (or the load at start). */
    record Last(String outcome, long atMillis, String why) {
    }

    void applied() {
        applied.incrementAndGet();
        lastAppliedMillis = System.currentTimeMillis();
        last = new Last("applied", lastAppliedMillis, "");
    }

    void refused(String why) {
        refused.incrementAndGet();
        last = new Last("refused", System.currentTimeMillis(), why);
    }

    void unreadable(String why) {
        unreadable.incrementAndGet();
        last = new Last("unreadable", System.currentTimeMillis(), why);
    }

    Last last() {
        return last;
    }

    long appliedCount() {
        return applied.get();
    }

    long refusedCount() {
        return refused.get();
    }

    long unreadableCount() {
        return unreadable.get();
    }

    /** When policies were last put in force (at start, or by a reload), in epoch seconds. */
    double lastAppliedSeconds() {
        return lastAppliedMillis / 1000.0;
    }
}
