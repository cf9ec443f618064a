package dev.sluice.server.time;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one duration grammar that node options and policy files share. */
class DurationsTest {

    @Test
    void unitsCombineAndIsoIsAccepted() throws Exception {
        assertEquals(Duration.ofMillis(1500), Durations.parse("1s500ms"));
        assertEquals(Duration.ofSeconds(90), Durations.parse("1m30s"));
        assertEquals(Duration.ofMinutes(1), Durations.parse("PT1M"));
        assertEquals(Duration.ofDays(1), Durations.parse("1d"));
        assertEquals(Duration.ofNanos(250_000), Durations.parse("250us"));
        assertEquals(Duration.ZERO, Durations.parse("0"));
    }

    @Test
    void aNumberWithoutUnitOrWithSpacesIsNotADuration() {
        for (String bad : new String[] {"10", "1 s", " 1s", "1s ", "1 fortnight", "", "s", "1m 30s", "-1s", "1.5s"}) {
            Durations.NotADuration e = assertThrows(Durations.NotADuration.class, () -> Durations.parse(bad), bad);
            assertTrue(e.getMessage().contains("is not a duration"), e.getMessage());
        }
    }

    @Test
    void anOverflowIsRefusedNotThrown() {
        for (String huge : new String[] {"P99999999999999D", "9999999999999999999d", "999999999999999999d"}) {
            Durations.NotADuration e = assertThrows(Durations.NotADuration.class, () -> Durations.parse(huge), huge);
            assertTrue(e.getMessage().contains("too long"), e.getMessage());
        }
    }

    @Test
    void durationsBeyondTheDecisionClocksRangeAreRefused() throws Exception {
        assertEquals(Duration.ofDays(36_500), Durations.parse("36500d"));
        assertTrue(assertThrows(Durations.NotADuration.class, () -> Durations.parse("99999d")).getMessage().contains("too long"));
    }

    @Test
    void formatWritesTheGrammarBack() throws Exception {
        for (String text : new String[] {"10s", "1m30s", "250ms", "1d2h", "250us", "7ns", "0s"}) {
            assertEquals(text, Durations.format(Durations.parse(text)));
        }
    }
}
