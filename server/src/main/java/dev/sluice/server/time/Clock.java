package dev.sluice.server.time;

/**
 * The one source of time for decisions: nanoseconds since the Unix epoch.
 *
 * <p>Every decision reads it once, on the member that owns the bucket, and hands the value to
 * pure algorithm code. Tests substitute {@link ManualClock} to drive time explicitly.
 */
@FunctionalInterface
public interface Clock {

    /** Nanoseconds since 1970-01-01T00:00:00Z. */
    long nanos();

    /** The system's wall clock, never stepping backwards within this process. */
    static Clock system() {
        return SystemClock.INSTANCE;
    }
}
