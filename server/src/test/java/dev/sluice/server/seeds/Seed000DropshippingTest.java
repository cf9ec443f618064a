package dev.sluice.server.seeds;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.sluice.server.seeds.SeedNode.descriptors;
import static dev.sluice.server.seeds.SeedNode.mostWithinAny;
import static dev.sluice.server.seeds.SeedNode.retryAfter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seed 000, "Access Frequency Restrictions", replayed sentence by sentence over a real node:
 * with the document's numbers, and with the same policy carrying other numbers.
 */
class Seed000DropshippingTest {

    private static final ZoneId SHANGHAI = ZoneId.of("Asia/Shanghai");

    /** The numbers a policy of this shape was given. */
    record Numbers(int perIp, int nonLogin, int[] levels, int daily) {
    }

    abstract static class Replay extends SeedReplay {
        Replay() {
            super("seed-000-dropshipping-api.yaml", "dropshipping", ZonedDateTime.of(2031, 3, 4, 10, 0, 0, 0, SHANGHAI).toInstant());
        }

        abstract Numbers numbers();

        /** Sending every 10 ms for 3 s: no second holds more than {@code n}, and every second has its {@code n}. */
        private void noSecondHoldsMoreThan(int n, Map<String, String> who, String what) {
            List<Long> allowed = seed.sendEvery(who, Duration.ofMillis(10), Duration.ofSeconds(3));
            assertEquals(n, mostWithinAny(allowed, Duration.ofSeconds(1)), what + ": at most " + n + " within any second");
            assertEquals(3 * n, allowed.size(), what + ": " + n + " in each of the three seconds");
        }

        @Test
        void noMoreThanTenRequestsPerSecondPerIpAddress() {
            // "No more than 10 requests/second per IP address;"
            noSecondHoldsMoreThan(numbers().perIp(), descriptors("ip", "10.0.0.1", "interface", "/product/list"), "one IP");
            AcquireResponse other = seed.acquire(descriptors("ip", "10.0.0.2", "interface", "/product/list"));
            assertEquals(Decision.ALLOWED, other.getDecision(), "another IP has its own limit");
            seed.burst(descriptors("ip", "10.0.0.3"));
            AcquireResponse denied = seed.acquire(descriptors("ip", "10.0.0.3"));
            assertEquals(429, denied.getHttpStatus(), "\"the corresponding interface call will receive a error code\"");
            assertEquals("Too Many Requests", denied.getBody());
            assertEquals("per-ip", denied.getLimits(0).getName());
        }

        @Test
        void theMaximumCallFrequencyForNonLoginInterfacesIsThirtyRequestsPerSecond() {
            // "The maximum call frequency for non-login interfaces is 30 requests/second."
            int n = numbers().nonLogin();
            int allowed = 0;
            for (int i = 0; i < n + 10; i++) {
                // Many callers, each well under its own per-IP limit.
                Map<String, String> caller = descriptors("ip", "10.1.0." + i, "interface", "/public/categories", "login", "none");
                allowed += seed.acquire(caller).getDecision() == Decision.ALLOWED ? 1 : 0;
            }
            assertEquals(n, allowed, "one interface, all callers together");
            seed.advance(Duration.ofSeconds(1));
            List<Long> times = new java.util.ArrayList<>();
            for (int step = 0; step < 300; step++) {
                Map<String, String> caller = descriptors("ip", "10.1.1." + (step % 200), "interface", "/public/tags", "login", "none");
                if (seed.acquire(caller).getDecision() == Decision.ALLOWED) {
                    times.add(seed.clock.nanos());
                }
                seed.advance(Duration.ofMillis(10));
            }
            assertEquals(n, mostWithinAny(times, Duration.ofSeconds(1)), "no second holds more than " + n);
        }

