package dev.sluice.server.algorithm;

import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every algorithm promises, run against each way of holding bucket state: in memory
 * (the pure algorithms) and in the Hazelcast map through entry processors. Time moves only
 * through the clock seam.
 */
public abstract class AlgorithmContract {

    private static final long SECOND = 1_000_000_000L;
    private String key;

    /** The clock the bucket's owner decides with. */
    protected abstract ManualClock clock();

    /** Decides {@code cost} for bucket {@code key} at the owner's clock. */
    protected abstract Outcome acquire(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied);

    /** Gives back units taken by an outcome with {@code marker}. */
    protected abstract void refund(String key, Algorithm algorithm, long cost, long marker);

    @BeforeEach
    void newBucket(TestInfo test) {
        key = getClass().getSimpleName() + "/" + test.getDisplayName() + "/" + System.nanoTime();
    }

    private Outcome take(Algorithm a, long cost) {
        return acquire(key, a, cost, true, false);
    }

    private Outcome peek(Algorithm a, long cost) {
        return acquire(key, a, cost, false, false);
    }

    private void advance(Duration d) {
        clock().advance(d);
    }

    /** Moves the clock to the next multiple of {@code unit}, so window arithmetic starts clean. */
    private void alignTo(Duration unit) {
        long n = clock().nanos();
        long u = unit.toNanos();
        advance(Duration.ofNanos(Math.floorMod(-n, u)));
    }

    // --- token bucket ------------------------------------------------------------------------

    @Test
    void tokenBucketAllowsItsCapacityThenDenies() {
        TokenBucket b = new TokenBucket(5, 1, Duration.ofSeconds(1));
        for (int i = 4; i >= 0; i--) {
            Outcome o = take(b, 1);
            assertTrue(o.allowed());
            assertEquals(i, o.remaining());
            assertEquals(0, o.retryAfterNanos());
        }
        Outcome denied = take(b, 1);
        assertFalse(denied.allowed());
        assertEquals(0, denied.remaining());
        assertEquals(SECOND, denied.retryAfterNanos());
        assertEquals(5 * SECOND, denied.resetAfterNanos());
    }

    @Test
    void tokenBucketRefillsExactlyAtSubSecondResolution() {
        // 3 tokens a second: one every 333,333,333.33 ns, with no rounding drift.
        TokenBucket b = new TokenBucket(3, 3, Duration.ofSeconds(1));
        for (int i = 0; i < 3; i++) {
            assertTrue(take(b, 1).allowed());
        }
        Outcome denied = take(b, 1);
        assertEquals(333_333_334, denied.retryAfterNanos(), "rounded up to the next whole nanosecond");
        advance(Duration.ofNanos(333_333_333));
        assertFalse(take(b, 1).allowed(), "a third of a nanosecond short");
        advance(Duration.ofNanos(1));
        assertTrue(take(b, 1).allowed());
        // Three tokens in exactly one second, however the second is cut.
        for (int i = 0; i < 3; i++) {
            advance(Duration.ofNanos(333_333_333));
            take(b, 1);
        }
        advance(Duration.ofNanos(1));
        assertTrue(take(b, 1).allowed(), "after 1 s + 1 ns in total, 3 more tokens were granted");
        assertFalse(take(b, 1).allowed());
    }

    @Test
    void tokenBucketCostAboveOneTakesThatManyTokens() {
        TokenBucket b = new TokenBucket(10, 2, Duration.ofSeconds(1));
        assertEquals(3, take(b, 7).remaining());
        Outcome denied = take(b, 4);
        assertFalse(denied.allowed());
        assertEquals(3, denied.remaining());
        assertEquals(SECOND / 2, denied.retryAfterNanos(), "one more token takes half a second");
        assertEquals(0, take(b, 3).remaining());
        advance(Duration.ofMillis(500));
        assertEquals(0, take(b, 1).remaining());
    }

    @Test
    void tokenBucketLongIdleGapRefillsToCapacityAndNoMore() {
        TokenBucket b = new TokenBucket(4, 1, Duration.ofSeconds(1));
        take(b, 4);
        advance(Duration.ofDays(3650));
        Outcome o = take(b, 1);
        assertEquals(3, o.remaining());
        assertEquals(SECOND, o.resetAfterNanos());
    }

