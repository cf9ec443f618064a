package dev.sluice.server.algorithm;

import org.junit.jupiter.api.Test;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Charges after the fact (a cost settled above its estimate) on each algorithm's own arithmetic:
 * capped at what is left, or into a debt later requests wait out where the limit allows overdraft.
 */
class ChargeAfterTheFactTest {

    private static final long S = 1_000_000_000L;
    /** A minute boundary, so windows of a minute start here. */
    private static final long T0 = 1_800_000_000L * S;

    @Test
    void aTokenBucketCappedStopsAtEmptyAndOneThatMayOverdrawOwesTheRest() {
        TokenBucket capped = new TokenBucket(10, 1, Duration.ofSeconds(1));
        TokenBucket owing = capped.overdrawn();
        assertTrue(owing.overdraft());
        assertFalse(capped.overdraft());
        assertFalse(capped.equals(owing), "overdraft is part of the algorithm: a bucket key's state is read the same way");

        BucketState spent = capped.acquire(null, T0, 4, true, false).next();
        assertEquals(6, capped.balance(spent, T0));
        BucketState full = capped.charge(spent, T0, 20, 0);
        assertEquals(0, capped.balance(full, T0), "capped: takes what is left");
        assertNull(capped.charge(full, T0, 5, 0), "nothing left to take");

        BucketState debt = owing.charge(spent, T0, 20, 0);
        assertEquals(-14, owing.balance(debt, T0), "6 left, 20 charged: 14 owed");
        Outcome denied = owing.acquire(debt, T0, 1, true, false);
        assertFalse(denied.allowed());
        assertEquals(0, denied.remaining());
        assertEquals(15 * S, denied.retryAfterNanos(), "the 14 owed and the unit asked refill at one a second");
        assertEquals(24 * S, owing.restAfterNanos(debt, T0), "whole again once the debt and the 10 are refilled");
        assertFalse(owing.acquire(debt, T0 + 14 * S, 1, true, false).allowed(), "at 14 s the debt is paid, nothing is in yet");
        Outcome paid = owing.acquire(debt, T0 + 15 * S, 1, true, false);
        assertTrue(paid.allowed());
        assertEquals(0, paid.remaining());

        Outcome countedDenied = owing.acquire(debt, T0, 1, true, true);
        assertFalse(countedDenied.allowed());
        assertEquals(-14, owing.balance(countedDenied.next() == null ? debt : countedDenied.next(), T0),
                "charging a denial to a bucket in debt leaves it as deep in debt, never less");
    }

    @Test
    void aLeakyBucketOwesAsATokenBucketDoesAndARefundPaysDebtBack() {
        LeakyBucket owing = new LeakyBucket(5, 5, Duration.ofSeconds(1)).overdrawn();
        BucketState debt = owing.charge(null, T0, 12, 0);
        assertEquals(-7, owing.balance(debt, T0));
        BucketState less = owing.refund(debt, T0, 3, 0);
        assertEquals(-4, owing.balance(less, T0), "a give-back reduces the debt first");
        assertEquals(-2, owing.balance(less, T0 + 400_000_000L), "it leaks at 5 a second: 2 paid off in 0.4 s");
    }

