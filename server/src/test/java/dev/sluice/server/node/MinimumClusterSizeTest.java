package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A member alone in a cluster that must have two refuses to decide: UNAVAILABLE, not a guess. */
class MinimumClusterSizeTest {

    @Test
    void aMemberBelowTheMinimumClusterSizeAnswersUnavailable() throws InterruptedException {
        SluiceNode node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("minimum"), ManualClock.fixed())
                .policies(PolicyLoader.bundledDemo()).minClusterSize(2).build());
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> RateLimiterGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .acquire(AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "1.1.1.1").build()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
            assertTrue(e.getStatus().getDescription().contains("below its minimum size"), e.getStatus().getDescription());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            node.close();
        }
    }
}
