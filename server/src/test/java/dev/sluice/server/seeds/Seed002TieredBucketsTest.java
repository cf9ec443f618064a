package dev.sluice.server.seeds;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static dev.sluice.server.seeds.SeedNode.descriptors;
import static dev.sluice.server.seeds.SeedNode.header;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Seed 002, a payments platform's token buckets by tier and request type, replayed sentence by
 * sentence over a real node: with the document's table, and with the same policy carrying others.
 */
class Seed002TieredBucketsTest {

    /** The document's table: tier, type, capacity, refill rate (tokens a second). */
    private static final Object[][] DOCUMENT = {
            {"BASE", "DEFAULT", 50, 5}, {"BASE", "PAYMENTS", 10, 1}, {"BASE", "AUTH", 5, 1},
            {"TIER_1", "DEFAULT", 150, 15}, {"TIER_1", "PAYMENTS", 50, 5}, {"TIER_1", "AUTH", 5, 1},
            {"TIER_2", "DEFAULT", 450, 45}, {"TIER_2", "PAYMENTS", 250, 50}, {"TIER_2", "AUTH", 5, 1},
            {"TIER_3", "DEFAULT", 1000, 100}, {"TIER_3", "PAYMENTS", 500, 100}, {"TIER_3", "AUTH", 5, 1}};

    private static final String DOCUMENT_ROWS = """
                      - [BASE,    DEFAULT,    50,   5]
                      - [BASE,    PAYMENTS,   10,   1]
                      - [BASE,    AUTH,        5,   1]
                      - [TIER_1,  DEFAULT,   150,  15]
                      - [TIER_1,  PAYMENTS,   50,   5]
                      - [TIER_1,  AUTH,        5,   1]
                      - [TIER_2,  DEFAULT,   450,  45]
                      - [TIER_2,  PAYMENTS,  250,  50]
                      - [TIER_2,  AUTH,        5,   1]
                      - [TIER_3,  DEFAULT,  1000, 100]
                      - [TIER_3,  PAYMENTS,  500, 100]
                      - [TIER_3,  AUTH,        5,   1]
                      - ["*",     PAYMENTS,   10,   1]
                      - ["*",     AUTH,        5,   1]
                      - ["*",     "*",        50,   5]
            """;

    abstract static class Replay extends SeedReplay {
        Replay() {
            super("seed-002-tiered-token-buckets.yaml", "payments", Instant.parse("2031-06-01T00:00:00Z"));
        }

        abstract Object[][] table();

        abstract String supportContact();

        private int base(int column) {
            return (Integer) table()[0][column];
        }

        @Test
        void eachTierDefinesCapacitiesAndRefillRatesByTypeOfRequest() {
            // "Each bucket has a maximum capacity (how many requests can be stored)."
            // "Rate limits vary based on your organization's tier. Each tier defines different
            //  capacities and refill rates depending on the type of request." (the table)
            // "If your bucket runs out of tokens, your request is blocked until more tokens are refilled."
            for (Object[] row : table()) {
                String tier = (String) row[0];
                String type = (String) row[1];
                int capacity = (Integer) row[2];
                int refill = (Integer) row[3];
                Map<String, String> d = descriptors("org", "org-" + tier + "-" + type, "tier", tier, "type", type);
                String what = tier + "/" + type;
                assertEquals(capacity, seed.burst(d), what + ": a burst of the capacity");
                AcquireResponse denied = seed.acquire(d);
                assertEquals(Decision.DENIED, denied.getDecision(), what);
                assertEquals(capacity, denied.getLimits(0).getLimit(), what);
                Duration oneToken = Duration.ofNanos(-Math.floorDiv(-1_000_000_000L, refill)); // rounded up to whole nanoseconds
                assertEquals(oneToken, SeedNode.retryAfter(denied), what + ": one token after 1/" + refill + " s");
            }
            // "Tokens are refilled automatically over time, at a set rate per second."
            seed.advance(Duration.ofSeconds(1));
            for (Object[] row : table()) {
                Map<String, String> d = descriptors("org", "org-" + row[0] + "-" + row[1], "tier", (String) row[0], "type", (String) row[1]);
                assertEquals((Integer) row[3], seed.burst(d), row[0] + "/" + row[1] + ": a second later, its refill rate");
            }
        }

        @Test
        void whenYouMakeARequestOneTokenIsConsumed() {
            // "When you make a request, 1 token is consumed."
            Map<String, String> d = descriptors("org", "counting", "tier", "BASE", "type", "DEFAULT");
            for (int left = base(2) - 1; left >= base(2) - 5; left--) {
                assertEquals(left, seed.acquire(d).getLimits(0).getRemaining());
            }
        }

        @Test
        void allApiKeysUnderTheSameOrgCountTowardTheSameLimits() {
            // "Each request consumes tokens from a shared rate-limit bucket tied to your
            //  organization. This means all API keys under the same org count toward the same limits."
            int capacity = base(2);
            seed.acquire(descriptors("org", "acme", "api_key", "k1", "ip", "1.1.1.1"), capacity / 2);
            AcquireResponse second = seed.acquire(descriptors("org", "acme", "api_key", "k2", "ip", "2.2.2.2"), capacity - capacity / 2);
            assertEquals(0, second.getLimits(0).getRemaining());
            assertEquals(Decision.DENIED, seed.acquire(descriptors("org", "acme", "user", "u9")).getDecision());
        }

