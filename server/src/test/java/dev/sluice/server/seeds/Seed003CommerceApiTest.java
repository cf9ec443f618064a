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
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Seed 003, a commerce API's rate limits, replayed sentence by sentence over a real node: with the
 * document's numbers, and with the same policy carrying others.
 */
class Seed003CommerceApiTest {

    /** Per class of requests: average (per minute, all endpoints) and burst (per 10 s, per endpoint), live then test. */
    record Numbers(int oauth, int cacheableAverageLive, int cacheableAverageTest, int cacheableBurstLive, int cacheableBurstTest,
                   int standardAverageLive, int standardAverageTest, int standardBurstLive, int standardBurstTest) {
    }

    abstract static class Replay extends SeedReplay {
        Replay() {
            super("seed-003-commerce-api.yaml", "commerce", Instant.parse("2031-07-01T00:00:00Z"));
        }

        abstract Numbers numbers();

        private static Map<String, String> call(String ip, String env, String method, String endpoint) {
            return Map.of("ip", ip, "env", env, "method", method, "endpoint", endpoint);
        }

        /** Bursts on four endpoints of one class in turn: each gets its burst until the class's average runs out. */
        private void averageAcrossEndpointsBurstPerEndpoint(String ip, String env, String method, String[] endpoints, int average, int burst) {
            int used = 0;
            for (String endpoint : endpoints) {
                int expected = Math.min(burst, average - used);
                assertEquals(expected, seed.burst(call(ip, env, method, endpoint)), env + " " + method + " " + endpoint);
                used += expected;
            }
            assertEquals(Math.min(average, burst * endpoints.length), used);
        }

        @Test
        void oauthTokenIsTwentyAMinuteRegardlessOfTheEnvironmentInAWindowThatNeverResets() {
            // "All the requests to the /oauth/token endpoint ... are subject to stricter rate limits,
            //  regardless of the environment: Live, Test | 20 | 1 min"
            // "Please note that the count on the number of requests is never reset: you must consider
            //  the time intervals as sliding time windows"
            seed.alignTo(Duration.ofSeconds(1));
            int n = numbers().oauth();
            Map<String, String> live = Map.of("ip", "5.5.5.5", "env", "live", "method", "POST", "endpoint", "/oauth/token");
            Map<String, String> test = Map.of("ip", "5.5.5.5", "env", "test", "method", "POST", "endpoint", "/oauth/token");
            for (int i = 0; i < n / 2; i++) {
                seed.acquire(live);
            }
            seed.advance(Duration.ofSeconds(30));
            assertEquals(n - n / 2, seed.burst(test), "live and test count together");
            AcquireResponse denied = seed.acquire(live);
            assertEquals(Integer.toString(n), header(denied, "X-Ratelimit-Limit"));
            assertEquals("60", header(denied, "X-Ratelimit-Interval"));
            assertEquals("0", header(denied, "X-Ratelimit-Remaining"), "0 in case of HTTP 429 errors");
            assertNull(header(denied, "X-Ratelimit-Reset"), "that's why no X-Ratelimit-Reset header is included");
            assertNull(header(denied, "Retry-After"));
            assertEquals(Duration.ofSeconds(31), SeedNode.retryAfter(denied), "the first ones count for a whole minute, to the second");
            seed.advance(Duration.ofSeconds(31));
            assertEquals(n / 2, seed.burst(live), "only the first ones have left the window; the count did not reset");
        }

        @Test
        void cacheableReadsHaveAnAverageAcrossEndpointsAndABurstPerEndpoint() {
            // "Average — the number of requests is calculated considering the sum of the requests
            //  sent to all the resource endpoints of the specific class in the related time window"
            // "Burst — the number of requests is calculated on each single resource endpoint of the
            //  specific class"
            // "Live | Average | 750 (to all endpoints) | 1 min"; "Live | Burst | 250 (per endpoint) | 10 secs"
            Numbers n = numbers();
            String[] endpoints = {"/api/skus", "/api/prices", "/api/bundles", "/api/orders"};
            averageAcrossEndpointsBurstPerEndpoint("6.6.6.6", "live", "GET", endpoints, n.cacheableAverageLive(), n.cacheableBurstLive());
            AcquireResponse denied = seed.acquire(call("6.6.6.6", "live", "HEAD", "/api/skus"));
            assertEquals(429, denied.getHttpStatus(), "\"IP addresses that exceed the following rates will be blocked\"");
            assertEquals(Integer.toString(n.cacheableAverageLive()), header(denied, "X-Ratelimit-Limit"),
                    "the average, which waits longest, speaks for the denial");
            assertEquals("60", header(denied, "X-Ratelimit-Interval"));
            // "Test | Average | 375 (to all endpoints) | 1 min"; "Test | Burst | 125 (per endpoint) | 10 secs"
            averageAcrossEndpointsBurstPerEndpoint("6.6.6.6", "test", "OPTIONS", endpoints, n.cacheableAverageTest(), n.cacheableBurstTest());
        }

