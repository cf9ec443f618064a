package dev.sluice.server.path;

import dev.sluice.server.testing.LogCapture;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CountedLogTest {

    /** Held strongly: java.util.logging keeps loggers only weakly. */
    private final Logger logger = Logger.getLogger(CountedLogTest.class.getName());

    @Test
    void aThousandMistakesAreOneLineAnIntervalWithTheirCount() {
        ManualClock clock = ManualClock.fixed();
        CountedLog counted = new CountedLog(logger, "bad_things", "bad things", clock);
        try (LogCapture log = LogCapture.start()) {
            counted.note("the first");
            for (int i = 0; i < 999; i++) {
                clock.advance(Duration.ofMillis(9));
                counted.note("example " + i);
            }
            assertEquals(1, log.records().size(), "the first is said at once, the rest wait for the interval");
            assertEquals("1 bad things in the last 10 s; the latest: the first", log.records().get(0).getMessage());
            clock.advance(Duration.ofMillis(1009));
            counted.note("the last");
            assertEquals(2, log.records().size());
            assertEquals("1000 bad things in the last 10 s; the latest: the last", log.records().get(1).getMessage());
            assertEquals(0, log.withStackTraces().size());
        }
        assertEquals(1001, counted.count());
    }
}
