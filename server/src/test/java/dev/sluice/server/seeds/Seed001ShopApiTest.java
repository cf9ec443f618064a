package dev.sluice.server.seeds;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.sluice.server.seeds.SeedNode.mostWithinAny;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Seed 001, a shop platform's "API Rate Limit Policy", replayed sentence by sentence over a real
 * node: with the document's numbers, and with the same policy carrying another.
 */
class Seed001ShopApiTest {

    abstract static class Replay extends SeedReplay {
        Replay() {
            super("seed-001-shop-api.yaml", "shop-api", Instant.parse("2031-05-01T08:00:00Z"));
        }

        abstract int qps();

        private static Map<String, String> call(String app, String shop, String api) {
            return Map.of("app", app, "shop", shop, "api", api);
        }

        @Test
        void appsCanMakeTheMaximumNumberOfRequestsPerSecondAndNoMore() {
            // "Apps can make the maximum number of requests per second. In our case, it would be 50
            //  queries per second."
            List<Long> allowed = seed.sendEvery(call("app-a", "shop-1", "/orders/search"), Duration.ofMillis(5), Duration.ofSeconds(3));
            assertEquals(qps(), mostWithinAny(allowed, Duration.ofSeconds(1)), "no second holds more than " + qps());
            assertEquals(3 * qps(), allowed.size(), qps() + " in each of the three seconds");
        }

        @Test
        void eachAppHasItsRateLimitForEachApi() {
            // "Each app is automatically set with a default rate limit of 50 QPS (Queries Per
            //  Second) for each API."
            assertEquals(qps(), seed.burst(call("app-b", "shop-1", "/orders/search")));
            assertEquals(qps(), seed.burst(call("app-b", "shop-1", "/products/search")), "another API: its own limit");
        }

        @Test
        void limitsAreBasedOnTheCombinationOfTheAppAndTheShop() {
            // "TikTok Shop API rate limits are based on the combination of the app and shop. This
            //  means that calls from one app don't affect the rate limits of another app, even when
            //  both apps are making requests for the same shop. Similarly, calls to one shop don't
            //  affect the rate limits of another shop, even when making requests from the same app."
            assertEquals(qps(), seed.burst(call("app-c", "shop-7", "/orders/search")));
            assertEquals(qps(), seed.burst(call("app-d", "shop-7", "/orders/search")), "another app, same shop: unaffected");
            assertEquals(qps(), seed.burst(call("app-c", "shop-8", "/orders/search")), "same app, another shop: unaffected");
        }

        @Test
        void requestsOverTheLimitAreThrottledWithA429() {
            // "All requests that are made after rate limits have been exceeded are throttled and an
            //  HTTP 429 error is returned."
            // "Each request counts equally, regardless of how much or how little data is returned."
            Map<String, String> c = call("app-e", "shop-1", "/orders/search");
            seed.burst(c);
            for (int i = 0; i < 5; i++) {
                AcquireResponse denied = seed.acquire(c);
                assertEquals(Decision.DENIED, denied.getDecision());
                assertEquals(429, denied.getHttpStatus());
            }
        }
    }

    @Nested
    class WithTheDocumentsNumbers extends Replay {
        @Override
        int qps() {
            return 50;
        }

        @Override
        Map<String, String> replacements() {
            return Map.of();
        }
    }

    @Nested
    class WithOtherNumbers extends Replay {
        @Override
        int qps() {
            return 17;
        }

        @Override
        Map<String, String> replacements() {
            return Map.of("limit: 50", "limit: 17");
        }
    }
}