        @Test
        void theBurstWindowIsTenSeconds() {
            seed.alignTo(Duration.ofMillis(100));
            Numbers n = numbers();
            assertEquals(n.cacheableBurstLive(), seed.burst(call("6.7.7.7", "live", "GET", "/api/skus")));
            AcquireResponse burstDenied = seed.acquire(call("6.7.7.7", "live", "GET", "/api/skus"));
            assertEquals(Integer.toString(n.cacheableBurstLive()), header(burstDenied, "X-Ratelimit-Limit"));
            assertEquals("10", header(burstDenied, "X-Ratelimit-Interval"));
            seed.advance(Duration.ofMillis(10_100));
            assertEquals(n.cacheableBurstLive(), seed.burst(call("6.7.7.7", "live", "GET", "/api/skus")), "the 10 s window slid on");
        }

        @Test
        void promotionsAreUncacheableWithTheirOwnNumbers() {
            // "All types of promotions — /api/*_promotions"
            // "Live | Average | 150 (to all endpoints) | 1 min"; "Live | Burst | 50 (per endpoint) | 10 secs"
            Numbers n = numbers();
            String[] promotions = {"/api/percentage_discount_promotions", "/api/free_shipping_promotions",
                    "/api/buy_x_pay_y_promotions", "/api/fixed_price_promotions"};
            averageAcrossEndpointsBurstPerEndpoint("8.8.8.8", "live", "GET", promotions, n.standardAverageLive(), n.standardBurstLive());
            averageAcrossEndpointsBurstPerEndpoint("8.8.8.8", "test", "GET", promotions, n.standardAverageTest(), n.standardBurstTest());
            assertEquals(Decision.ALLOWED, seed.acquire(call("8.8.8.8", "live", "GET", "/api/skus")).getDecision(),
                    "cacheable reads are another class");
        }

        @Test
        void writesArePostOrPatchToAnyEndpoint() {
            // "Write requests (performed via POST or PATCH HTTP methods) to any endpoint (regardless
            //  of whether the related resource falls into the cacheable or uncacheable category)"
            // "Live | Average | 150 (to all endpoints) | 1 min"; "Live | Burst | 50 (per endpoint) | 10 secs"
            Numbers n = numbers();
            String[] endpoints = {"/api/orders", "/api/line_items", "/api/free_shipping_promotions", "/api/customers"};
            averageAcrossEndpointsBurstPerEndpoint("9.9.9.9", "live", "POST", endpoints, n.standardAverageLive(), n.standardBurstLive());
            averageAcrossEndpointsBurstPerEndpoint("9.9.9.10", "test", "PATCH", endpoints, n.standardAverageTest(), n.standardBurstTest());
            AcquireResponse other = seed.acquire(call("9.9.9.9", "live", "DELETE", "/api/orders"));
            assertEquals(Decision.ALLOWED, other.getDecision(), "the page names no limit for DELETE");
            assertEquals(0, other.getLimitsCount());
        }

        @Test
        void everyResponseCarriesTheCurrentAndTheDeprecatedHeaders() {
            // "X-Ratelimit-Limit | The maximum number of requests allowed in the sliding time window."
            // "X-Ratelimit-Interval | The total duration of the sliding time window (in seconds)."
            // "X-Ratelimit-Remaining | The number of allowed requests remaining in the current time window"
            // "The following headers are still included in the response, but they are deprecated":
            // "X-Ratelimit-Count | The number of requests sent so far in the current time window."
            // "X-Ratelimit-Period | The total duration of the sliding time window (in seconds)."
            Numbers n = numbers();
            Map<String, String> write = call("4.4.4.4", "live", "POST", "/api/orders");
            seed.acquire(write);
            seed.acquire(write);
            AcquireResponse third = seed.acquire(write);
            assertEquals(Integer.toString(n.standardBurstLive()), header(third, "X-Ratelimit-Limit"));
            assertEquals("10", header(third, "X-Ratelimit-Interval"));
            assertEquals(Integer.toString(n.standardBurstLive() - 3), header(third, "X-Ratelimit-Remaining"));
            assertEquals("3", header(third, "X-Ratelimit-Count"), "Limit - Remaining");
            assertEquals("10", header(third, "X-Ratelimit-Period"));
            seed.burst(write);
            AcquireResponse denied = seed.acquire(write);
            assertEquals(Integer.toString(n.standardBurstLive()), header(denied, "X-Ratelimit-Count"));
            assertEquals("0", header(denied, "X-Ratelimit-Remaining"));
        }
    }

    @Nested
    class WithTheDocumentsNumbers extends Replay {
        @Override
        Numbers numbers() {
            return new Numbers(20, 750, 375, 250, 125, 150, 75, 50, 25);
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
            return new Numbers(13, 600, 300, 180, 90, 120, 50, 35, 15);
        }

        @Override
        Map<String, String> replacements() {
            return Map.of("limit: 20, window: 1m", "limit: 13, window: 1m",
                    "rows: [[live, 750], [\"*\", 375]]", "rows: [[live, 600], [\"*\", 300]]",
                    "rows: [[live, 250], [\"*\", 125]]", "rows: [[live, 180], [\"*\", 90]]",
                    "rows: [[live, 150], [\"*\", 75]]", "rows: [[live, 120], [\"*\", 50]]",
                    "rows: [[live, 50],  [\"*\", 25]]", "rows: [[live, 35],  [\"*\", 15]]");
        }
    }
}
