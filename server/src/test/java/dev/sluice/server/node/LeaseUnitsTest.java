package dev.sluice.server.node;

import com.google.protobuf.Duration;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.Header;
import dev.sluice.api.v1.LeaseRequest;
import dev.sluice.api.v1.LeaseResponse;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.SettleRequest;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Lease RPC on a real node: units taken all or nothing, a template to repeat, cut to a window's end, refused where it cannot hold. */
class LeaseUnitsTest {

    private static final String POLICY = """
            domains:
              api:
                rules:
                  - name: hot
                    match: {kind: hot}
                    limits:
                      - {name: burst, algorithm: token_bucket, capacity: 1000, refill: 100, key: [tenant]}
                      - {name: minute, algorithm: fixed_window, limit: 5000, window: 1m, key: [tenant]}
                  - name: sliding
                    match: {kind: sliding}
                    limits: [{name: smooth, algorithm: sliding_window, limit: 100, window: 10s, key: [tenant]}]
                  - name: dialect
                    match: {kind: dialect}
                    response: {headers: x-ratelimit, extra_headers: {X-Left: "${remaining} of ${limit}"}}
                    limits: [{name: calls, algorithm: token_bucket, capacity: 50, refill: 1, key: [tenant]}]
            """;

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static SluiceNode node;
    private static ManagedChannel channel;
    private static RateLimiterGrpc.RateLimiterBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        node = TestNodes.single(TestNodes.uniqueCluster("lease-units"), CLOCK, TestNodes.policies(POLICY));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        stub = RateLimiterGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    private static LeaseResponse lease(String kind, String tenant, long units, String id, long validForMillis) {
        return stub.lease(LeaseRequest.newBuilder().setDomain("api").putDescriptors("kind", kind).putDescriptors("tenant", tenant)
                .setUnits(units).setRequestId(id).setValidFor(Duration.newBuilder().setSeconds(validForMillis / 1000)
                        .setNanos((int) (validForMillis % 1000 * 1_000_000))).build());
    }

    private static long remaining(String kind, String tenant, int limit) {
        return stub.acquire(AcquireRequest.newBuilder().setDomain("api").putDescriptors("kind", kind).putDescriptors("tenant", tenant)
                .setDryRun(true).build()).getLimits(limit).getRemaining() + 1;
    }

    @Test
    void aLeaseTakesItsUnitsFromEveryBucketAndTheRestComesBackBySettle() {
        LeaseResponse l = lease("hot", "t1", 200, "lease-1", 250);
        assertTrue(l.getGranted());
        assertEquals(200, l.getUnits());
        assertEquals(800, l.getAnswer().getLimits(0).getRemaining(), "the bucket after the lease");
        assertEquals(4800, l.getAnswer().getLimits(1).getRemaining());
        assertEquals(Decision.ALLOWED, l.getAnswer().getDecision());
        assertEquals(800, remaining("hot", "t1", 0), "the units count as spent at once");
        assertEquals(4800, remaining("hot", "t1", 1));
        String state = l.getAnswer().getHeadersList().stream().filter(h -> h.getName().equals("RateLimit")).findFirst()
                .map(Header::getValue).orElseThrow();
        assertTrue(state.contains("\"burst\";r=\u0001r0\u0001") && state.contains("\"minute\";r=\u0001r1\u0001"), state);

        var back = stub.settle(SettleRequest.newBuilder().setDomain("api").putDescriptors("kind", "hot").putDescriptors("tenant", "t1")
                .setRequestId("lease-1").setActualCost(150).build());
        assertEquals(-50, back.getLimits(0).getAdjusted(), "150 of 200 used: 50 back");
        assertEquals(850, remaining("hot", "t1", 0));
        assertEquals(4850, remaining("hot", "t1", 1));
    }

    @Test
    void aLeaseNeverOutlastsTheWindowItsUnitsCountIn() {
        long intoMinute = Math.floorMod(CLOCK.nanos(), 60_000_000_000L);
        long left = 60_000_000_000L - intoMinute;
        LeaseResponse l = lease("hot", "t2", 10, "lease-2", 4_000);
        long validFor = l.getValidFor().getSeconds() * 1_000_000_000L + l.getValidFor().getNanos();
        assertEquals(Math.min(4_000_000_000L, left), validFor, "cut to the minute's end");
    }

    @Test
    void aLeaseTooLargeIsDeniedAsAnAcquireWouldBe() {
        assertTrue(lease("hot", "t3", 900, "a", 250).getGranted());
        LeaseResponse no = lease("hot", "t3", 200, "b", 250);
        assertFalse(no.getGranted());
        assertEquals(Decision.DENIED, no.getAnswer().getDecision());
        assertEquals(0, no.getUnits());
        assertEquals(100, remaining("hot", "t3", 0), "a denied lease takes nothing");
    }

    @Test
    void otherDialectsCarryThePlaceholdersToo() {
        LeaseResponse l = lease("dialect", "t4", 5, "d", 250);
        assertEquals("\u0001r0\u0001", header(l, "X-RateLimit-Remaining"));
        assertEquals("\u0001r0\u0001 of 50", header(l, "X-Left"));
    }

    @Test
    void unitsThatLeaveOneByOneCannotBeLeasedAndBadLeasesAreRefused() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> lease("sliding", "t5", 5, "s", 250));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("limit 'smooth' (sliding_window"), e.getStatus().getDescription());
        assertEquals(100, remaining("sliding", "t5", 0), "nothing was taken");
        assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class, () -> lease("hot", "t5", 5, "", 250))
                .getStatus().getCode());
        assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class, () -> lease("hot", "t5", 0, "z", 250))
                .getStatus().getCode());
        assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class, () -> lease("hot", "t5", 5, "z", 6_000))
                .getStatus().getCode());
    }

    private static String header(LeaseResponse l, String name) {
        return l.getAnswer().getHeadersList().stream().filter(h -> h.getName().equalsIgnoreCase(name)).findFirst().map(Header::getValue)
                .orElseThrow(() -> new AssertionError("no " + name + " in " + l.getAnswer().getHeadersList()));
    }
}
