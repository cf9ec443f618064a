package dev.sluice.server.seeds;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static dev.sluice.server.seeds.SeedNode.header;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Seed 003: sliding windows by environment, method and resource class, and its headers. */
class Seed003CommerceApiTest {

    private static SeedNode seed;

    @BeforeAll
    static void start() {
        // On a whole minute, so window arithmetic in the test reads plainly.
        seed = new SeedNode("seed-003-commerce-api.yaml", "commerce", Instant.parse("2031-07-01T00:00:00Z"));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        seed.close();
    }

    private static Map<String, String> call(String ip, String env, String method, String endpoint) {
        return Map.of("ip", ip, "env", env, "method", method, "endpoint", endpoint);
    }


    @Test
    void oauthTokenAllowsTwentyAMinuteInAWindowThatSlidesAndNeverResets() {
        Map<String, String> token = Map.of("ip", "5.5.5.5", "env", "test", "method", "POST", "endpoint", "/oauth/token");
        for (int i = 0; i < 10; i++) {
            seed.acquire(token);
        }
        seed.advance(Duration.ofSeconds(30));
        assertEquals(10, seed.burst(token));
        AcquireResponse denied = seed.acquire(token);
        assertEquals("20", header(denied, "X-Ratelimit-Limit"));
        assertEquals("60", header(denied, "X-Ratelimit-Interval"));
        assertEquals("0", header(denied, "X-Ratelimit-Remaining"));
        assertNull(header(denied, "X-Ratelimit-Reset"), "sliding windows never reset");
        assertNull(header(denied, "Retry-After"));
        assertEquals(Duration.ofSeconds(30), SeedNode.retryAfter(denied), "the first ten leave the window at 60 s");
        seed.advance(Duration.ofSeconds(30));
        assertEquals(10, seed.burst(token), "only the first ten have left the window; the count did not reset");
    }

    @Test
    void cacheableReadsHaveABurstPerEndpointAndAnAverageAcrossEndpoints() {
        assertEquals(250, seed.burst(call("6.6.6.6", "live", "GET", "/api/skus")));
        AcquireResponse burstDenied = seed.acquire(call("6.6.6.6", "live", "GET", "/api/skus"));
        assertEquals(429, burstDenied.getHttpStatus());
        assertEquals("250", header(burstDenied, "X-Ratelimit-Limit"));
        assertEquals("10", header(burstDenied, "X-Ratelimit-Interval"));
        assertEquals(250, seed.burst(call("6.6.6.6", "live", "HEAD", "/api/prices")), "each endpoint has its own burst");
        assertEquals(250, seed.burst(call("6.6.6.6", "live", "OPTIONS", "/api/bundles")));
        AcquireResponse averageDenied = seed.acquire(call("6.6.6.6", "live", "GET", "/api/orders"));
        assertEquals(Decision.DENIED, averageDenied.getDecision(), "750 reads a minute across all endpoints");
        assertEquals("750", header(averageDenied, "X-Ratelimit-Limit"));
        assertEquals("60", header(averageDenied, "X-Ratelimit-Interval"));
        assertEquals(Decision.ALLOWED, seed.acquire(call("6.6.6.6", "test", "GET", "/api/orders")).getDecision(),
                "the test environment counts apart");
    }

    @Test
    void testEnvironmentHasHalfTheLiveNumbers() {
        assertEquals(125, seed.burst(call("7.7.7.7", "test", "GET", "/api/skus")));
        assertEquals(125, seed.burst(call("7.7.7.7", "test", "GET", "/api/prices")));
        assertEquals(125, seed.burst(call("7.7.7.7", "test", "GET", "/api/bundles")));
        assertEquals(0, seed.burst(call("7.7.7.7", "test", "GET", "/api/orders")), "375 a minute in test");
    }

    @Test
    void promotionsAreUncacheableWithTheLowerNumbers() {
        assertEquals(50, seed.burst(call("8.8.8.8", "live", "GET", "/api/percentage_discount_promotions")));
        assertEquals(50, seed.burst(call("8.8.8.8", "live", "GET", "/api/free_shipping_promotions")));
        assertEquals(50, seed.burst(call("8.8.8.8", "live", "GET", "/api/buy_x_pay_y_promotions")));
        assertEquals(0, seed.burst(call("8.8.8.8", "live", "GET", "/api/fixed_price_promotions")), "150 a minute");
        assertEquals(Decision.ALLOWED, seed.acquire(call("8.8.8.8", "live", "GET", "/api/skus")).getDecision(),
                "cacheable reads are another class");
    }

    @Test
    void writesHaveTheirOwnBurstAndAverage() {
        assertEquals(50, seed.burst(call("9.9.9.9", "live", "POST", "/api/orders")));
        AcquireResponse allowedHeaders = seed.acquire(call("9.9.9.9", "live", "PATCH", "/api/line_items"));
        assertEquals("50", header(allowedHeaders, "X-Ratelimit-Limit"), "the burst is closest to denying");
        assertEquals("49", header(allowedHeaders, "X-Ratelimit-Remaining"));
        assertEquals(25, seed.burst(call("9.9.9.10", "test", "POST", "/api/orders")));
        seed.advance(Duration.ofSeconds(10));
        assertEquals(50, seed.burst(call("9.9.9.9", "live", "POST", "/api/orders")), "the 10 s burst window slid on");
        assertEquals(49, seed.burst(call("9.9.9.9", "live", "POST", "/api/customers")), "150 a minute in all");
    }
}
