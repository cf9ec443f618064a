package dev.sluice.server.node;

import java.util.concurrent.atomic.AtomicLong;

/** What became of the policy file's changes: counted for the metrics. */
final class PolicyReloads {

    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong unreadable = new AtomicLong();
    private volatile long lastAppliedMillis = System.currentTimeMillis();

    void applied() {
        applied.incrementAndGet();
        lastAppliedMillis = System.currentTimeMillis();
    }

    void refused() {
        refused.incrementAndGet();
    }

    void unreadable() {
        unreadable.incrementAndGet();
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