        @Test
        void theMostSpecificIdentifierAvailableIsTheScope() {
            // "Organization ID – Primary rate limit scope (tied to your API key)"
            // "API Key – Used if org-level context is not clearly available"
            // "User ID – Used if org-level context is not available"
            // "IP Address – Only used as a last resort (e.g., unauthenticated or anonymous requests)"
            int c = base(2);
            assertEquals(c - 1, seed.acquire(descriptors("api_key", "k1", "user", "u1", "ip", "1.1.1.1")).getLimits(0).getRemaining());
            assertEquals(c - 2, seed.acquire(descriptors("api_key", "k1", "ip", "3.3.3.3")).getLimits(0).getRemaining(), "the key's");
            assertEquals(c - 1, seed.acquire(descriptors("user", "u1", "ip", "1.1.1.1")).getLimits(0).getRemaining(), "the user's");
            assertEquals(c - 1, seed.acquire(descriptors("ip", "1.1.1.1")).getLimits(0).getRemaining(), "the IP's");
            assertEquals(c - 2, seed.acquire(descriptors("ip", "1.1.1.1")).getLimits(0).getRemaining());
            assertEquals((Integer) table()[1][2] - 1, seed.acquire(descriptors("org", "scope-org", "type", "PAYMENTS"))
                    .getLimits(0).getRemaining(), "each request type has its own bucket");
        }

        @Test
        void anEmptyBucketAnswers429WithRetryAfterAndTheDocumentedBody() {
            // "Your request will return an error with a 429 Too Many Requests status."
            // "The response will include a Retry-After header (in seconds), which tells you how long
            //  to wait before retrying."
            // The document's "Example Error Response (Rate Limit)".
            Map<String, String> d = descriptors("org", "globex", "tier", "TIER_1", "type", "AUTH", "resource", "sessions");
            seed.burst(d);
            AcquireResponse denied = seed.acquire(d);
            assertEquals(429, denied.getHttpStatus());
            assertEquals("1", header(denied, "Retry-After"), "whole seconds, rounded up");
            assertEquals("application/json", header(denied, "Content-Type"));
            assertEquals(body("sessions", "TIER_1", "AUTH"), denied.getBody());

            Map<String, String> base = descriptors("org", "initech", "resource", "invoices");
            seed.burst(base);
            assertEquals(body("invoices", "BASE", "DEFAULT"), seed.acquire(base).getBody(), "a request naming no tier or type is BASE / DEFAULT");
        }

        private String body(String resource, String tier, String type) {
            return "{\"status\": 429, \"error\": \"Rate limit exceeded, try again in 1 seconds\", "
                    + "\"log\": {\"support\": \"Reach out to " + supportContact() + " to request a higher tier, or upgrade your plan. "
                    + "Read more at docs.cci.prem.io.\", "
                    + "\"rate_limit\": {\"resource\": \"" + resource + "\", \"tier\": \"" + tier + "\", \"type\": \"" + type + "\"}}}";
        }
    }

    @Nested
    class WithTheDocumentsNumbers extends Replay {
        @Override
        Object[][] table() {
            return DOCUMENT;
        }

        @Override
        String supportContact() {
            return "support@example.com";
        }

        @Override
        Map<String, String> replacements() {
            return Map.of();
        }
    }

    @Nested
    class WithOtherNumbers extends Replay {
        @Override
        Object[][] table() {
            Object[][] other = new Object[DOCUMENT.length][];
            for (int i = 0; i < DOCUMENT.length; i++) {
                other[i] = new Object[] {DOCUMENT[i][0], DOCUMENT[i][1], (Integer) DOCUMENT[i][2] + 3 + i, (Integer) DOCUMENT[i][3] + 1};
            }
            return other;
        }

        @Override
        String supportContact() {
            return "limits@shop.test";
        }

        @Override
        Map<String, String> replacements() {
            StringBuilder rows = new StringBuilder();
            for (Object[] row : table()) {
                rows.append("          - [").append(row[0]).append(", ").append(row[1]).append(", ").append(row[2]).append(", ")
                        .append(row[3]).append("]\n");
            }
            Object[] base = table()[0];
            Object[] payments = table()[1];
            Object[] auth = table()[2];
            rows.append("          - [\"*\", PAYMENTS, ").append(payments[2]).append(", ").append(payments[3]).append("]\n");
            rows.append("          - [\"*\", AUTH, ").append(auth[2]).append(", ").append(auth[3]).append("]\n");
            rows.append("          - [\"*\", \"*\", ").append(base[2]).append(", ").append(base[3]).append("]\n");
            return Map.of(DOCUMENT_ROWS, rows.toString(), "support_contact: support@example.com", "support_contact: limits@shop.test");
        }
    }
}