    @Test
    void tokenBucketClockSteppingBackwardsNeverAdmitsMore() {
        TokenBucket b = new TokenBucket(2, 1, Duration.ofSeconds(1));
        take(b, 2);
        advance(Duration.ofHours(-1));
        assertFalse(take(b, 1).allowed(), "an hour back in time does not refill");
        advance(Duration.ofHours(1));
        assertFalse(take(b, 1).allowed());
        advance(Duration.ofSeconds(1));
        assertTrue(take(b, 1).allowed(), "back on time, the bucket refills as before");
    }

    @Test
    void tokenBucketStartsWithItsInitialTokens() {
        TokenBucket b = new TokenBucket(10, 1, Duration.ofSeconds(1), 2);
        assertEquals(1, take(b, 1).remaining());
        assertEquals(0, take(b, 1).remaining());
        assertFalse(take(b, 1).allowed());
    }

    @Test
    void deniedRequestConsumesNothing() {
        TokenBucket b = new TokenBucket(3, 1, Duration.ofSeconds(1));
        take(b, 3);
        for (int i = 0; i < 5; i++) {
            assertFalse(take(b, 1).allowed());
        }
        advance(Duration.ofSeconds(1));
        assertTrue(take(b, 1).allowed(), "the five denials cost nothing");
    }

    @Test
    void countDeniedChargesDeniedAttempts() {
        TokenBucket b = new TokenBucket(2, 1, Duration.ofSeconds(1));
        take(b, 2);
        advance(Duration.ofSeconds(1));
        Outcome charged = acquire(key, b, 2, true, true);
        assertFalse(charged.allowed());
        assertEquals(0, charged.remaining());
        assertFalse(take(b, 1).allowed(), "the denied attempt drained the token that had come back");
    }

    @Test
    void answeringWithoutConsumingLeavesTheBucketAsItWas() {
        TokenBucket b = new TokenBucket(3, 1, Duration.ofSeconds(1));
        for (int i = 0; i < 5; i++) {
            Outcome o = peek(b, 2);
            assertTrue(o.allowed());
            assertEquals(1, o.remaining(), "as if taken");
        }
        assertEquals(2, take(b, 1).remaining());
    }

    @Test
    void refundGivesUnitsBack() {
        TokenBucket b = new TokenBucket(5, 1, Duration.ofSeconds(1));
        Outcome o = take(b, 3);
        refund(key, b, 3, o.marker());
        assertEquals(4, take(b, 1).remaining());
    }

    // --- leaky bucket ------------------------------------------------------------------------

    @Test
    void leakyBucketAllowsABurstOfItsCapacityThenTheLeakRate() {
        LeakyBucket b = new LeakyBucket(120, 1, Duration.ofSeconds(1));
        for (int i = 0; i < 120; i++) {
            assertTrue(take(b, 1).allowed(), "request " + (i + 1));
        }
        Outcome denied = take(b, 1);
        assertFalse(denied.allowed());
        assertEquals(SECOND, denied.retryAfterNanos());
        assertEquals(120 * SECOND, denied.resetAfterNanos(), "empty again after 120 s of leaking");
        advance(Duration.ofSeconds(1));
        assertTrue(take(b, 1).allowed());
        assertFalse(take(b, 1).allowed());
        advance(Duration.ofSeconds(60));
        int allowed = 0;
        while (take(b, 1).allowed()) {
            allowed++;
        }
        assertEquals(60, allowed, "one request a second leaked out over the minute");
    }

    @Test
    void leakyBucketLeaksSteadilyBetweenRequests() {
        LeakyBucket b = new LeakyBucket(4, 2, Duration.ofSeconds(1));
        take(b, 4);
        advance(Duration.ofMillis(250));
        assertFalse(take(b, 1).allowed());
        advance(Duration.ofMillis(250));
        assertEquals(0, take(b, 1).remaining(), "half a unit leaks every 250 ms");
    }

    // --- fixed window ------------------------------------------------------------------------

