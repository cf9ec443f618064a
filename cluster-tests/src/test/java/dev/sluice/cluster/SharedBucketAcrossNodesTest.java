package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two nodes form one cluster over real TCP; a bucket is one bucket whichever node is asked, so a
 * caller spreading requests over both still gets exactly the limit.
 */
class SharedBucketAcrossNodesTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static final List<SluiceNode> NODES = new ArrayList<>();
    private static final List<ManagedChannel> CHANNELS = new ArrayList<>();

    @BeforeAll
    static void start() {
        NODES.addAll(TestNodes.startAll(TestNodes.cluster(TestNodes.uniqueCluster("shared"), CLOCK, PolicyLoader.bundledDemo(), 2)));
        for (SluiceNode n : NODES) {
            CHANNELS.add(ManagedChannelBuilder.forAddress("127.0.0.1", n.port()).usePlaintext().build());
        }
    }

    @AfterAll
    static void stop() throws InterruptedException {
        for (ManagedChannel c : CHANNELS) {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        NODES.forEach(SluiceNode::close);
    }

    @Test
    void requestsSpreadOverBothNodesShareOneBucket() {
        int allowed = 0;
        for (int i = 0; i < 30; i++) {
            var stub = RateLimiterGrpc.newBlockingStub(CHANNELS.get(i % 2)).withDeadlineAfter(5, TimeUnit.SECONDS);
            var r = stub.acquire(AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "192.0.2.7").build());
            if (r.getDecision() == Decision.ALLOWED) {
                allowed++;
            }
        }
        assertEquals(10, allowed, "capacity 10 with the clock standing still, whichever node answers");
    }
}
