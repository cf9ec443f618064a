package dev.sluice.server.seeds;

import dev.sluice.api.v1.AcquireResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static dev.sluice.server.seeds.SeedNode.header;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Seed 004: leaky buckets of 120, 360 and 720 by plan, leaking one request a second. */
class Seed004LeakyPlansTest {

    private static final Instant START = Instant.parse("2031-08-01T12:00:00Z");
    private static SeedNode seed;

    @BeforeAll
    static void start() {
        seed = new SeedNode("seed-004-leaky-bucket-plans.yaml", "store-plans", START);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        seed.close();
    }


    @Test
    void eachPlanPassesABurstOfItsSizeThenOneRequestASecond() {
        assertEquals(120, seed.burst(Map.of("store", "plus-store", "plan", "Plus")));
        assertEquals(360, seed.burst(Map.of("store", "pro-store", "plan", "Pro")));
        assertEquals(720, seed.burst(Map.of("store", "special-store", "plan", "Special")));
        assertEquals(120, seed.burst(Map.of("store", "mystery-store", "plan", "Enterprise")), "unknown plans get Plus's size");
        seed.advance(Duration.ofSeconds(1));
        assertEquals(1, seed.burst(Map.of("store", "plus-store", "plan", "Plus")));
        seed.advance(Duration.ofSeconds(30));
        assertEquals(31, seed.burst(Map.of("store", "pro-store", "plan", "Pro")), "one leaked for each of the 31 seconds since its burst");
    }

    @Test
    void aDenialCarriesTheDocumentedHeaders() {
        Map<String, String> store = Map.of("store", "header-store", "plan", "Plus");
        AcquireResponse first = seed.acquire(store);
        assertEquals("120", header(first, "X-RateLimit-Limit"));
        assertEquals("119", header(first, "X-RateLimit-Remaining"));
        seed.acquire(store, 119);
        AcquireResponse denied = seed.acquire(store);
        assertEquals(429, denied.getHttpStatus());
        assertEquals("120", header(denied, "X-RateLimit-Limit"));
        assertEquals("0", header(denied, "X-RateLimit-Remaining"));
        long now = seed.clock.instant().getEpochSecond();
        assertEquals(Long.toString(now + 120), header(denied, "X-RateLimit-Reset"), "drained completely in 120 s, UTC epoch seconds");
        assertEquals("1", header(denied, "Retry-After"));
    }

    @Test
    void eachPlanReportsItsOwnSize() {
        assertEquals("360", header(seed.acquire(Map.of("store", "pro-header-store", "plan", "Pro")), "X-RateLimit-Limit"));
        assertEquals("720", header(seed.acquire(Map.of("store", "special-header-store", "plan", "Special")), "X-RateLimit-Limit"));
        assertEquals("120", header(seed.acquire(Map.of("store", "other-header-store", "plan", "Enterprise")), "X-RateLimit-Limit"));
    }
}
