package dev.sluice.server.time;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wall-clock time at the platform's best resolution (microseconds on Linux), made monotonic
 * within the process so that an NTP step backwards never makes a bucket appear to travel back.
 */
final class SystemClock implements Clock {

    static final SystemClock INSTANCE = new SystemClock();

    private final AtomicLong last = new AtomicLong();

    private SystemClock() {
    }

    @Override
    public long nanos() {
        Instant now = Instant.now();
        long read = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        long prev = last.get();
        if (read > prev) {
            // A lost race only means another thread published a later reading; both are valid.
            last.compareAndSet(prev, read);
            return read;
        }
        return prev;
    }
}