    @Test
    void aFixedWindowCarriesItsExcessIntoTheWindowsThatFollow() {
        FixedWindow capped = FixedWindow.ofLength(100, Duration.ofMinutes(1));
        FixedWindow owing = capped.overdrawn();
        BucketState w = owing.acquire(null, T0 + S, 30, true, false).next();
        assertEquals(0, capped.balance(capped.charge(w, T0 + S, 500, T0 + 60 * S), T0 + S), "capped: the window is spent, no more");

        BucketState debt = owing.charge(w, T0 + 2 * S, 220, T0 + 60 * S);
        assertEquals(-150, owing.balance(debt, T0 + 2 * S), "250 counted of 100");
        assertEquals(-50, owing.balance(debt, T0 + 61 * S), "the next window starts with the 150 counted past the limit: 50 more than its own 100");
        assertFalse(owing.acquire(debt, T0 + 61 * S, 1, true, false).allowed());
        Outcome third = owing.acquire(debt, T0 + 121 * S, 50, true, false);
        assertTrue(third.allowed(), "the third window starts with the last 50 owed: 50 of its 100 left");
        assertEquals(0, third.remaining());
        assertFalse(owing.acquire(debt, T0 + 121 * S, 51, true, false).allowed());
        assertEquals(100, owing.balance(debt, T0 + 180 * S), "by the fourth window all is paid");
        assertEquals(180 * S - 2 * S, owing.restAfterNanos(debt, T0 + 2 * S),
                "kept until the end of the window that pays the debt off, not its own end");
        assertEquals(58 * S, capped.restAfterNanos(debt, T0 + 2 * S), "without overdraft a window rests at its end");
        assertEquals(100, capped.balance(debt, T0 + 61 * S), "without overdraft nothing is carried");
    }

    @Test
    void aCalendarWindowCarriesDebtIntoTheNextDay() {
        ZoneId zone = ZoneId.of("Europe/Berlin");
        FixedWindow daily = FixedWindow.ofCalendar(1_000, FixedWindow.CalendarUnit.DAY, zone, DayOfWeek.MONDAY).overdrawn();
        long noon = Instant.parse("2026-03-28T11:00:00Z").getEpochSecond() * S;
        BucketState debt = daily.charge(null, noon, 2_500, 0);
        assertEquals(-1_500, daily.balance(debt, noon));
        long nextNoon = noon + 24 * 3600 * S - 3600 * S; // the clocks go forward that night: 23 hours later is noon
        assertEquals(-500, daily.balance(debt, nextNoon));
        assertEquals(500, daily.balance(debt, nextNoon + 24 * 3600 * S));
        assertEquals(1_000, daily.balance(debt, nextNoon + 48 * 3600 * S));
    }

    @Test
    void aSlidingWindowHoldsAChargeForOneWindow() {
        SlidingWindow capped = new SlidingWindow(10, Duration.ofSeconds(10), Duration.ofSeconds(1));
        SlidingWindow owing = capped.overdrawn();
        BucketState some = owing.acquire(null, T0, 4, true, false).next();
        assertEquals(0, capped.balance(capped.charge(some, T0, 50, T0 / S), T0));
        BucketState debt = owing.charge(some, T0 + S, 26, T0 / S);
        assertEquals(-20, owing.balance(debt, T0 + S));
        assertFalse(owing.acquire(debt, T0 + 9 * S, 1, true, false).allowed());
        assertEquals(-16, owing.balance(debt, T0 + 11 * S), "the first slot's 4 left the window; the charge's 26 are still in");
        assertEquals(10, owing.balance(debt, T0 + 12 * S), "a charge leaves with its slot, a window later");
    }

    @Test
    void aTrickleWindowCapsAndStartsItsTrickleWhenAChargeSpendsTheQuota() {
        TrickleWindow trickle = new TrickleWindow(FixedWindow.ofLength(10, Duration.ofMinutes(1)), 1, Duration.ofSeconds(1));
        BucketState some = trickle.acquire(null, T0, 3, true, false).next();
        BucketState spent = trickle.charge(some, T0, 100, T0 + 60 * S);
        assertFalse(trickle.acquire(spent, T0, 1, false, false).allowed(), "quota spent, the trickle starts empty");
        assertTrue(trickle.acquire(spent, T0 + S, 1, false, false).allowed(), "one a second after that");
        assertThrows(IllegalArgumentException.class, trickle::overdrawn);
    }

    @Test
    void aConcurrencyLimitHasNoUnitsToCharge() {
        ConcurrencyLimit slots = new ConcurrencyLimit(3, Duration.ofSeconds(30));
        assertNull(slots.charge(null, T0, 5, 0));
        assertThrows(IllegalArgumentException.class, slots::overdrawn);
    }
}
