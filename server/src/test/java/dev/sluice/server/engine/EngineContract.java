package dev.sluice.server.engine;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.policy.Domain;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** All-or-nothing across limits, shadow mode and counted denials, on a real member. */
class DecisionEngineTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static HazelcastInstance member;
    private static DecisionEngine engine;
    private static Domain domain;

    @BeforeAll
    static void start() {
        member = Hazelcast.newHazelcastInstance(TestMembers.config(TestNodes.uniqueCluster("engine"), CLOCK));
        engine = new DecisionEngine(new BucketStore(member));
        domain = TestNodes.policies("""
                domains:
                  d:
                    rules:
                      - name: r
                        limits:
                          - {name: per-user, algorithm: token_bucket, capacity: 100, refill: 1, key: [user]}
                          - {name: per-ip, algorithm: token_bucket, capacity: 3, refill: 1, key: [ip]}
                          - {name: trial, algorithm: fixed_window, limit: 2, window: 1h, key: [user], shadow: true}
                          - {name: strikes, algorithm: fixed_window, limit: 50, window: 1h, key: [user], count_denied: true}
                """).domain("d");
    }

    @AfterAll
    static void stop() {
        member.getLifecycleService().terminate();
    }

    private static Verdict decide(Map<String, String> descriptors, long cost, boolean dryRun) {
        return engine.decide(domain.resolve(descriptors), cost, dryRun).join();
    }

    private static LimitResult result(Verdict v, String name) {
        return v.results().stream().filter(r -> r.limit().name().equals(name)).findFirst().orElseThrow();
    }

    private static long remaining(Map<String, String> descriptors, String name) {
        return result(decide(descriptors, 1, true), name).remaining() + 1;
    }

    @Test
    void aDenialByOneLimitGivesBackWhatTheOthersTook() {
        Map<String, String> who = Map.of("user", "alice", "ip", "10.1.0.1");
        for (int i = 0; i < 3; i++) {
            assertTrue(decide(who, 1, false).allowed());
        }
        Verdict denied = decide(who, 1, false);
        assertFalse(denied.allowed());
        assertEquals("per-ip", denied.binding().limit().name());
        assertTrue(result(denied, "per-user").allowed(), "per-user alone would have allowed it");
        assertEquals(97, result(denied, "per-user").remaining(), "reported with nothing taken");
        assertEquals(97, remaining(who, "per-user"), "and given back before the answer came");
        assertEquals(Duration.ofSeconds(1).toNanos(), denied.retryAfterNanos());
    }

    @Test
    void shadowLimitsReportButNeverDeny() {
        Map<String, String> who = Map.of("user", "bob", "ip", "10.1.0.2");
        decide(who, 1, false);
        decide(who, 1, false);
        Verdict third = decide(who, 1, false);
        assertTrue(third.allowed(), "the shadow limit is full but does not deny");
        assertFalse(result(third, "trial").allowed(), "its own status says it would have");
        assertEquals("per-ip", third.binding().limit().name(), "shadow limits never bind the response");
    }

    @Test
    void limitsThatCountDeniedAttemptsKeepTheirCharge() {
        Map<String, String> who = Map.of("user", "carol", "ip", "10.1.0.3");
        for (int i = 0; i < 3; i++) {
            decide(who, 1, false);
        }
        for (int i = 0; i < 4; i++) {
            assertFalse(decide(who, 1, false).allowed());
        }
        assertEquals(97, remaining(who, "per-user"));
        assertEquals(50 - 7, remaining(who, "strikes"), "three allowed plus four denied attempts");
    }

    @Test
    void aDryRunAcrossLimitsConsumesNothing() {
        Map<String, String> who = Map.of("user", "dave", "ip", "10.1.0.4");
        for (int i = 0; i < 5; i++) {
            assertTrue(decide(who, 2, true).allowed());
        }
        assertEquals(3, remaining(who, "per-ip"));
        assertEquals(100, remaining(who, "per-user"));
    }

    @Test
    void noLimitsMeansAllowed() {
        Verdict v = engine.decide(List.<AppliedLimit>of(), 1, false).join();
        assertTrue(v.allowed());
        assertEquals(List.of(), v.results());
    }
}
