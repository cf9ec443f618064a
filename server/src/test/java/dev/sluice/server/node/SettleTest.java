package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.SettleOutcome;
import dev.sluice.api.v1.SettleRequest;
import dev.sluice.api.v1.SettleResponse;
import dev.sluice.api.v1.SettleStatus;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Costs settled after the fact on a real node over gRPC: an estimate acquired, the actual cost
 * settled, the difference given back or charged (into debt or capped), once per request id, and
 * refused once the request is forgotten. The decision clock is a manual one.
 */
class SettleTest {

    private static final String POLICY = """
            domains:
              llm:
                rules:
                  - name: tokens
                    match: {model: big}
                    limits:
                      - {name: per_minute, algorithm: token_bucket, capacity: 1000, refill: 1000, refill_period: 1m, key: [org],
                         overdraft: allow, settle_within: 5m}
                      - {name: per_day, algorithm: fixed_window, limit: 100000, window: 1d, key: [org], settle_within: 5m}
                  - name: capped
                    match: {model: small}
                    limits:
                      - {name: small_per_minute, algorithm: sliding_window, limit: 100, window: 1m, key: [org]}
                  - name: both
                    match: {model: pair}
                    limits:
                      - {name: tokens, algorithm: leaky_bucket, capacity: 100, leak: 100, leak_period: 1m, key: [org]}
                      - {name: calls, algorithm: token_bucket, capacity: 15, refill: 1, refill_period: 1h, key: [org]}
            """;

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static SluiceNode node;
    private static ManagedChannel channel;
    private static RateLimiterGrpc.RateLimiterBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        node = TestNodes.single(TestNodes.uniqueCluster("settle"), CLOCK, TestNodes.policies(POLICY));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        stub = RateLimiterGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    private static AcquireResponse acquire(String model, String org, long cost, String requestId) {
        return stub.acquire(AcquireRequest.newBuilder().setDomain("llm").putDescriptors("model", model).putDescriptors("org", org)
                .setCost(cost).setRequestId(requestId).build());
    }

    private static SettleResponse settle(String model, String org, String requestId, long actual) {
        return stub.settle(SettleRequest.newBuilder().setDomain("llm").putDescriptors("model", model).putDescriptors("org", org)
                .setRequestId(requestId).setActualCost(actual).build());
    }

    @Test
    void aSmallerActualCostGivesTheDifferenceBackToEveryBucket() {
        assertEquals(Decision.ALLOWED, acquire("big", "o1", 800, "r1").getDecision());
        SettleResponse s = settle("big", "o1", "r1", 120);
        assertEquals(2, s.getLimitsCount());
        SettleStatus minute = s.getLimits(0);
        assertEquals("per_minute", minute.getName());
        assertEquals(SettleOutcome.SETTLED, minute.getOutcome());
        assertEquals(800, minute.getEstimate());
        assertEquals(-680, minute.getAdjusted());
        assertEquals(880, minute.getRemaining());
        assertEquals(99_880, s.getLimits(1).getRemaining(), "the day's window got its 680 back too");
        assertEquals(879, acquire("big", "o1", 1, "").getLimits(0).getRemaining(), "the bucket holds what the settle left");
    }

    @Test
    void aLargerActualCostGoesIntoDebtThatLaterRequestsWaitOut() {
        acquire("big", "o2", 500, "r2");
        SettleStatus minute = settle("big", "o2", "r2", 1_600).getLimits(0);
        assertEquals(1_100, minute.getAdjusted(), "all of the difference, past what was left");
        assertEquals(0, minute.getRemaining());
        assertEquals(600, minute.getDebt());
        AcquireResponse next = acquire("big", "o2", 1, "");
        assertEquals(Decision.DENIED, next.getDecision());
        assertEquals(36_060, next.getRetryAfter().getSeconds() * 1000 + next.getRetryAfter().getNanos() / 1_000_000,
                "601 units at 1000 a minute: 36.06 s");
        CLOCK.advance(Duration.ofMillis(36_060));
        assertEquals(Decision.ALLOWED, acquire("big", "o2", 1, "").getDecision(), "paid off");
    }

    @Test
    void withoutOverdraftAChargeTakesWhatIsLeft() {
        acquire("small", "o3", 30, "r3");
        acquire("small", "o3", 30, "r3b");
        SettleStatus s = settle("small", "o3", "r3", 200).getLimits(0);
        assertEquals(SettleOutcome.SETTLED, s.getOutcome());
        assertEquals(40, s.getAdjusted(), "40 were left of 100; the rest of the 170 is not charged (overdraft: cap)");
        assertEquals(0, s.getRemaining());
        assertEquals(0, s.getDebt());
    }

