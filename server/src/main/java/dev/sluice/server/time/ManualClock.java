package dev.sluice.server.time;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to: the seam tests use to control time. */
public final class ManualClock implements Clock {

    private final AtomicLong nanos;

    public ManualClock(Instant start) {
        this.nanos = new AtomicLong(start.getEpochSecond() * 1_000_000_000L + start.getNano());
    }

    /** A clock starting at a fixed, arbitrary instant (2030-01-01T00:00:00Z). */
    public static ManualClock fixed() {
        return new ManualClock(Instant.parse("2030-01-01T00:00:00Z"));
    }

    @Override
    public long nanos() {
        return nanos.get();
    }

    public Instant instant() {
        long n = nanos.get();
        return Instant.ofEpochSecond(Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
    }

    /** Moves the clock by {@code step}, which may be negative to model a clock stepping back. */
    public ManualClock advance(Duration step) {
        nanos.addAndGet(step.toNanos());
        return this;
    }

    public ManualClock set(Instant at) {
        nanos.set(at.getEpochSecond() * 1_000_000_000L + at.getNano());
        return this;
    }
}
