package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.ReleaseRequest;
import dev.sluice.api.v1.RenewRequest;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Concurrency limits on a real node: slots taken, given back, run out on the decision clock, renewed, mixed with a rate limit. */
class ConcurrencyLimitTest {

    private static final String POLICY = """
            domains:
              exports:
                rules:
                  - name: running
                    match: {kind: export}
                    limits: [{name: per_org, algorithm: concurrency, limit: 3, lease: 30s, key: [org]}]
                  - name: mixed
                    match: {kind: mixed}
                    limits:
                      - {name: slots, algorithm: concurrency, limit: 5, lease: 30s, key: [org]}
                      - {name: starts, algorithm: token_bucket, capacity: 2, refill: 1, refill_period: 1h, key: [org]}
            """;

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static SluiceNode node;
    private static ManagedChannel channel;
    private static RateLimiterGrpc.RateLimiterBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        node = TestNodes.single(TestNodes.uniqueCluster("concurrency"), CLOCK, TestNodes.policies(POLICY));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        stub = RateLimiterGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    private static AcquireResponse take(String kind, String org, String requestId) {
        return stub.acquire(AcquireRequest.newBuilder().setDomain("exports").putDescriptors("kind", kind).putDescriptors("org", org)
                .setRequestId(requestId).build());
    }

    private static boolean release(String kind, String org, String lease) {
        return stub.release(ReleaseRequest.newBuilder().setDomain("exports").putDescriptors("kind", kind).putDescriptors("org", org)
                .setLeaseId(lease).build()).getLeases(0).getHeld();
    }

    @Test
    void noMoreThanTheLimitAreHeldAndAReleasedSlotIsFreeAgainOnce() {
        List<String> leases = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            AcquireResponse r = take("export", "o1", "");
            assertEquals(Decision.ALLOWED, r.getDecision());
            assertEquals(2 - i, r.getLimits(0).getRemaining());
            assertTrue(r.getLimits(0).getInFlight());
            assertEquals(16, r.getLeaseId().length(), "a lease id the node made: " + r.getLeaseId());
            leases.add(r.getLeaseId());
        }
        AcquireResponse full = take("export", "o1", "");
        assertEquals(Decision.DENIED, full.getDecision());
        assertTrue(full.getLeaseId().isEmpty(), "a denied request holds nothing");
        assertEquals(30, full.getRetryAfter().getSeconds(), "until the first lease runs out, if nobody releases before");
        assertEquals(Decision.ALLOWED, take("export", "o2", "").getDecision(), "another org's slots are its own");

        assertTrue(release("export", "o1", leases.get(1)));
        assertFalse(release("export", "o1", leases.get(1)), "released twice, given back once");
        AcquireResponse again = take("export", "o1", "job-9");
        assertEquals(Decision.ALLOWED, again.getDecision());
        assertEquals("job-9", again.getLeaseId(), "the request id is the lease id when there is one");
        AcquireResponse retry = take("export", "o1", "job-9");
        assertEquals(Decision.ALLOWED, retry.getDecision(), "a retry of a request that holds its slot is answered as it was");
        assertEquals(Decision.DENIED, take("export", "o1", "").getDecision(), "and took no second slot");
    }

    @Test
    void aLeaseRunsOutOnTheDecisionClockUnlessRenewed() {
        AcquireResponse kept = take("export", "o3", "kept");
        take("export", "o3", "dropped");
        take("export", "o3", "third");
        assertEquals(Decision.DENIED, take("export", "o3", "").getDecision());
        CLOCK.advance(Duration.ofSeconds(20));
        var renewed = stub.renew(RenewRequest.newBuilder().setDomain("exports").putDescriptors("kind", "export").putDescriptors("org", "o3")
                .setLeaseId(kept.getLeaseId()).build());
        assertTrue(renewed.getLeases(0).getHeld());
        assertEquals(30, renewed.getLeases(0).getExpiresAfter().getSeconds());
        CLOCK.advance(Duration.ofSeconds(11));
        AcquireResponse after = take("export", "o3", "");
        assertEquals(Decision.ALLOWED, after.getDecision(), "two leases ran out after 31 s: their holders never released");
        assertEquals(1, after.getLimits(0).getRemaining(), "the renewed lease still holds its slot");
        var gone = stub.renew(RenewRequest.newBuilder().setDomain("exports").putDescriptors("kind", "export").putDescriptors("org", "o3")
                .setLeaseId("dropped").build());
        assertFalse(gone.getLeases(0).getHeld(), "a lease that ran out cannot be renewed: its slot may be someone else's");
    }

    @Test
    void withARateLimitInOneRuleItIsAllOrNothing() {
        assertEquals(Decision.ALLOWED, take("mixed", "o4", "a").getDecision());
        assertEquals(Decision.ALLOWED, take("mixed", "o4", "b").getDecision());
        AcquireResponse third = take("mixed", "o4", "c");
        assertEquals(Decision.DENIED, third.getDecision(), "the token bucket of 2 is spent");
        assertEquals(3, third.getLimits(0).getRemaining(), "the slot the denied request took was given back: 5 - 2 held");
        assertTrue(release("mixed", "o4", "a"));
        assertEquals(3, stub.acquire(AcquireRequest.newBuilder().setDomain("exports").putDescriptors("kind", "mixed")
                .putDescriptors("org", "o4").setDryRun(true).build()).getLimits(0).getRemaining(), "b alone holds a slot: 5 - 1, less the 1 a dry run would take");
    }

    @Test
    void releaseNamesWhatIsWrong() {
        StatusRuntimeException noLease = assertThrows(StatusRuntimeException.class, () -> stub.release(ReleaseRequest.newBuilder()
                .setDomain("exports").putDescriptors("org", "o1").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, noLease.getStatus().getCode());
        assertTrue(noLease.getStatus().getDescription().startsWith("lease_id: required"), noLease.getStatus().getDescription());
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> stub.release(ReleaseRequest.newBuilder()
                .setDomain("nowhere").setLeaseId("x").build()));
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
        assertEquals(0, stub.release(ReleaseRequest.newBuilder().setDomain("exports").putDescriptors("kind", "none").setLeaseId("x")
                .build()).getLeasesCount(), "no concurrency limit applies: nothing to release");
    }
}