    @Test
    void aSettleIsAppliedOnceHoweverOftenItIsSent() {
        acquire("big", "o4", 100, "r4");
        assertEquals(-90, settle("big", "o4", "r4", 10).getLimits(0).getAdjusted());
        SettleStatus again = settle("big", "o4", "r4", 10).getLimits(0);
        assertEquals(SettleOutcome.ALREADY_SETTLED, again.getOutcome());
        assertEquals(0, again.getAdjusted());
        assertEquals(100, again.getEstimate());
        SettleStatus other = settle("big", "o4", "r4", 900).getLimits(0);
        assertEquals(SettleOutcome.ALREADY_SETTLED, other.getOutcome(), "a second settle with another cost changes nothing either");
        assertEquals(990, other.getRemaining());
        assertEquals(SettleOutcome.ALREADY_SETTLED, settle("big", "o4", "r4", 10).getLimits(1).getOutcome());
    }

    @Test
    void aForgottenRequestIsRefusedAndNothingIsApplied() {
        acquire("small", "o5", 10, "r5");
        CLOCK.advance(Duration.ofSeconds(11));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> settle("small", "o5", "r5", 1));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("\"r5\" is not remembered"), e.getStatus().getDescription());
        assertEquals(89, acquire("small", "o5", 1, "").getLimits(0).getRemaining(), "the 10 are still counted: nothing was given back");

        acquire("big", "o5", 100, "r6");
        CLOCK.advance(Duration.ofSeconds(200));
        assertEquals(SettleOutcome.SETTLED, settle("big", "o5", "r6", 50).getLimits(0).getOutcome(),
                "settle_within: 5m keeps the request settleable past the node's request memory");
        StatusRuntimeException never = assertThrows(StatusRuntimeException.class, () -> settle("big", "o5", "never-acquired", 5));
        assertEquals(Status.Code.FAILED_PRECONDITION, never.getStatus().getCode());
    }

    @Test
    void aRequestAnotherLimitDeniedHasNothingToSettle() {
        assertEquals(Decision.ALLOWED, acquire("pair", "o6", 10, "first").getDecision());
        AcquireResponse denied = acquire("pair", "o6", 10, "second");
        assertEquals(Decision.DENIED, denied.getDecision(), "calls: 5 left of 15");
        SettleResponse s = settle("pair", "o6", "second", 50);
        assertEquals(SettleOutcome.NOT_CHARGED, s.getLimits(0).getOutcome(), "its tokens were given back when calls denied it");
        assertEquals(SettleOutcome.FORGOTTEN, s.getLimits(1).getOutcome(), "a bucket that denies a request takes nothing and keeps no memory of it");
        assertEquals(90, s.getLimits(0).getRemaining());
        SettleStatus first = settle("pair", "o6", "first", 50).getLimits(0);
        assertEquals(40, first.getAdjusted());
        assertEquals(50, first.getRemaining());
    }

    @Test
    void badSettlesAreRefusedNamingTheField() {
        StatusRuntimeException noId = assertThrows(StatusRuntimeException.class, () -> settle("big", "o7", "", 5));
        assertEquals(Status.Code.INVALID_ARGUMENT, noId.getStatus().getCode());
        assertTrue(noId.getStatus().getDescription().startsWith("request_id: required"), noId.getStatus().getDescription());
        StatusRuntimeException negative = assertThrows(StatusRuntimeException.class, () -> settle("big", "o7", "x", -1));
        assertTrue(negative.getStatus().getDescription().startsWith("actual_cost: must not be negative"));
        StatusRuntimeException domain = assertThrows(StatusRuntimeException.class, () -> stub.settle(SettleRequest.newBuilder()
                .setDomain("nope").setRequestId("x").setActualCost(1).build()));
        assertEquals(Status.Code.NOT_FOUND, domain.getStatus().getCode());
    }

    @Test
    void thePolicyRefusesOverdraftAndSettleWithinWhereTheyCannotApply() {
        String bad = """
                domains:
                  d:
                    rules:
                      - name: r
                        limits:
                          - {name: a, algorithm: concurrency, limit: 3, lease: 30s, key: [org], overdraft: allow}
                          - {name: b, algorithm: token_bucket, capacity: 3, refill: 1, key: [org], overdraft: maybe}
                          - {name: c, algorithm: fixed_window, limit: 3, window: 1m, trickle: 1, key: [org], overdraft: allow}
                          - {name: e, algorithm: fixed_window, limit: 3, window: 1m, key: [org], overdraft: allow, count_denied: true}
                          - {name: f, algorithm: token_bucket, capacity: 3, refill: 1, key: [org], settle_within: 2h}
                """;
        PolicyException e = assertThrows(PolicyException.class, () -> PolicyLoader.parse(bad, "bad.yaml"));
        String report = e.report();
        assertTrue(report.contains("limits[0].overdraft: a concurrency limit counts slots held"), report);
        assertTrue(report.contains("limits[1].overdraft: overdraft must be 'allow'"), report);
        assertTrue(report.contains("limits[2].overdraft: a fixed window with a trickle cannot go into debt"), report);
        assertTrue(report.contains("limits[3].overdraft: overdraft: allow carries a window's excess"), report);
        assertTrue(report.contains("limits[4].settle_within: settle_within is at most 1h"), report);
    }
}
