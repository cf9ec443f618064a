package dev.sluice.server.seeds;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static dev.sluice.server.seeds.SeedNode.header;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Seed 004, a store platform's limits by plan, replayed sentence by sentence over a real node:
 * with the document's numbers, and with the same policy carrying others.
 */
class Seed004LeakyPlansTest {

    /** Max requests of Plus, Pro and Special per window; the trickle's units per period once they are spent. */
    record Numbers(int plus, int pro, int special, Duration window, int trickle, Duration tricklePeriod) {
    }

    abstract static class Replay extends SeedReplay {
        Replay() {
            super("seed-004-leaky-bucket-plans.yaml", "store-plans", Instant.parse("2031-08-01T12:00:00Z"));
        }

        abstract Numbers numbers();

        private Map<String, String> store(String name, String plan) {
            return Map.of("store", name, "plan", plan);
        }

        @Test
        void eachPlanHasItsMaxRequestsPerMinute() {
            // "Plus | 120 | 1 minute | 1 request per second"; "Pro | 360 | 1 minute | ...";
            // "Special | 720 | 1 minute | ..."
            Numbers n = numbers();
            seed.alignTo(n.window());
            assertEquals(n.plus(), seed.burst(store("plus-store", "Plus")));
            assertEquals(n.pro(), seed.burst(store("pro-store", "Pro")));
            assertEquals(n.special(), seed.burst(store("special-store", "Special")));
            assertEquals(n.plus(), seed.burst(store("mystery-store", "Enterprise")), "an unknown plan gets Plus's numbers");
        }

        @Test
        void onceTheMaxRequestsAreSpentOneRequestASecondUntilTheMinuteIsOverAndAnotherMinuteBegins() {
            // "according to your plan, you have x Max requests per 1 minute (Timeout duration), if
            //  you consumed all the requests before the minute ends, you can have 1 request per
            //  second (the leak limit) until the minute is over and another minute begins."
            Numbers n = numbers();
            seed.alignTo(n.window());
            Map<String, String> pro = store("trickle-store", "Pro");
            assertEquals(n.pro(), seed.burst(pro), "the whole quota at once");
            seed.advance(n.tricklePeriod());
            assertEquals(n.trickle(), seed.burst(pro), "then the leak limit");
            seed.advance(n.tricklePeriod().multipliedBy(10));
            assertEquals(n.trickle(), seed.burst(pro), "the leak limit, however long one waits, within the minute");
            seed.alignTo(n.window());
            assertEquals(n.pro(), seed.burst(pro), "another minute begins: the whole quota again");
        }

        @Test
        void sendingSteadilyAMinuteAdmitsTheQuotaAndTheTrickleAndNothingMore() {
            Numbers n = numbers();
            seed.alignTo(n.window());
            Map<String, String> plus = store("steady-store", "Plus");
            int allowed = 0;
            Duration step = Duration.ofMillis(50);
            long steps = n.window().toNanos() / step.toNanos();
            long quotaSpentAt = -1;
            for (long i = 0; i < steps; i++) {
                if (seed.acquire(plus).getDecision() == Decision.ALLOWED) {
                    allowed++;
                    if (allowed == n.plus()) {
                        quotaSpentAt = i * step.toNanos();
                    }
                }
                seed.advance(step);
            }
            long trickleTime = n.window().toNanos() - quotaSpentAt - step.toNanos();
            long trickled = trickleTime / n.tricklePeriod().toNanos() * n.trickle();
            assertEquals(n.plus() + trickled, allowed, "the quota, then the trickle for the rest of the window");
        }

        @Test
        void everyRequestCarriesTheDocumentedHeaders() {
            // "X-RateLimit-Limit ... will contain the number of calls per minute that can be made"
            // "X-RateLimit-Remaining ... the number of calls the API has left in the current rate limit window."
            // "Retry-After ... the number of seconds in which the API will become available after its
            //  rate limit has been exceeded."
            // "X-RateLimit-Reset ... the time at which an API's current rate limit window resets, in UTC epoch seconds."
            Numbers n = numbers();
            seed.alignTo(n.window());
            long windowEnd = seed.clock.instant().getEpochSecond() + n.window().toSeconds();
            Map<String, String> plus = store("header-store", "Plus");
            AcquireResponse first = seed.acquire(plus);
            assertEquals(Integer.toString(n.plus()), header(first, "X-RateLimit-Limit"));
            assertEquals(Integer.toString(n.plus() - 1), header(first, "X-RateLimit-Remaining"));
            assertEquals(Long.toString(windowEnd), header(first, "X-RateLimit-Reset"), "the end of the minute");
            seed.acquire(plus, n.plus() - 1);
            seed.advance(Duration.ofSeconds(5));
            seed.burst(plus); // what the trickle gathered in those seconds
            AcquireResponse denied = seed.acquire(plus);
            // "All requests that are made after rate limits have been exceeded are throttled and an
            //  HTTP 429 Too Many Requests error is returned."
            assertEquals(429, denied.getHttpStatus());
            assertEquals(Integer.toString(n.plus()), header(denied, "X-RateLimit-Limit"));
            assertEquals("0", header(denied, "X-RateLimit-Remaining"));
            assertEquals(Long.toString(windowEnd), header(denied, "X-RateLimit-Reset"));
            long nextUnit = -Math.floorDiv(-n.tricklePeriod().toNanos() / n.trickle(), 1_000_000_000L);
            assertEquals(Long.toString(Math.max(1, nextUnit)), header(denied, "Retry-After"), "available again at the trickle's next unit");
            assertEquals(Integer.toString(n.pro()), header(seed.acquire(store("pro-header-store", "Pro")), "X-RateLimit-Limit"));
            assertEquals(Integer.toString(n.special()), header(seed.acquire(store("special-header-store", "Special")), "X-RateLimit-Limit"));
        }

        @Test
        void theThrottleIsAPassOrFailOperation() {
            // "The throttle is a pass or fail operation."
            Numbers n = numbers();
            seed.alignTo(n.window());
            Map<String, String> plus = store("pass-fail-store", "Plus");
            seed.acquire(plus, n.plus() - 1);
            AcquireResponse tooMuch = seed.acquire(plus, 2);
            assertEquals(Decision.DENIED, tooMuch.getDecision(), "two units do not fit the one left");
            assertEquals(Decision.ALLOWED, seed.acquire(plus).getDecision(), "and nothing of them was taken");
        }
    }

    @Nested
    class WithTheDocumentsNumbers extends Replay {
        @Override
        Numbers numbers() {
            return new Numbers(120, 360, 720, Duration.ofMinutes(1), 1, Duration.ofSeconds(1));
        }

        @Override
        Map<String, String> replacements() {
            return Map.of();
        }
    }

    @Nested
    class WithOtherNumbers extends Replay {
        @Override
        Numbers numbers() {
            return new Numbers(40, 90, 150, Duration.ofSeconds(30), 3, Duration.ofSeconds(2));
        }

        @Override
        Map<String, String> replacements() {
            return Map.of("[Plus, 120]", "[Plus, 40]", "[Pro, 360]", "[Pro, 90]", "[Special, 720]", "[Special, 150]",
                    "[\"*\", 120]", "[\"*\", 40]", "window: 1m", "window: 30s", "trickle: 1", "trickle: 3",
                    "trickle_period: 1s", "trickle_period: 2s");
        }
    }
}
