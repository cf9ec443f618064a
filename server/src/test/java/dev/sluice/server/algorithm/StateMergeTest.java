package dev.sluice.server.algorithm;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

/** After a split heals, each bucket keeps the more consumed of its two states. */
class StateMergeTest {

    private static final long T = 1_900_000_000_000_000_000L;

    @Test
    void tokenBucketsKeepTheEmptierSide() {
        TokenBucket b = new TokenBucket(10, 1, Duration.ofSeconds(1));
        BucketState lightly = b.acquire(null, T, 2, true, false).next();
        BucketState heavily = b.acquire(null, T, 9, true, false).next();
        assertSame(heavily, StateMerge.moreConsumed(lightly, heavily));
        assertSame(heavily, StateMerge.moreConsumed(heavily, lightly));
        assertEquals(1, b.acquire(StateMerge.moreConsumed(lightly, heavily), T, 1, true, false).remaining() + 1);
    }

    @Test
    void fixedWindowsKeepTheLaterWindowOrTheHigherCount() {
        assertEquals(new WindowState(100, 7), StateMerge.moreConsumed(new WindowState(100, 7), new WindowState(100, 3)));
        assertEquals(new WindowState(200, 1), StateMerge.moreConsumed(new WindowState(100, 7), new WindowState(200, 1)));
    }

    @Test
    void slidingWindowsTakeTheLargerCountOfEverySlot() {
        SlidingWindow w = new SlidingWindow(100, Duration.ofSeconds(4), Duration.ofSeconds(1));
        long s = 1_000_000_000L;
        BucketState a = w.acquire(null, 10 * s, 5, true, false).next();
        a = w.acquire(a, 12 * s, 1, true, false).next();
        BucketState b = w.acquire(null, 10 * s, 2, true, false).next();
        b = w.acquire(b, 13 * s, 4, true, false).next();
        SlidingWindowState merged = (SlidingWindowState) StateMerge.moreConsumed(a, b);
        assertEquals(5 + 1 + 4, merged.total());
        assertEquals(100 - 10, w.acquire(merged, 13 * s, 1, false, false).remaining() + 1);
        assertFalse(w.acquire(merged, 13 * s, 91, false, false).allowed());
        // At 14 s the slot [10 s, 11 s) is still partly in the window; at 15 s it has left: its 5 go, 1 + 4 remain.
        assertEquals(100 - 10, w.acquire(merged, 14 * s, 1, false, false).remaining() + 1);
        assertEquals(100 - 5, w.acquire(merged, 15 * s, 1, false, false).remaining() + 1);
    }

    @Test
    void aMissingSideKeepsTheOther() {
        WindowState w = new WindowState(100, 1);
        assertSame(w, StateMerge.moreConsumed(null, w));
        assertSame(w, StateMerge.moreConsumed(w, null));
    }

    @Test
    void leasesOfBothSidesAreKeptEachUntilItsLaterExpiry() {
        LeaseState a = new LeaseState(new long[] {1, 2}, new long[] {100, 500}, new long[] {1, 1});
        LeaseState b = new LeaseState(new long[] {2, 3}, new long[] {900, 300}, new long[] {1, 2});
        LeaseState both = (LeaseState) StateMerge.moreConsumed(a, b);
        assertEquals(new LeaseState(new long[] {1, 2, 3}, new long[] {100, 900, 300}, new long[] {1, 1, 2}), both);
    }
}