    @Test
    void fixedWindowAllowsItsLimitThenDeniesUntilTheWindowEnds() {
        alignTo(Duration.ofSeconds(10));
        advance(Duration.ofSeconds(1));
        FixedWindow w = FixedWindow.ofLength(3, Duration.ofSeconds(10));
        assertEquals(2, take(w, 1).remaining());
        assertEquals(0, take(w, 2).remaining());
        Outcome denied = take(w, 1);
        assertFalse(denied.allowed());
        assertEquals(9 * SECOND, denied.retryAfterNanos());
        assertEquals(9 * SECOND, denied.resetAfterNanos());
        advance(Duration.ofSeconds(9).minusNanos(1));
        assertFalse(take(w, 1).allowed());
        advance(Duration.ofNanos(1));
        Outcome fresh = take(w, 3);
        assertTrue(fresh.allowed(), "a new window starts at the boundary with the whole limit");
        assertEquals(0, fresh.remaining());
    }

    @Test
    void calendarDayWindowResetsAtLocalMidnight() {
        ZoneId shanghai = ZoneId.of("Asia/Shanghai");
        clock().set(ZonedDateTime.of(2031, 3, 4, 23, 59, 59, 999_000_000, shanghai).toInstant());
        FixedWindow day = FixedWindow.ofCalendar(2, FixedWindow.CalendarUnit.DAY, shanghai, DayOfWeek.MONDAY);
        take(day, 2);
        Outcome denied = take(day, 1);
        assertFalse(denied.allowed());
        assertEquals(1_000_000, denied.retryAfterNanos(), "1 ms to midnight in Shanghai");
        advance(Duration.ofMillis(1));
        assertTrue(take(day, 2).allowed());
        Outcome next = take(day, 1);
        assertEquals(Duration.ofDays(1).toNanos(), next.retryAfterNanos());
    }

    @Test
    void calendarDayFollowsDaylightSavingChanges() {
        ZoneId newYork = ZoneId.of("America/New_York");
        // 2031-03-09 is 23 hours long in New York.
        clock().set(ZonedDateTime.of(2031, 3, 9, 0, 0, 0, 0, newYork).toInstant());
        FixedWindow day = FixedWindow.ofCalendar(1, FixedWindow.CalendarUnit.DAY, newYork, DayOfWeek.MONDAY);
        take(day, 1);
        assertEquals(Duration.ofHours(23).toNanos(), take(day, 1).retryAfterNanos());
    }

    @Test
    void calendarWeekAndMonthWindowsEndAtTheirBoundaries() {
        ZoneId utc = ZoneId.of("UTC");
        clock().set(Instant.parse("2031-02-26T12:00:00Z")); // a Wednesday
        FixedWindow week = FixedWindow.ofCalendar(1, FixedWindow.CalendarUnit.WEEK, utc, DayOfWeek.SUNDAY);
        FixedWindow month = FixedWindow.ofCalendar(1, FixedWindow.CalendarUnit.MONTH, utc, DayOfWeek.MONDAY);
        take(week, 1);
        assertEquals(Duration.ofDays(3).plusHours(12).toNanos(), take(week, 1).retryAfterNanos(), "to Sunday 2 March");
        key = key + "/month";
        take(month, 1);
        assertEquals(Duration.ofDays(2).plusHours(12).toNanos(), take(month, 1).retryAfterNanos(), "to 1 March");
    }

    @Test
    void fixedWindowClockSteppingBackStaysInTheCurrentWindow() {
        alignTo(Duration.ofMinutes(1));
        FixedWindow w = FixedWindow.ofLength(2, Duration.ofMinutes(1));
        take(w, 2);
        advance(Duration.ofMinutes(-5));
        assertFalse(take(w, 1).allowed(), "stepping back into an old window does not start afresh");
    }

    @Test
    void fixedWindowRefundReturnsUnitsToTheSameWindowOnly() {
        alignTo(Duration.ofSeconds(10));
        FixedWindow w = FixedWindow.ofLength(3, Duration.ofSeconds(10));
        Outcome o = take(w, 2);
        refund(key, w, 2, o.marker());
        assertEquals(0, take(w, 3).remaining(), "the two units came back");
        advance(Duration.ofSeconds(10));
        Outcome next = take(w, 1);
        refund(key, w, 3, o.marker());
        assertEquals(1, take(w, 1).remaining(), "a refund for an ended window changes nothing");
        assertTrue(next.allowed());
    }

