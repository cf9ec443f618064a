package dev.sluice.server.api;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.store.MemoryBuckets;
import dev.sluice.server.store.StoreContext;
import dev.sluice.server.store.StoreException;
import dev.sluice.server.testing.FaultyBuckets;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.testing.TestThreads;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API's answers to every kind of malformed or unanswerable request, in process, over the in-memory store. */
class RateLimiterServiceTest {

    private static final String POLICY = """
            domains:
              shop:
                rules:
                  - name: per-user
                    match: {user: {present: true}}
                    limits:
                      - name: per-user
                        algorithm: token_bucket
                        capacity: 5
                        refill: 5
                        key: [user]
            """;

    private static FaultyBuckets buckets;
    private static Server server;
    private static ManagedChannel channel;
    private static RateLimiterGrpc.RateLimiterBlockingStub stub;
    private static Policies policies;

    @BeforeAll
    static void start() throws Exception {
        ManualClock clock = ManualClock.fixed();
        policies = TestNodes.policies(POLICY);
        buckets = new FaultyBuckets(new MemoryBuckets(new StoreContext(clock, Duration.ofMinutes(10), Duration.ofSeconds(10))));
        DecisionPath path = new DecisionPath(() -> policies, new DecisionEngine(buckets, TestThreads.FOLLOW_UPS), clock, 1);
        RateLimiterService service = new RateLimiterService(path, EventLoops.none());
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = RateLimiterGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static AcquireRequest.Builder request() {
        return AcquireRequest.newBuilder().setDomain("shop").putDescriptors("user", "u1");
    }

    private static StatusRuntimeException failure(AcquireRequest r) {
        return assertThrows(StatusRuntimeException.class, () -> stub.acquire(r));
    }

    private static void assertInvalid(AcquireRequest r, String field) {
        StatusRuntimeException e = failure(r);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith(field), "names " + field + ": " + e.getStatus().getDescription());
    }

    @Test
    void emptyDomainIsInvalidAndNamesTheField() {
        assertInvalid(request().setDomain("").build(), "domain:");
    }

    @Test
    void overlongDomainIsInvalid() {
        assertInvalid(request().setDomain("d".repeat(129)).build(), "domain:");
    }

    @Test
    void negativeCostIsInvalid() {
        assertInvalid(request().setCost(-1).build(), "cost:");
    }

    @Test
    void tooManyDescriptorsIsInvalid() {
        AcquireRequest.Builder r = request();
        for (int i = 0; i < 32; i++) {
            r.putDescriptors("d" + i, "v");
        }
        assertInvalid(r.build(), "descriptors:");
    }

    @Test
    void oversizedDescriptorValueIsInvalidAndNamesTheDescriptor() {
        assertInvalid(request().putDescriptors("user", "x".repeat(513)).build(), "descriptors[\"user\"]:");
    }

    @Test
    void oversizedDescriptorNameIsInvalid() {
        assertInvalid(request().putDescriptors("n".repeat(65), "v").build(), "descriptors:");
    }

    @Test
    void emptyDescriptorNameIsInvalid() {
        assertInvalid(request().putDescriptors("", "v").build(), "descriptors:");
    }

    @Test
    void overlongRequestIdIsInvalid() {
        assertInvalid(request().setRequestId("r".repeat(129)).build(), "request_id:");
    }

    @Test
    void unknownDomainIsNotFoundAndNamed() {
        StatusRuntimeException e = failure(request().setDomain("nope").build());
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("\"nope\""), e.getStatus().getDescription());
    }

    @Test
    void knownDomainWithNoMatchingRuleIsAllowedWithNoLimits() {
        AcquireResponse r = stub.acquire(AcquireRequest.newBuilder().setDomain("shop").putDescriptors("ip", "1.2.3.4").build());
        assertEquals(Decision.ALLOWED, r.getDecision());
        assertEquals(0, r.getLimitsCount());
        assertEquals(200, r.getHttpStatus());
        assertEquals(0, r.getHeadersCount());
    }

    @Test
    void costAboveWhatALimitCanEverAllowIsInvalidAndNamesTheLimit() {
        StatusRuntimeException e = failure(request().setCost(6).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("'per-user'"), e.getStatus().getDescription());
    }

    @Test
    void zeroCostMeansOne() {
        AcquireResponse r = stub.acquire(request().putDescriptors("user", "zero-cost").setCost(0).build());
        assertEquals(4, r.getLimits(0).getRemaining());
    }

    @Test
    void overloadedNodeFailsFastWithUnavailableInsteadOfQueueing() throws Exception {
        // With its bucket held, the first decision waits on the store, filling the one slot.
        buckets.hold("held");
        var pending = RateLimiterGrpc.newFutureStub(channel).acquire(request().putDescriptors("user", "held").build());
        try {
            StatusRuntimeException e = failure(request().putDescriptors("user", "other").build());
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().contains("overloaded"), e.getStatus().getDescription());
            assertFalse(pending.isDone(), "the first decision is still waiting for the bucket");
        } finally {
            buckets.release("held");
        }
        await().atMost(Duration.ofSeconds(10)).until(pending::isDone);
        assertEquals(Decision.ALLOWED, pending.get().getDecision());
        assertEquals(Decision.ALLOWED, stub.acquire(request().putDescriptors("user", "other").build()).getDecision());
    }

    @Test
    void aStoreWhoseOutcomeIsUnknownIsUnavailableWithAdviceToRetryWithAnId() {
        buckets.fail("unknowable", StoreException.Kind.OUTCOME_UNKNOWN);
        StatusRuntimeException e = failure(request().putDescriptors("user", "unknowable").build());
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("request_id"), e.getStatus().getDescription());
    }

    @Test
    void aSideOfTheClusterBelowItsMinimumSizeIsUnavailableAndSaysSo() {
        buckets.fail("small-side", StoreException.Kind.BELOW_MINIMUM_SIZE);
        StatusRuntimeException e = failure(request().putDescriptors("user", "small-side").build());
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("minimum size"), e.getStatus().getDescription());
    }

    @Test
    void aStoreDefectIsInternal() {
        buckets.fail("defect", StoreException.Kind.FAILED);
        assertEquals(Status.Code.INTERNAL, failure(request().putDescriptors("user", "defect").build()).getStatus().getCode());
    }
}
