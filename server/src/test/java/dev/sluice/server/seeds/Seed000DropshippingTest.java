package dev.sluice.server.seeds;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.Map;

import static dev.sluice.server.seeds.SeedNode.retryAfter;
import static dev.sluice.server.seeds.SeedNode.descriptors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Seed 000: per-IP and per-level rates, and the daily quota for unverified users. */
class Seed000DropshippingTest {

    private static final ZoneId SHANGHAI = ZoneId.of("Asia/Shanghai");
    private static SeedNode seed;

    @BeforeAll
    static void start() {
        seed = new SeedNode("seed-000-dropshipping-api.yaml", "dropshipping",
                ZonedDateTime.of(2031, 3, 4, 10, 0, 0, 0, SHANGHAI).toInstant());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        seed.close();
    }



    @Test
    void tenRequestsPerSecondPerIp() {
        assertEquals(10, seed.burst(descriptors("ip", "10.0.0.1", "interface", "/product/list", "login", "none")));
        assertEquals(Decision.ALLOWED, seed.acquire(descriptors("ip", "10.0.0.2", "interface", "/product/query", "login", "none")).getDecision(),
                "another IP has its own limit");
        seed.advance(Duration.ofMillis(100));
        assertEquals(1, seed.burst(descriptors("ip", "10.0.0.1", "interface", "/product/list2", "login", "none")), "one more every 100 ms");
        AcquireResponse denied = seed.acquire(descriptors("ip", "10.0.0.1"));
        assertEquals(429, denied.getHttpStatus());
        assertEquals("Too Many Requests", denied.getBody());
        assertEquals("per-ip", denied.getLimits(0).getName());
    }

    @Test
    void nonLoginInterfacesAreCappedAtThirtyPerSecond() {
        int allowed = 0;
        for (int i = 0; i < 40; i++) {
            // Many callers, each well under its own 10/s.
            if (seed.acquire(descriptors("ip", "10.1.0." + i, "interface", "/public/categories", "login", "none")).getDecision()
                    == Decision.ALLOWED) {
                allowed++;
            }
        }
        assertEquals(30, allowed);
    }

    @Test
    void userLevelsSetThePerUserRate() {
        String[][] levels = {{"0", "1"}, {"1", "1"}, {"free", "1"}, {"2", "2"}, {"plus", "2"}, {"3", "4"}, {"prime", "4"},
                {"4", "6"}, {"5", "6"}, {"advanced", "6"}, {"unknown", "1"}};
        for (int i = 0; i < levels.length; i++) {
            Map<String, String> d = descriptors("ip", "10.2.0." + i, "user", "level-user-" + i, "level", levels[i][0],
                    "interface", "/product/list", "verified", "true");
            assertEquals(Integer.parseInt(levels[i][1]), seed.burst(d), "level " + levels[i][0]);
        }
        Map<String, String> prime = descriptors("ip", "10.2.1.1", "user", "prime-user", "level", "3", "verified", "true", "interface", "/x");
        seed.burst(prime);
        seed.advance(Duration.ofMillis(250));
        assertEquals(1, seed.burst(prime), "4 per second: one more every 250 ms");
    }

    @Test
    void unverifiedUsersGetAThousandCallsADayPerInterfaceUntilChinaMidnight() {
        Map<String, String> user = descriptors("ip", "10.3.0.1", "user", "new-seller", "level", "4", "interface", "/order/create");
        for (int i = 1; i <= 1000; i++) {
            AcquireResponse r = seed.acquire(user);
            assertEquals(Decision.ALLOWED, r.getDecision(), "call " + i);
            seed.advance(Duration.ofMillis(200)); // 5 a second: under the level's 6/s and the IP's 10/s
        }
        AcquireResponse denied = seed.acquire(user);
        assertEquals(Decision.DENIED, denied.getDecision());
        assertEquals(429, denied.getHttpStatus());
        assertEquals("Too Many Requests, Sorry, you have reached the daily request limit (1000 times/day). "
                + "Number of requests made: 1000. Please try again tomorrow.", denied.getBody());
        ZonedDateTime now = seed.clock.instant().atZone(SHANGHAI);
        Duration toMidnight = Duration.between(now, now.toLocalDate().plusDays(1).atStartOfDay(SHANGHAI));
        assertEquals(toMidnight, retryAfter(denied));

        Map<String, String> otherInterface = new HashMap<>(user);
        otherInterface.put("interface", "/order/list");
        assertEquals(Decision.ALLOWED, seed.acquire(otherInterface).getDecision(), "the quota is per interface");
        Map<String, String> verified = new HashMap<>(user);
        verified.put("user", "verified-seller");
        verified.put("verified", "true");
        assertEquals(Decision.ALLOWED, seed.acquire(verified).getDecision());

        seed.advance(toMidnight.minusMillis(1));
        assertEquals(Decision.DENIED, seed.acquire(user).getDecision(), "still today in Shanghai");
        seed.advance(Duration.ofMillis(1));
        AcquireResponse tomorrow = seed.acquire(user);
        assertEquals(Decision.ALLOWED, tomorrow.getDecision());
        assertTrue(tomorrow.getLimitsList().stream().anyMatch(l -> l.getName().equals("daily-per-interface") && l.getRemaining() == 999));
    }
}