    // --- sliding window ----------------------------------------------------------------------

    @Test
    void slidingWindowNeverResetsUnitsExpireOneWindowAfterTheirSlotEnds() {
        alignTo(Duration.ofSeconds(10));
        advance(Duration.ofMillis(500));
        SlidingWindow w = new SlidingWindow(5, Duration.ofSeconds(10), Duration.ofSeconds(1));
        assertEquals(0, take(w, 5).remaining());
        advance(Duration.ofMillis(9_400)); // 9.9 s
        Outcome denied = take(w, 1);
        assertFalse(denied.allowed());
        assertEquals(1_100_000_000, denied.retryAfterNanos(), "units of slot [0 s, 1 s) count until 11 s");
        advance(Duration.ofMillis(600)); // 10.5 s: exactly one window after they were taken, and still counted
        assertFalse(take(w, 1).allowed());
        advance(Duration.ofMillis(500)); // 11 s
        assertTrue(take(w, 5).allowed());
    }

    @Test
    void slidingWindowNeverAdmitsMoreThanItsLimitWithinAnyWindow() {
        alignTo(Duration.ofSeconds(10));
        advance(Duration.ofMillis(50)); // requests start mid-slot
        SlidingWindow w = new SlidingWindow(10, Duration.ofSeconds(1), Duration.ofMillis(100));
        java.util.List<Long> allowed = new java.util.ArrayList<>();
        for (int i = 0; i < 500; i++) {
            if (take(w, 1).allowed()) {
                allowed.add(clock().nanos());
            }
            advance(Duration.ofMillis(10));
        }
        for (int i = 10; i < allowed.size(); i++) {
            assertTrue(allowed.get(i) - allowed.get(i - 10) >= SECOND, "11 allowed within one second, ending at " + allowed.get(i));
        }
        assertTrue(allowed.size() >= 40, "about 10 a second over 5 s, at most one granularity late: " + allowed.size());
    }

    @Test
    void slidingWindowFreesOldestSlotsFirst() {
        alignTo(Duration.ofSeconds(10));
        SlidingWindow w = new SlidingWindow(5, Duration.ofSeconds(10), Duration.ofSeconds(1));
        take(w, 2);
        advance(Duration.ofSeconds(5));
        take(w, 3);
        advance(Duration.ofSeconds(6)); // the first 2 expire now, one window after their slot ended
        Outcome o = take(w, 2);
        assertTrue(o.allowed());
        assertEquals(0, o.remaining());
        Outcome denied = take(w, 3);
        assertEquals(5 * SECOND, denied.retryAfterNanos(), "the 3 taken at 5 s count until 16 s");
        assertEquals(11 * SECOND, denied.resetAfterNanos(), "everything is gone at 22 s");
    }

    @Test
    void slidingWindowIsExactToItsGranularity() {
        alignTo(Duration.ofMinutes(1));
        SlidingWindow w = new SlidingWindow(1, Duration.ofMinutes(1), Duration.ofMillis(100));
        advance(Duration.ofMillis(150));
        take(w, 1);
        advance(Duration.ofMillis(59_999)); // 60.149 s: 59.999 s after it was taken, the unit counts
        assertFalse(take(w, 1).allowed());
        advance(Duration.ofMillis(1)); // 60.150 s: a minute after it was taken, it still counts
        assertFalse(take(w, 1).allowed());
        advance(Duration.ofMillis(50)); // 60.200 s: its slot [100 ms, 200 ms) is a minute in the past
        assertTrue(take(w, 1).allowed());
    }

    @Test
    void slidingWindowClockSteppingBackExpiresNothingEarly() {
        alignTo(Duration.ofSeconds(10));
        SlidingWindow w = new SlidingWindow(2, Duration.ofSeconds(10), Duration.ofSeconds(1));
        take(w, 2);
        advance(Duration.ofSeconds(-30));
        assertFalse(take(w, 1).allowed());
        advance(Duration.ofSeconds(40));
        assertFalse(take(w, 1).allowed());
        advance(Duration.ofSeconds(1));
        assertTrue(take(w, 1).allowed());
    }

