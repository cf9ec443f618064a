package dev.sluice.server.api;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.store.BucketKey;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
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

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API's answers to every kind of malformed or unanswerable request, in process. */
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

    private static HazelcastInstance member;
    private static Server server;
    private static ManagedChannel channel;
    private static RateLimiterGrpc.RateLimiterBlockingStub stub;
    private static Policies policies;

    @BeforeAll
    static void start() throws Exception {
        ManualClock clock = ManualClock.fixed();
        member = Hazelcast.newHazelcastInstance(TestMembers.config(TestNodes.uniqueCluster("api"), clock));
        policies = TestNodes.policies(POLICY);
        RateLimiterService service = new RateLimiterService(() -> policies, new DecisionEngine(new BucketStore(member)), clock, 1);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = RateLimiterGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        member.shutdown();
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
        String key = policies.domain("shop").resolve(java.util.Map.of("user", "held")).get(0).bucketKey();
        IMap<BucketKey, Object> buckets = member.getMap(BucketStore.MAP_NAME);
        // Hazelcast locks belong to a thread, and calls here may run on the test thread: hold
        // the lock from a thread of its own so the decision really has to wait for it.
        ExecutorService holder = Executors.newSingleThreadExecutor();
        try {
            holder.submit(() -> buckets.lock(BucketKey.of(key))).get();
            // With the bucket locked, the first decision waits on its owner, filling the one slot.
            var pending = RateLimiterGrpc.newFutureStub(channel).acquire(request().putDescriptors("user", "held").build());
            try {
                StatusRuntimeException e = failure(request().putDescriptors("user", "other").build());
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().contains("overloaded"), e.getStatus().getDescription());
                assertFalse(pending.isDone(), "the first decision is still waiting for the bucket");
            } finally {
                holder.submit(() -> buckets.unlock(BucketKey.of(key))).get();
            }
            await().atMost(java.time.Duration.ofSeconds(10)).until(pending::isDone);
            assertEquals(Decision.ALLOWED, pending.get().getDecision());
            assertEquals(Decision.ALLOWED, stub.acquire(request().putDescriptors("user", "other").build()).getDecision());
        } finally {
            holder.shutdownNow();
        }
    }
}
