package dev.sluice.server.seeds;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Seed 001: 50 QPS per API for each (app, shop) pair. */
class Seed001ShopApiTest {

    private static SeedNode seed;

    @BeforeAll
    static void start() {
        seed = new SeedNode("seed-001-shop-api.yaml", "shop-api", Instant.parse("2031-05-01T08:00:00Z"));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        seed.close();
    }

    private static int burst(String app, String shop, String api) {
        int allowed = 0;
        while (seed.acquire(Map.of("app", app, "shop", shop, "api", api)).getDecision() == Decision.ALLOWED) {
            allowed++;
        }
        return allowed;
    }

    @Test
    void fiftyPerSecondPerApiForEachAppAndShopPair() {
        assertEquals(50, burst("app-a", "shop-1", "/orders/search"));
        AcquireResponse denied = seed.acquire(Map.of("app", "app-a", "shop", "shop-1", "api", "/orders/search"));
        assertEquals(429, denied.getHttpStatus());
        assertEquals(Duration.ofMillis(20), SeedNode.retryAfter(denied), "one query every 20 ms");

        assertEquals(50, burst("app-b", "shop-1", "/orders/search"), "another app, same shop: unaffected");
        assertEquals(50, burst("app-a", "shop-2", "/orders/search"), "same app, another shop: unaffected");
        assertEquals(50, burst("app-a", "shop-1", "/products/search"), "another API: its own 50");

        seed.advance(Duration.ofMillis(20));
        assertEquals(1, burst("app-a", "shop-1", "/orders/search"));
        seed.advance(Duration.ofSeconds(1));
        assertEquals(50, burst("app-a", "shop-1", "/orders/search"), "a second later, 50 again, no more");
    }
}
