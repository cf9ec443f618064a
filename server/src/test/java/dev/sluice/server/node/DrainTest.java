package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A stopping node turns NOT_SERVING first and keeps answering for the drain delay, so traffic can move away. */
class DrainTest {

    @Test
    void aStoppingNodeReportsNotServingButStillAnswersDuringTheDrainDelay() throws Exception {
        SluiceNode node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("drain"), ManualClock.fixed())
                .policies(PolicyLoader.bundledDemo()).drainDelay(Duration.ofSeconds(2)).build());
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        try {
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(node::close);
            await().atMost(Duration.ofSeconds(5)).until(() -> HealthGrpc.newBlockingStub(channel)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.NOT_SERVING);
            assertEquals(Decision.ALLOWED, RateLimiterGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
                    .acquire(AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "1.2.3.4").build()).getDecision(),
                    "still answering while draining");
            stopping.get(30, TimeUnit.SECONDS);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            node.close();
        }
    }
}