        @Test
        void eachUserLevelIsLimitedToItsRequestsPerSecond() {
            // "For Free users or the sales level is 0 or 1, it is limited to 1 request/second;"
            // "For Plus users or the sales level is 2, it is limited to 2 requests/second;"
            // "For Prime users or the sales level is 3, it is limited to 4 requests/second;"
            // "For Advanced users or the sales level is 4 or 5, it is limited to 6 requests/second."
            int[] n = numbers().levels();
            String[][] levels = {{"0", "0"}, {"1", "0"}, {"free", "0"}, {"2", "1"}, {"plus", "1"}, {"3", "2"}, {"prime", "2"},
                    {"4", "3"}, {"5", "3"}, {"advanced", "3"}, {"unknown", "0"}};
            for (int i = 0; i < levels.length; i++) {
                Map<String, String> who = descriptors("ip", "10.2.0." + i, "user", "level-user-" + i, "level", levels[i][0],
                        "interface", "/product/list", "verified", "true");
                noSecondHoldsMoreThan(n[Integer.parseInt(levels[i][1])], who, "level " + levels[i][0]);
            }
        }

        @Test
        void unverifiedUsersHaveADailyCallLimitPerInterfaceUntilTomorrow() {
            // "For unverified users, the daily call limit per interface is 1,000 calls/day. When the
            //  call limit is reached, the system will return a Too Many Requests error."
            // "Too Many Requests, Sorry, you have reached the daily request limit (N times/day).
            //  Number of requests made: N. Please try again tomorrow."
            int daily = numbers().daily();
            Map<String, String> user = descriptors("ip", "10.3.0.1", "user", "new-seller", "level", "4", "interface", "/order/create");
            for (int i = 1; i <= daily; i++) {
                assertEquals(Decision.ALLOWED, seed.acquire(user).getDecision(), "call " + i);
                seed.advance(Duration.ofMillis(1000)); // one a second: under every per-second limit
            }
            AcquireResponse denied = seed.acquire(user);
            assertEquals(Decision.DENIED, denied.getDecision());
            assertEquals(429, denied.getHttpStatus());
            assertEquals("Too Many Requests, Sorry, you have reached the daily request limit (" + daily + " times/day). "
                    + "Number of requests made: " + daily + ". Please try again tomorrow.", denied.getBody());
            ZonedDateTime now = seed.clock.instant().atZone(SHANGHAI);
            Duration toMidnight = Duration.between(now, now.toLocalDate().plusDays(1).atStartOfDay(SHANGHAI));
            assertEquals(toMidnight, retryAfter(denied), "try again tomorrow: at midnight in China");

            Map<String, String> otherInterface = new HashMap<>(user);
            otherInterface.put("interface", "/order/list");
            assertEquals(Decision.ALLOWED, seed.acquire(otherInterface).getDecision(), "the limit is per interface");
            Map<String, String> verified = new HashMap<>(user);
            verified.put("user", "verified-seller");
            verified.put("verified", "true");
            assertEquals(Decision.ALLOWED, seed.acquire(verified).getDecision(), "verified users have no daily limit");

            seed.advance(toMidnight.minusMillis(1));
            assertEquals(Decision.DENIED, seed.acquire(user).getDecision(), "still today in Shanghai");
            seed.advance(Duration.ofMillis(1));
            AcquireResponse tomorrow = seed.acquire(user);
            assertEquals(Decision.ALLOWED, tomorrow.getDecision());
            assertTrue(tomorrow.getLimitsList().stream().anyMatch(l -> l.getName().equals("daily-per-interface")
                    && l.getRemaining() == daily - 1));
        }
    }

    @Nested
    class WithTheDocumentsNumbers extends Replay {
        @Override
        Numbers numbers() {
            return new Numbers(10, 30, new int[] {1, 2, 4, 6}, 1000);
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
            return new Numbers(12, 23, new int[] {3, 5, 8, 9}, 400);
        }

        @Override
        Map<String, String> replacements() {
            return Map.of("limit: 10, window: 1s", "limit: 12, window: 1s",
                    "limit: 30, window: 1s", "limit: 23, window: 1s",
                    "[[\"0\", \"1\", free], 1]", "[[\"0\", \"1\", free], 3]",
                    "[[\"2\", plus], 2]", "[[\"2\", plus], 5]",
                    "[[\"3\", prime], 4]", "[[\"3\", prime], 8]",
                    "[[\"4\", \"5\", advanced], 6]", "[[\"4\", \"5\", advanced], 9]",
                    "[\"*\", 1]", "[\"*\", 3]",
                    "limit: 1000", "limit: 400");
        }
    }
}
