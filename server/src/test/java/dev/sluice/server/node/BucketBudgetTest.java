package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A flood of unique keys on a day-long window, past the member's bucket budget: the buckets it
 * holds keep deciding exactly and in time, and a request that would create a bucket gets its
 * domain's choice (refused, denied, or allowed untracked).
 */
class BucketBudgetTest {

    private static final String POLICY = """
            domains:
              refuse:
                rules: [{name: r, limits: [{name: l, algorithm: fixed_window, limit: 5, calendar: day, key: [user]}]}]
              deny:
                when_full: deny
                rules: [{name: r, limits: [{name: l, algorithm: fixed_window, limit: 5, calendar: day, key: [user]}]}]
              allow:
                when_full: allow
                rules: [{name: r, limits: [{name: l, algorithm: fixed_window, limit: 5, calendar: day, key: [user]}]}]
            """;
    private static final long BUDGET = 200;
    private static SluiceNode node;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("budget"), ManualClock.fixed())
                .policies(TestNodes.policies(POLICY)).maxBuckets(BUDGET).build());
        channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    private static AcquireResponse acquire(String domain, String user, long deadlineMillis) {
        return RateLimiterGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
                .acquire(AcquireRequest.newBuilder().setDomain(domain).putDescriptors("user", user).build());
    }

    @Test
    void pastTheBudgetHeldBucketsKeepDecidingAndNewOnesGetTheirDomainsAnswer() throws Exception {
        for (int i = 0; i < 10; i++) {
            assertEquals(4, acquire("deny", "regular-" + i, 10_000).getLimits(0).getRemaining());
        }
        // Another client, on the buckets that exist, with a client's usual deadline, all through the flood.
        AtomicBoolean flooding = new AtomicBoolean(true);
        AtomicLong slowest = new AtomicLong();
        AtomicInteger regularCalls = new AtomicInteger();
        CompletableFuture<Void> regular = CompletableFuture.runAsync(() -> {
            while (flooding.get()) {
                long t0 = System.nanoTime();
                acquire("refuse", "steady", 50).getDecision();
                slowest.accumulateAndGet(System.nanoTime() - t0, Math::max);
                regularCalls.incrementAndGet();
            }
        });
        int flood = 0;
        try {
            // Unique users, as an attacker sends them, until the member says it holds all it may.
            while (!node.bucketBudget().full()) {
                for (int i = 0; i < 100; i++) {
                    try {
                        acquire("refuse", "flood-" + flood++, 10_000);
                    } catch (StatusRuntimeException e) {
                        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
                    }
                }
                if (flood > 50_000) {
                    break;
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> node.bucketBudget().full());
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> acquire("refuse", "newcomer", 10_000));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
            assertTrue(refused.getStatus().getDescription().startsWith("buckets:"), refused.getStatus().getDescription());
            AcquireResponse denied = acquire("deny", "newcomer", 10_000);
            assertEquals(Decision.DENIED, denied.getDecision(), "a domain that chose deny denies new buckets");
            for (int i = 0; i < 8; i++) {
                AcquireResponse untracked = acquire("allow", "newcomer", 10_000);
                assertEquals(Decision.ALLOWED, untracked.getDecision(), "a domain that chose allow allows, untracked");
                assertEquals(4, untracked.getLimits(0).getRemaining(), "nothing was counted");
            }
            for (int i = 0; i < 10; i++) {
                for (int left = 3; left >= 0; left--) {
                    assertEquals(left, acquire("deny", "regular-" + i, 10_000).getLimits(0).getRemaining(), "a held bucket decides exactly");
                }
                assertEquals(Decision.DENIED, acquire("deny", "regular-" + i, 10_000).getDecision());
            }
        } finally {
            flooding.set(false);
        }
        regular.get(30, TimeUnit.SECONDS);
        assertTrue(regularCalls.get() > 0);
        assertTrue(slowest.get() < TimeUnit.MILLISECONDS.toNanos(50), "the other client's calls stayed within 50 ms: slowest "
                + TimeUnit.NANOSECONDS.toMicros(slowest.get()) + " µs");
        assertTrue(node.bucketBudget().held() <= BUDGET + flood, "held " + node.bucketBudget().held());
        assertTrue(node.bucketBudget().refused() > 0 && node.bucketBudget().denied() > 0 && node.bucketBudget().untracked() >= 8);
    }
}
