package dev.sluice.server.algorithm;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The concurrency limit's arithmetic on its own: slots by cost, retry-after from the leases held, renewals, give-backs. */
class ConcurrencyLimitAlgorithmTest {

    private static final long S = 1_000_000_000L;
    private final ConcurrencyLimit limit = new ConcurrencyLimit(4, Duration.ofSeconds(10));

    @Test
    void slotsAreTakenByCostAndADenialWaitsForEnoughLeasesToRunOut() {
        Outcome a = limit.acquire(null, 0, 2, true, false, 11);
        assertTrue(a.allowed());
        assertEquals(2, a.remaining());
        assertEquals(11, a.marker(), "the lease id is the marker a give-back names");
        Outcome b = limit.acquire(a.next(), 3 * S, 1, true, false, 12);
        assertEquals(1, b.remaining());
        Outcome c = limit.acquire(b.next(), 4 * S, 2, true, false, 13);
        assertFalse(c.allowed(), "3 of 4 held, 2 asked");
        assertNull(c.next());
        assertEquals(6 * S, c.retryAfterNanos(), "lease 11 (2 slots) runs out at 10 s");
        assertEquals(9 * S, c.resetAfterNanos(), "the last lease, 12, runs out at 13 s");
        Outcome d = limit.acquire(b.next(), 10 * S, 2, true, false, 13);
        assertTrue(d.allowed(), "at 10 s lease 11 has run out");
        assertEquals(1, d.remaining());
    }

    @Test
    void aLeaseIsGivenBackOnceAndRenewedOnlyWhileHeld() {
        BucketState held = limit.acquire(null, 0, 1, true, false, 21).next();
        BucketState back = limit.refund(held, S, 1, 21);
        assertEquals(0, ((LeaseState) back).leases());
        assertNull(limit.refund(back, S, 1, 21), "nothing to give back twice");
        BucketState renewed = limit.renew(held, 9 * S, 21);
        assertEquals(19 * S, limit.restAfterNanos(renewed, 0));
        assertNull(limit.renew(held, 10 * S, 21), "run out at 10 s: it cannot be renewed");
        assertTrue(limit.acquire(held, S, 1, true, false, 21).allowed());
        assertNull(limit.acquire(held, S, 1, true, false, 21).next(), "the same lease asking again takes nothing more");
    }

    @Test
    void theNumbersAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new ConcurrencyLimit(0, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new ConcurrencyLimit(10_001, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new ConcurrencyLimit(5, Duration.ZERO));
    }
}
