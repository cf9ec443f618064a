package dev.sluice.server.path;

import dev.sluice.server.logging.Events;
import dev.sluice.server.time.Clock;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Counts events that come from callers' mistakes and logs them as one line an interval at most,
 * with the count since the last line and the latest example: a caller sending garbage cannot fill
 * the log.
 */
final class CountedLog {

    static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Logger log;
    private final String event;
    private final String what;
    private final LongAdder total = new LongAdder();
    private final AtomicLong sinceLast = new AtomicLong();
    private final Clock clock;
    private final AtomicLong lastLine;

    CountedLog(Logger log, String event, String what, Clock clock) {
        this.log = log;
        this.event = event;
        this.what = what;
        this.clock = clock;
        this.lastLine = new AtomicLong(clock.nanos() - INTERVAL_NANOS);
    }

    void note(String example) {
        total.increment();
        sinceLast.incrementAndGet();
        long now = clock.nanos();
        long last = lastLine.get();
        if (now - last >= INTERVAL_NANOS && lastLine.compareAndSet(last, now)) {
            long count = sinceLast.getAndSet(0);
            long seconds = TimeUnit.NANOSECONDS.toSeconds(Math.max(now - last, INTERVAL_NANOS));
            Events.log(log, Level.INFO, event, () -> count + " " + what + " in the last " + seconds + " s; the latest: " + example,
                    "count", count, "seconds", seconds, "latest", example);
        }
    }

    long count() {
        return total.sum();
    }
}
