package dev.sluice.server.engine;

import dev.sluice.server.policy.Domain;
import dev.sluice.server.store.Buckets;
import dev.sluice.server.store.StoreException;
import dev.sluice.server.testing.FaultyBuckets;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.testing.TestThreads;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the engine promises over any store: all or nothing across limits, shadow limits, counted
 * denials, dry runs, repeated request ids, and what happens when one of a request's store calls
 * or give-backs fails or never answers. Run against the in-memory store and against Hazelcast
 * members over TCP, through both of the store's paths, as {@code AlgorithmContract} is for the
 * algorithms. Each test uses descriptors of its own, so the buckets of one never meet another's.
 */
public abstract class EngineContract {

    private static final Domain DOMAIN = TestNodes.policies("""
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

    /** How long the engine under test waits for give-backs before it answers anyway. */
    private static final Duration REFUND_WAIT = Duration.ofMillis(300);

    private FaultyBuckets faults;
    private DecisionEngine engine;

    /** The store under test, shared by the tests of a class. */
    protected abstract Buckets buckets();

    @BeforeEach
    void engineOverTheStore() {
        faults = new FaultyBuckets(buckets());
        engine = new DecisionEngine(faults, TestThreads.FOLLOW_UPS, REFUND_WAIT);
    }

    private CompletableFuture<Verdict> ask(Map<String, String> descriptors, long cost, boolean dryRun, long requestId) {
        return engine.decide(new DecisionEngine.Request(DOMAIN.resolve(descriptors), cost, dryRun, requestId));
    }

    private Verdict decide(Map<String, String> descriptors, long cost, boolean dryRun) {
        return ask(descriptors, cost, dryRun, 0).join();
    }

    private static LimitResult result(Verdict v, String name) {
        return v.results().stream().filter(r -> r.limit().name().equals(name)).findFirst().orElseThrow();
    }

    private long remaining(Map<String, String> descriptors, String name) {
        return result(decide(descriptors, 1, true), name).remaining() + 1;
    }

    private static String unique(String what) {
        return what + "-" + System.nanoTime();
    }

    @Test
    void aDenialByOneLimitGivesBackWhatTheOthersTook() {
        Map<String, String> who = Map.of("user", unique("alice"), "ip", unique("ip"));
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
        assertEquals(1, engine.refunds(), "per-user was given back (the shadow limit had denied too)");
    }

    @Test
    void shadowLimitsReportButNeverDeny() {
        Map<String, String> who = Map.of("user", unique("bob"), "ip", unique("ip"));
        decide(who, 1, false);
        decide(who, 1, false);
        Verdict third = decide(who, 1, false);
        assertTrue(third.allowed(), "the shadow limit is full but does not deny");
        assertFalse(result(third, "trial").allowed(), "its own status says it would have");
        assertEquals("per-ip", third.binding().limit().name(), "shadow limits never bind the response");
    }

    @Test
    void limitsThatCountDeniedAttemptsKeepTheirCharge() {
        Map<String, String> who = Map.of("user", unique("carol"), "ip", unique("ip"));
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
        Map<String, String> who = Map.of("user", unique("dave"), "ip", unique("ip"));
        for (int i = 0; i < 5; i++) {
            assertTrue(decide(who, 2, true).allowed());
        }
        assertEquals(3, remaining(who, "per-ip"));
        assertEquals(100, remaining(who, "per-user"));
    }

    @Test
    void noLimitsMeansAllowed() {
        Verdict v = engine.decide(new DecisionEngine.Request(List.of(), 1, false, 0)).join();
        assertTrue(v.allowed());
        assertEquals(List.of(), v.results());
    }

    @Test
    void aRepeatedRequestIdIsAnsweredWithoutCounting() {
        Map<String, String> who = Map.of("user", unique("erin"), "ip", unique("ip"));
        long id = RequestIds.of(unique("request"));
        Verdict first = ask(who, 2, false, id).join();
        Verdict again = ask(who, 2, false, id).join();
        assertTrue(first.allowed() && again.allowed(), "the repeat gets the first answer");
        assertEquals(1, remaining(who, "per-ip"), "3 - 2: taken once");
        assertEquals(98, remaining(who, "per-user"));
    }

    @Test
    void aRepeatedRequestIdThatWasDeniedTakesNothingEither() {
        Map<String, String> who = Map.of("user", unique("frank"), "ip", unique("ip"));
        for (int i = 0; i < 3; i++) {
            decide(who, 1, false);
        }
        long id = RequestIds.of(unique("request"));
        assertFalse(ask(who, 1, false, id).join().allowed());
        assertFalse(ask(who, 1, false, id).join().allowed());
        assertEquals(97, remaining(who, "per-user"), "neither attempt kept a unit of per-user");
    }

    @Test
    void oneLimitFailingGivesBackWhatTheOthersTookAndFailsWithTheStoresReason() {
        String ip = unique("broken-ip");
        Map<String, String> who = Map.of("user", unique("grace"), "ip", ip);
        faults.fail(ip, StoreException.Kind.OUTCOME_UNKNOWN);
        CompletionException e = assertThrows(CompletionException.class, () -> decide(who, 2, false));
        StoreException cause = assertInstanceOf(StoreException.class, e.getCause());
        assertEquals(StoreException.Kind.OUTCOME_UNKNOWN, cause.kind());
        faults.heal(ip);
        Map<String, String> user = Map.of("user", who.get("user"));
        assertEquals(100, remaining(user, "per-user"), "per-user's 2 were given back");
        assertEquals(2, remaining(user, "trial"), "and the shadow limit's");
        assertEquals(48, remaining(user, "strikes"), "a limit that counts attempts keeps the charge of one that failed");
    }

    @Test
    void aGiveBackThatFailsIsCountedAndTheAnswerStillComes() {
        Map<String, String> who = Map.of("user", unique("heidi"), "ip", unique("ip"));
        for (int i = 0; i < 3; i++) {
            decide(who, 1, false);
        }
        faults.failRefunds(StoreException.Kind.UNAVAILABLE);
        long failedBefore = engine.refundsFailed();
        Verdict denied = ask(who, 1, false, 0).orTimeout(5, TimeUnit.SECONDS).join();
        assertFalse(denied.allowed());
        assertTrue(engine.refundsFailed() > failedBefore, "counted");
        faults.failRefunds(null);
        assertEquals(96, remaining(who, "per-user"), "the unit stays taken: under-admission, never over-admission");
    }

    @Test
    void aGiveBackThatNeverAnswersDoesNotHoldTheAnswerPastTheRefundWait() {
        Map<String, String> who = Map.of("user", unique("ivan"), "ip", unique("ip"));
        for (int i = 0; i < 3; i++) {
            decide(who, 1, false);
        }
        faults.hangRefunds(true);
        long start = System.nanoTime();
        Verdict denied = ask(who, 1, false, 0).orTimeout(5, TimeUnit.SECONDS).join();
        long waited = System.nanoTime() - start;
        faults.hangRefunds(false);
        assertFalse(denied.allowed());
        assertTrue(faults.refundsAsked() > 0, "the give-backs were asked for");
        assertTrue(waited >= REFUND_WAIT.toNanos(), "the answer waited for the give-backs, up to the refund wait: " + waited);
    }

    @Test
    void aRequestDecidedTogetherWithOthersIsConcludedOnItsOwn() {
        String heldIp = unique("held-ip");
        Map<String, String> slow = Map.of("user", unique("judy"), "ip", heldIp);
        Map<String, String> quick = Map.of("user", unique("ken"), "ip", unique("ip"));
        faults.hold(heldIp);
        List<CompletableFuture<Verdict>> both = engine.decideAll(List.of(
                new DecisionEngine.Request(DOMAIN.resolve(slow), 1, false, 0),
                new DecisionEngine.Request(DOMAIN.resolve(quick), 1, false, 0)));
        assertTrue(both.get(1).orTimeout(5, TimeUnit.SECONDS).join().allowed(), "not held up by the other's bucket");
        assertFalse(both.get(0).isDone(), "still waiting for its held bucket");
        faults.release(heldIp);
        assertTrue(both.get(0).orTimeout(5, TimeUnit.SECONDS).join().allowed());
    }
}
