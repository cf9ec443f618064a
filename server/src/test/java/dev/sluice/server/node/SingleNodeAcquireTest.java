package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.Header;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A real node (gRPC over a real socket, a Hazelcast member over TCP) serving the bundled demo
 * policy: 10 requests per second per ip, time driven through the clock seam.
 */
class SingleNodeAcquireTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static SluiceNode node;
    private static ManagedChannel channel;
    private static RateLimiterGrpc.RateLimiterBlockingStub stub;

    @BeforeAll
    static void start() {
        node = TestNodes.single(TestNodes.uniqueCluster("single"), CLOCK, PolicyLoader.bundledDemo());
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        stub = RateLimiterGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    private static AcquireResponse acquire(String ip) {
        return stub.withDeadlineAfter(5, TimeUnit.SECONDS).acquire(AcquireRequest.newBuilder()
                .setDomain("demo").putDescriptors("ip", ip).build());
    }

    @Test
    void eleventhRequestInASecondFromOneIpIsDeniedWhileAnotherIpIsAllowed() {
        for (int i = 1; i <= 10; i++) {
            AcquireResponse r = acquire("10.0.0.1");
            assertEquals(Decision.ALLOWED, r.getDecision(), "request " + i);
            assertEquals(10 - i, r.getLimits(0).getRemaining(), "remaining after request " + i);
            assertEquals(200, r.getHttpStatus());
        }
        AcquireResponse denied = acquire("10.0.0.1");
        assertEquals(Decision.DENIED, denied.getDecision());
        assertEquals(429, denied.getHttpStatus());
        LimitStatus status = denied.getLimits(0);
        assertEquals("per-ip", status.getName());
        assertEquals(Decision.DENIED, status.getDecision());
        assertEquals(10, status.getLimit());
        assertEquals(0, status.getRemaining());
        // Empty at this instant; full again after one second; one token back after 100 ms.
        assertEquals(Duration.ofSeconds(1), toDuration(status.getResetAfter()));
        assertEquals(Duration.ofSeconds(1), toDuration(status.getWindow()));
        assertEquals(Duration.ofMillis(100), toDuration(denied.getRetryAfter()));
        assertEquals("1", header(denied, "Retry-After"));
        assertEquals("\"per-ip\";q=10;w=1", header(denied, "RateLimit-Policy"));
        assertEquals("\"per-ip\";r=0;t=1", header(denied, "RateLimit"));

        AcquireResponse other = acquire("10.0.0.2");
        assertEquals(Decision.ALLOWED, other.getDecision());
        assertEquals(9, other.getLimits(0).getRemaining());
        assertEquals(Duration.ZERO, toDuration(other.getRetryAfter()));
        assertEquals("", other.getBody());
    }

    @Test
    void tokensComeBackAtTheRefillRate() {
        for (int i = 0; i < 10; i++) {
            acquire("10.0.1.1");
        }
        assertEquals(Decision.DENIED, acquire("10.0.1.1").getDecision());
        CLOCK.advance(Duration.ofMillis(99));
        assertEquals(Decision.DENIED, acquire("10.0.1.1").getDecision());
        CLOCK.advance(Duration.ofMillis(1));
        AcquireResponse back = acquire("10.0.1.1");
        assertEquals(Decision.ALLOWED, back.getDecision());
        assertEquals(0, back.getLimits(0).getRemaining());
        assertEquals(Decision.DENIED, acquire("10.0.1.1").getDecision());
    }

    @Test
    void dryRunAnswersButConsumesNothing() {
        AcquireRequest dry = AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "10.0.2.1")
                .setDryRun(true).setCost(4).build();
        for (int i = 0; i < 5; i++) {
            AcquireResponse r = stub.acquire(dry);
            assertEquals(Decision.ALLOWED, r.getDecision());
            assertEquals(6, r.getLimits(0).getRemaining(), "as if 4 were taken from a full bucket");
        }
        for (int i = 1; i <= 10; i++) {
            assertEquals(10 - i, acquire("10.0.2.1").getLimits(0).getRemaining());
        }
        AcquireResponse dryDenied = stub.acquire(dry);
        assertEquals(Decision.DENIED, dryDenied.getDecision());
        assertEquals(Duration.ofMillis(400), toDuration(dryDenied.getRetryAfter()));
        CLOCK.advance(Duration.ofMillis(400));
        assertEquals(Decision.ALLOWED, stub.acquire(dry).getDecision());
        assertEquals(Decision.ALLOWED, stub.acquire(dry).getDecision(), "the dry run left the 4 tokens in place");
    }

    @Test
    void aBatchDecidesEachRequestAsAcquireWouldInOrder() {
        var batch = dev.sluice.api.v1.AcquireBatchRequest.newBuilder();
        for (int i = 0; i < 12; i++) {
            batch.addRequests(AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "10.0.3.1"));
        }
        batch.addRequests(AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "10.0.3.2"));
        batch.addRequests(AcquireRequest.newBuilder().setDomain(""));
        batch.addRequests(AcquireRequest.newBuilder().setDomain("nope"));
        var results = stub.acquireBatch(batch.build()).getResultsList();
        assertEquals(15, results.size());
        long allowed = results.subList(0, 12).stream().filter(r -> r.getResponse().getDecision() == Decision.ALLOWED).count();
        assertEquals(10, allowed, "ten of the twelve for one ip, whatever order the cluster saw them in");
        assertEquals(Decision.ALLOWED, results.get(12).getResponse().getDecision(), "another ip, its own bucket");
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT.value(), results.get(13).getError().getCode());
        assertEquals(true, results.get(13).getError().getMessage().startsWith("domain:"));
        assertEquals(io.grpc.Status.Code.NOT_FOUND.value(), results.get(14).getError().getCode());

        var empty = org.junit.jupiter.api.Assertions.assertThrows(io.grpc.StatusRuntimeException.class,
                () -> stub.acquireBatch(dev.sluice.api.v1.AcquireBatchRequest.getDefaultInstance()));
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
    }

    @Test
    void healthIsServingOnceTheMemberHasJoined() {
        HealthCheckResponse all = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, all.getStatus());
        HealthCheckResponse service = HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService(RateLimiterGrpc.SERVICE_NAME).build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, service.getStatus());
        assertEquals(1, node.hazelcast().getCluster().getMembers().size());
    }

    @Test
    void reflectionListsTheRateLimiterSoGrpcurlWorks() throws InterruptedException {
        java.util.concurrent.BlockingQueue<io.grpc.reflection.v1.ServerReflectionResponse> answers =
                new java.util.concurrent.LinkedBlockingQueue<>();
        var requests = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel).serverReflectionInfo(
                new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(io.grpc.reflection.v1.ServerReflectionResponse value) {
                        answers.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
        var answer = answers.poll(5, TimeUnit.SECONDS);
        requests.onCompleted();
        assertEquals(true, answer != null && answer.getListServicesResponse().getServiceList().stream()
                .anyMatch(s -> s.getName().equals("sluice.v1.RateLimiter")), String.valueOf(answer));
    }

    static Duration toDuration(com.google.protobuf.Duration d) {
        return Duration.ofSeconds(d.getSeconds(), d.getNanos());
    }

    static String header(AcquireResponse r, String name) {
        return r.getHeadersList().stream().filter(h -> h.getName().equals(name)).map(Header::getValue).findFirst()
                .orElseThrow(() -> new AssertionError("no header " + name + " in " + r.getHeadersList()));
    }
}
