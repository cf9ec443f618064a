package dev.sluice.server.observe;

import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.engine.LimitResult;
import dev.sluice.server.engine.Verdict;
import dev.sluice.server.policy.AppliedLimit;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The heavy-hitter sketch keeps its guarantee alone, merged across members and across time slots, and forgets after a minute. */
class TopKeysTest {

    /** Skewed keys: a few heavy, a long tail of keys seen once or twice. */
    private static List<String> stream(Random random, int n, int distinct) {
        List<String> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double u = random.nextDouble();
            keys.add("k" + (int) Math.floor(Math.pow(distinct, u * u * u)));
        }
        return keys;
    }

    private static void assertWithinGuarantee(KeyCounts summary, Map<String, Long> truth) {
        long total = truth.values().stream().mapToLong(Long::longValue).sum();
        assertEquals(total, summary.total());
        Map<String, KeyCounts.Entry> listed = new HashMap<>();
        for (KeyCounts.Entry e : summary.entries()) {
            listed.put(e.key(), e);
            long real = truth.getOrDefault(e.key(), 0L);
            assertTrue(e.guaranteed() <= real && real <= e.count(), e + " true " + real);
            assertTrue(e.error() <= summary.bound(), e + " bound " + summary.bound());
        }
        truth.forEach((key, real) -> {
            if (!listed.containsKey(key)) {
                assertTrue(real <= summary.floor(), key + " (" + real + ") missing though above the floor " + summary.floor());
            }
            if (real > summary.bound()) {
                assertTrue(listed.containsKey(key), key + " (" + real + ") is above the bound " + summary.bound() + " and must be listed");
            }
        });
    }

    @Test
    void oneSketchNeverUndercountsAndOvercountsByAtMostTotalOverCapacity() {
        Random random = new Random(7);
        for (int round = 0; round < 5; round++) {
            SpaceSaving s = new SpaceSaving(64);
            Map<String, Long> truth = new HashMap<>();
            for (String k : stream(random, 20_000, 5_000)) {
                s.add(k);
                truth.merge(k, 1L, Long::sum);
            }
            List<KeyCounts.Entry> entries = s.counters().stream().map(c -> new KeyCounts.Entry(c.key(), c.count(), c.error())).toList();
            assertWithinGuarantee(new KeyCounts(entries, s.floor(), s.total(), s.total() / 64), truth);
        }
    }

    @Test
    void membersSummariesMergeWithTheSumOfTheirBounds() {
        Random random = new Random(11);
        long now = 5 * TopKeys.SLOT_NANOS;
        Map<String, Long> truth = new HashMap<>();
        List<KeyCounts> members = new ArrayList<>();
        for (int member = 0; member < 3; member++) {
            TopKeys top = new TopKeys();
            // Spread over four slots, so slots merge within a member too.
            List<String> keys = stream(random, 30_000, 200_000);
            for (int i = 0; i < keys.size(); i++) {
                top.record("shop", verdict(keys.get(i), i % 3 != 0), now + (i % 4) * TopKeys.SLOT_NANOS);
                truth.merge(keys.get(i), 1L, Long::sum);
            }
            members.add(top.summary("shop", TopKeys.By.REQUESTS, now + 3 * TopKeys.SLOT_NANOS));
        }
        KeyCounts all = KeyCounts.merge(members, Integer.MAX_VALUE);
        assertWithinGuarantee(all, truth);
        KeyCounts ten = KeyCounts.merge(members, 10);
        assertEquals(10, ten.entries().size());
        assertEquals(all.entries().subList(0, 10), ten.entries());
    }

    @Test
    void denialsAreCountedApartAndAMinuteLaterEverythingIsForgotten() {
        TopKeys top = new TopKeys();
        long now = 100 * TopKeys.SLOT_NANOS;
        for (int i = 0; i < 10; i++) {
            top.record("shop", verdict("hot", i < 4), now);
        }
        top.record("shop", verdict("cold", true), now);
        KeyCounts requests = top.summary("shop", TopKeys.By.REQUESTS, now);
        assertEquals(new KeyCounts.Entry("hot", 10, 0), requests.entries().get(0));
        KeyCounts denials = top.summary("shop", TopKeys.By.DENIALS, now);
        assertEquals(List.of(new KeyCounts.Entry("hot", 6, 0)), denials.entries());
        assertEquals(0, top.summary("other", TopKeys.By.REQUESTS, now).total());
        assertEquals(11, top.summary("shop", TopKeys.By.REQUESTS, now + 5 * TopKeys.SLOT_NANOS).total(), "still within the minute");
        assertEquals(0, top.summary("shop", TopKeys.By.REQUESTS, now + 6 * TopKeys.SLOT_NANOS).total(), "six slots on: forgotten");
    }

    private static Verdict verdict(String bucket, boolean allowed) {
        AppliedLimit limit = new AppliedLimit("l", "r", new TokenBucket(10, 10, java.time.Duration.ofSeconds(1)), bucket, false, false, null, null);
        LimitResult r = new LimitResult(limit, allowed, 0, 0, 0);
        return new Verdict(allowed, List.of(r), 0, r);
    }
}