    @Test
    void slidingWindowRefundReturnsUnitsStillInTheWindow() {
        alignTo(Duration.ofSeconds(10));
        SlidingWindow w = new SlidingWindow(4, Duration.ofSeconds(10), Duration.ofSeconds(1));
        Outcome o = take(w, 3);
        advance(Duration.ofSeconds(2));
        refund(key, w, 3, o.marker());
        assertEquals(0, take(w, 4).remaining());
    }

    @Test
    void slidingWindowKeepsCountingWhenItsSettingsChange() {
        alignTo(Duration.ofMinutes(1));
        SlidingWindow before = new SlidingWindow(10, Duration.ofMinutes(1), Duration.ofSeconds(1));
        SlidingWindow after = new SlidingWindow(10, Duration.ofMinutes(1), Duration.ofMillis(500));
        take(before, 8);
        Outcome o = take(after, 2);
        assertTrue(o.allowed());
        assertEquals(0, o.remaining(), "the 8 units taken under the old granularity still count");
        advance(Duration.ofMinutes(1).plusSeconds(1));
        assertTrue(take(after, 10).allowed());
    }

    // --- fixed window with a trickle ---------------------------------------------------------

    private static TrickleWindow minuteQuotaThenOneASecond(long quota) {
        return new TrickleWindow(FixedWindow.ofLength(quota, Duration.ofMinutes(1)), 1, Duration.ofSeconds(1));
    }

    @Test
    void trickleWindowAllowsItsQuotaThenOneUnitEachPeriodUntilTheWindowEnds() {
        alignTo(Duration.ofMinutes(1));
        TrickleWindow w = minuteQuotaThenOneASecond(5);
        for (int i = 4; i >= 0; i--) {
            assertEquals(i, take(w, 1).remaining());
        }
        Outcome spent = take(w, 1);
        assertFalse(spent.allowed(), "the trickle starts empty when the quota runs out");
        assertEquals(SECOND, spent.retryAfterNanos(), "its first unit comes one period later");
        assertEquals(60 * SECOND, spent.resetAfterNanos(), "the whole quota is back when the window ends");
        advance(Duration.ofSeconds(1));
        assertTrue(take(w, 1).allowed());
        assertFalse(take(w, 1).allowed(), "one a second");
        advance(Duration.ofSeconds(30));
        assertTrue(take(w, 1).allowed());
        assertFalse(take(w, 1).allowed(), "a trickle holds one period's units, however long it waited");
        advance(Duration.ofSeconds(29));
        assertEquals(4, take(w, 1).remaining(), "a new window: the whole quota again");
    }

    @Test
    void trickleWindowNeverAdmitsMoreThanItsQuotaPlusTheTrickleAfterwards() {
        alignTo(Duration.ofMinutes(1));
        TrickleWindow w = new TrickleWindow(FixedWindow.ofLength(10, Duration.ofSeconds(10)), 2, Duration.ofSeconds(1));
        int allowed = 0;
        for (int ms = 0; ms < 10_000; ms += 50) {
            if (take(w, 1).allowed()) {
                allowed++;
            }
            advance(Duration.ofMillis(50));
        }
        // 10 in the first 0.45 s, then 2 a second from then on: one every 0.5 s from 0.95 s to 9.95 s.
        assertEquals(10 + 19, allowed);
    }

    @Test
    void trickleWindowRetryAfterIsTheSoonerOfTheTrickleAndTheWindowsEnd() {
        alignTo(Duration.ofMinutes(1));
        TrickleWindow w = new TrickleWindow(FixedWindow.ofLength(3, Duration.ofSeconds(10)), 1, Duration.ofSeconds(4));
        take(w, 3);
        assertEquals(4 * SECOND, take(w, 1).retryAfterNanos());
        advance(Duration.ofSeconds(8));
        assertTrue(take(w, 1).allowed());
        Outcome denied = take(w, 1);
        assertEquals(2 * SECOND, denied.retryAfterNanos(), "the window ends before the trickle's next unit");
        assertFalse(take(w, 2).allowed(), "a cost above the trickle waits for the window");
    }

