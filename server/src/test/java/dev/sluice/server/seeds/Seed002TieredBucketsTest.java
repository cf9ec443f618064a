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
import static dev.sluice.server.seeds.SeedNode.descriptors;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Seed 002: the whole tier table, the scope fallback, Retry-After and the JSON error body. */
class Seed002TieredBucketsTest {

    private static SeedNode seed;

    @BeforeAll
    static void start() {
        seed = new SeedNode("seed-002-tiered-token-buckets.yaml", "payments", Instant.parse("2031-06-01T00:00:00Z"));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        seed.close();
    }


    @Test
    void everyTierAndTypeHasItsCapacityAndRefillRate() {
        Object[][] table = {
                {"BASE", "DEFAULT", 50, 5}, {"BASE", "PAYMENTS", 10, 1}, {"BASE", "AUTH", 5, 1},
                {"TIER_1", "DEFAULT", 150, 15}, {"TIER_1", "PAYMENTS", 50, 5}, {"TIER_1", "AUTH", 5, 1},
                {"TIER_2", "DEFAULT", 450, 45}, {"TIER_2", "PAYMENTS", 250, 50}, {"TIER_2", "AUTH", 5, 1},
                {"TIER_3", "DEFAULT", 1000, 100}, {"TIER_3", "PAYMENTS", 500, 100}, {"TIER_3", "AUTH", 5, 1}};
        for (Object[] row : table) {
            String tier = (String) row[0];
            String type = (String) row[1];
            int capacity = (Integer) row[2];
            int refill = (Integer) row[3];
            Map<String, String> d = descriptors("org", "org-" + tier + "-" + type, "tier", tier, "type", type);
            String what = tier + "/" + type;
            AcquireResponse first = seed.acquire(d, capacity - 1);
            assertEquals(Decision.ALLOWED, first.getDecision(), what);
            assertEquals(capacity, first.getLimits(0).getLimit(), what);
            assertEquals(0, seed.acquire(d).getLimits(0).getRemaining(), what + ": exactly the capacity");
            AcquireResponse denied = seed.acquire(d);
            assertEquals(Decision.DENIED, denied.getDecision(), what);
            Duration oneToken = Duration.ofNanos(-Math.floorDiv(-1_000_000_000L, refill)); // rounded up to whole nanoseconds
            assertEquals(oneToken, SeedNode.retryAfter(denied), what + ": one token after 1/" + refill + " s");
            assertEquals("1", header(denied, "Retry-After"), what + ": whole seconds, rounded up");
        }
        // The refill rate itself: after one second, exactly `refill` tokens are back.
        seed.advance(Duration.ofSeconds(1));
        for (Object[] row : table) {
            Map<String, String> d = descriptors("org", "org-" + row[0] + "-" + row[1], "tier", (String) row[0], "type", (String) row[1]);
            int refill = (Integer) row[3];
            assertEquals(Decision.ALLOWED, seed.acquire(d, refill).getDecision(), row[0] + "/" + row[1]);
            assertEquals(Decision.DENIED, seed.acquire(d).getDecision(), row[0] + "/" + row[1]);
        }
    }

    @Test
    void theOrganisationIsTheScopeElseApiKeyElseUserElseIp() {
        // Two API keys of one organisation share the organisation's bucket.
        seed.acquire(descriptors("org", "acme", "api_key", "k1", "ip", "1.1.1.1"), 30);
        AcquireResponse second = seed.acquire(descriptors("org", "acme", "api_key", "k2", "ip", "2.2.2.2"), 20);
        assertEquals(0, second.getLimits(0).getRemaining());
        assertEquals(Decision.DENIED, seed.acquire(descriptors("org", "acme", "user", "u9")).getDecision());
        // Without an org, the API key is the scope; without one, the user; without one, the IP.
        assertEquals(49, seed.acquire(descriptors("api_key", "k1", "user", "u1", "ip", "1.1.1.1")).getLimits(0).getRemaining());
        assertEquals(48, seed.acquire(descriptors("api_key", "k1", "ip", "3.3.3.3")).getLimits(0).getRemaining());
        assertEquals(49, seed.acquire(descriptors("user", "u1", "ip", "1.1.1.1")).getLimits(0).getRemaining());
        assertEquals(49, seed.acquire(descriptors("ip", "1.1.1.1")).getLimits(0).getRemaining());
        assertEquals(48, seed.acquire(descriptors("ip", "1.1.1.1")).getLimits(0).getRemaining());
        // Each request type has its own bucket.
        assertEquals(9, seed.acquire(descriptors("org", "acme", "type", "PAYMENTS")).getLimits(0).getRemaining());
    }

    @Test
    void anEmptyBucketAnswersTheDocumentedErrorBody() {
        Map<String, String> d = descriptors("org", "globex", "tier", "TIER_1", "type", "AUTH", "resource", "sessions");
        seed.acquire(d, 5);
        AcquireResponse denied = seed.acquire(d);
        assertEquals(429, denied.getHttpStatus());
        assertEquals("1", header(denied, "Retry-After"));
        assertEquals("application/json", header(denied, "Content-Type"));
        assertEquals("{\"status\": 429, \"error\": \"Rate limit exceeded, try again in 1 seconds\", "
                + "\"log\": {\"support\": \"Reach out to support to request a higher tier, or upgrade your plan.\", "
                + "\"rate_limit\": {\"resource\": \"sessions\", \"tier\": \"TIER_1\", \"type\": \"AUTH\"}}}", denied.getBody());

        Map<String, String> base = descriptors("org", "initech", "resource", "invoices");
        seed.acquire(base, 50);
        AcquireResponse baseDenied = seed.acquire(base);
        assertEquals("{\"status\": 429, \"error\": \"Rate limit exceeded, try again in 1 seconds\", "
                + "\"log\": {\"support\": \"Reach out to support to request a higher tier, or upgrade your plan.\", "
                + "\"rate_limit\": {\"resource\": \"invoices\", \"tier\": \"BASE\", \"type\": \"DEFAULT\"}}}", baseDenied.getBody(),
                "a request naming no tier or type is BASE / DEFAULT");
    }
}
