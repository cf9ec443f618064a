package dev.sluice.server.store;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecentRequestsTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void aHotBucketRemembersEveryRequestForTheWholeMemoryTimeNotJustTheLastFewThousand() {
        RecentRequests recent = new RecentRequests();
        long memory = 10 * SECOND;
        // 20,000 requests a second for 5 s: all must still be known at the end.
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            long now = i * (SECOND / 20_000);
            recent.record(id(i), now, now + memory, RecentRequests.ALLOWED, i, 1);
        }
        assertEquals(n, recent.size());
        for (int i = 0; i < n; i++) {
            int p = recent.find(id(i));
            assertTrue(p >= 0, "request " + i + " forgotten");
            assertEquals(i, recent.marker(p));
        }
        assertEquals(-1, recent.find(id(n)));
    }

    @Test
    void requestsAreForgottenWhenTheirTimeEndsAndTheSpaceIsGivenBack() {
        RecentRequests recent = new RecentRequests();
        // Expiries keep nanosecond precision above the three flag bits: space them by 8 ns.
        for (int i = 0; i < 50_000; i++) {
            recent.record(id(i), 8L * i, SECOND + 8L * i, 0, i, 1);
        }
        recent.prune(SECOND + 8L * 25_000);
        assertEquals(24_999, recent.size());
        assertEquals(-1, recent.find(id(25_000)));
        assertTrue(recent.find(id(25_001)) >= 0);
        for (int round = 0; round < 20; round++) {
            recent.prune(2 * SECOND);
        }
        assertEquals(0, recent.size());
        recent.record(id(7), 2 * SECOND, 3 * SECOND, RecentRequests.ALLOWED, 7, 1);
        assertEquals(1, recent.size());
        assertTrue(recent.find(id(7)) >= 0);
        assertEquals(3, recent.toArray().length);
    }

    /** The index against a plain model, through growth, expiry, shrinking and updates, with colliding ids. */
    @Test
    void matchesASimpleModelUnderRandomUse() {
        Random random = new Random(7);
        RecentRequests recent = new RecentRequests();
        Deque<long[]> model = new ArrayDeque<>();
        Map<Long, long[]> byId = new HashMap<>();
        long now = 0;
        for (int step = 0; step < 300_000; step++) {
            now += random.nextInt(3);
            // Phases of high and low rate make the ring grow and shrink.
            long memory = (step / 20_000) % 2 == 0 ? 4_000 : 40;
            long id = random.nextInt(5_000) * 0x1_0000_0000L; // same low bits: every id collides in a naive hash
            int flags = random.nextInt(3);
            recent.record(id, now, now + memory, flags, step, 1);
            while (!model.isEmpty() && (model.peekFirst()[1] & ~7L) <= now) {
                byId.remove(model.pollFirst()[0]);
            }
            long[] known = byId.get(id);
            if (known != null) {
                known[1] = (known[1] & ~7L) | flags;
                known[2] = step;
            } else {
                long[] e = {id, ((now + memory) & ~7L) | flags, step};
                model.addLast(e);
                byId.put(id, e);
            }
            if (step % 997 == 0) {
                assertEquals(model.size(), recent.size(), "size at step " + step);
                for (int probe = 0; probe < 50; probe++) {
                    long q = random.nextInt(5_000) * 0x1_0000_0000L;
                    int p = recent.find(q);
                    long[] m = byId.get(q);
                    assertEquals(m != null, p >= 0, "presence of " + q + " at step " + step);
                    if (m != null) {
                        assertEquals(m[2], recent.marker(p));
                        assertEquals((int) (m[1] & 3), recent.flags(p));
                    }
                }
            }
        }
        long[] wire = recent.toArray();
        RecentRequests copy = RecentRequests.fromArray(wire, null);
        assertEquals(recent.size(), copy.size());
        for (long[] e : model) {
            assertTrue(copy.find(e[0]) >= 0);
        }
    }

    @Test
    void theCostsChargedAreKeptOnlyOnceOneIsNotOneAndCrossTheWireWithTheirRequests() {
        RecentRequests recent = new RecentRequests();
        for (int i = 0; i < 40; i++) {
            recent.record(id(i), i, SECOND + i * 8L, RecentRequests.ALLOWED, 0, 1);
        }
        assertEquals(null, recent.costsToArray(), "unit costs only: no array of costs");
        for (int i = 40; i < 100; i++) {
            recent.record(id(i), i, SECOND + i * 8L, RecentRequests.ALLOWED, 0, 1_000L + i);
        }
        recent.prune(SECOND + 8L * 20);
        RecentRequests copy = RecentRequests.fromArray(recent.toArray(), recent.costsToArray());
        for (RecentRequests r : List.of(recent, copy)) {
            assertEquals(-1, r.find(id(20)), "forgotten");
            assertEquals(1, r.cost(r.find(id(21))));
            assertEquals(1_099, r.cost(r.find(id(99))));
            assertEquals(1_040, r.cost(r.find(id(40))));
        }
        int p = copy.find(id(50));
        copy.update(p, RecentRequests.ALLOWED | RecentRequests.SETTLED, 0);
        assertEquals(RecentRequests.ALLOWED | RecentRequests.SETTLED, copy.flags(copy.find(id(50))));
        assertEquals(1_050, copy.cost(p), "marking a request settled keeps what it was charged");
    }

    private static long id(int i) {
        return 0x9E3779B97F4A7C15L * (i + 1);
    }
}