    @Test
    void trickleWindowCostAboveWhatIsLeftOfTheQuotaWaitsForTheNextWindow() {
        alignTo(Duration.ofMinutes(1));
        TrickleWindow w = minuteQuotaThenOneASecond(5);
        take(w, 4);
        advance(Duration.ofSeconds(5));
        Outcome denied = take(w, 2);
        assertFalse(denied.allowed(), "the quota is not spent, so nothing trickles yet");
        assertEquals(55 * SECOND, denied.retryAfterNanos());
        assertEquals(0, take(w, 1).remaining());
    }

    @Test
    void trickleWindowRefundReturnsUnitsToTheQuotaOrTheTrickle() {
        alignTo(Duration.ofMinutes(1));
        TrickleWindow w = minuteQuotaThenOneASecond(2);
        Outcome quota = take(w, 2);
        refund(key, w, 1, quota.marker());
        assertEquals(0, take(w, 1).remaining(), "one unit back in the quota");
        advance(Duration.ofSeconds(1));
        Outcome trickled = take(w, 1);
        assertTrue(trickled.allowed());
        refund(key, w, 1, trickled.marker());
        assertTrue(take(w, 1).allowed(), "the trickle's unit came back");
        assertFalse(take(w, 1).allowed());
    }

    @Test
    void trickleWindowCountsDeniedAttemptsAgainstTheQuota() {
        alignTo(Duration.ofMinutes(1));
        TrickleWindow w = minuteQuotaThenOneASecond(3);
        take(w, 3);
        assertFalse(acquire(key, w, 1, true, true).allowed());
        advance(Duration.ofSeconds(1));
        assertTrue(take(w, 1).allowed(), "the trickle is unaffected by counted denials");
    }

    @Test
    void aPlainWindowThatGainsATrickleKeepsItsCount() {
        alignTo(Duration.ofMinutes(1));
        FixedWindow plain = FixedWindow.ofLength(5, Duration.ofMinutes(1));
        take(plain, 4);
        TrickleWindow w = new TrickleWindow(plain, 1, Duration.ofSeconds(1));
        assertEquals(0, take(w, 1).remaining(), "4 were counted before the policy changed");
        advance(Duration.ofSeconds(1));
        assertTrue(take(w, 1).allowed());
        assertEquals(0, peek(plain, 1).remaining(), "and dropping the trickle again keeps the count");
    }

    // --- every algorithm ---------------------------------------------------------------------

    @Test
    void aCostAboveTheLimitIsRefusedNotDeniedForever() {
        for (Algorithm a : new Algorithm[] {
                new TokenBucket(3, 1, Duration.ofSeconds(1)), new LeakyBucket(3, 1, Duration.ofSeconds(1)),
                FixedWindow.ofLength(3, Duration.ofSeconds(1)), new SlidingWindow(3, Duration.ofSeconds(1), Duration.ofMillis(100)),
                new TrickleWindow(FixedWindow.ofLength(3, Duration.ofSeconds(1)), 1, Duration.ofSeconds(1))}) {
            assertThrows(IllegalArgumentException.class, () -> a.acquire(null, clock().nanos(), 4, true, false), a.toString());
        }
    }

    @Test
    void restingTimeIsTheTimeUntilTheBucketIsBackAtRest() {
        alignTo(Duration.ofSeconds(10));
        Algorithm[] all = {new TokenBucket(4, 2, Duration.ofSeconds(1)), new LeakyBucket(4, 2, Duration.ofSeconds(1)),
                FixedWindow.ofLength(4, Duration.ofSeconds(10)), new SlidingWindow(4, Duration.ofSeconds(10), Duration.ofSeconds(1)),
                new TrickleWindow(FixedWindow.ofLength(4, Duration.ofSeconds(10)), 1, Duration.ofSeconds(1))};
        // A sliding window's unit counts until its slot is a whole window in the past: window + granularity.
        long[] expected = {SECOND / 2, SECOND / 2, 10 * SECOND, 11 * SECOND, 10 * SECOND};
        for (int i = 0; i < all.length; i++) {
            Outcome o = all[i].acquire(null, clock().nanos(), 1, true, false);
            assertEquals(expected[i], all[i].restAfterNanos(o.next(), clock().nanos()), all[i].toString());
            assertEquals(expected[i], o.resetAfterNanos(), all[i].toString());
            assertEquals(0, all[i].restAfterNanos(o.next(), clock().nanos() + expected[i]), all[i].toString());
        }
    }
}
