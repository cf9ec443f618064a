package dev.sluice.server.node;

import dev.sluice.server.time.Clock;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The decision clock of a production node: the cluster's time (Hazelcast's, which every member
 * aligns with the master's at join), read at nanosecond resolution from the local monotonic
 * clock between calibrations. A member whose wall clock is off therefore decides with the
 * same time as the others, and a bucket that migrates to it mints no tokens.
 * Never steps backwards within the process.
 */
final class ClusterClock implements Clock {

    private volatile long anchor;
    private final AtomicLong last = new AtomicLong();

    ClusterClock() {
        Instant now = Instant.now();
        this.anchor = now.getEpochSecond() * 1_000_000_000L + now.getNano() - System.nanoTime();
    }

    /** Aligns with the cluster's time in milliseconds, as read now. */
    void calibrate(LongSupplier clusterTimeMillis) {
        long before = System.nanoTime();
        long millis = clusterTimeMillis.getAsLong();
        long after = System.nanoTime();
        // The reading was taken somewhere between the two; the middle is the best guess.
        anchor = millis * 1_000_000L - (before + (after - before) / 2);
    }

    @Override
    public long nanos() {
        long read = System.nanoTime() + anchor;
        long prev = last.get();
        while (read > prev) {
            if (last.compareAndSet(prev, read)) {
                return read;
            }
            prev = last.get();
        }
        return prev;
    }
}
