package dev.sluice.server.node;

import com.hazelcast.internal.util.ConcurrencyUtil;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every thread a node starts is named for the node's work and gone once the node has closed; nothing JVM-wide is left changed. */
class NodeThreadsTest {

    private static Set<Thread> live() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).collect(Collectors.toSet());
    }

    /** The threads started since {@code before} that a node owns: its own and its member's. */
    private static List<String> nodeThreads(Set<Thread> before) {
        return live().stream().filter(t -> !before.contains(t)).map(Thread::getName)
                .filter(n -> n.startsWith("sluice-") || n.startsWith("hz.")).sorted().toList();
    }

    private static void decideOnce(SluiceNode node) throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        try {
            assertEquals(Decision.ALLOWED, RateLimiterGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .acquire(AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "192.0.2.1").build()).getDecision());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aClosedNodeLeavesNoThreadOfItsOwnBehind() throws Exception {
        Set<Thread> before = live();
        Executor hazelcastDefault = ConcurrencyUtil.getDefaultAsyncExecutor();
        SluiceNode node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("threads"), ManualClock.fixed())
                .policies(PolicyLoader.bundledDemo()).build());
        List<String> running;
        try {
            decideOnce(node);
            running = nodeThreads(before);
            assertTrue(running.stream().anyMatch(n -> n.startsWith("sluice-grpc-")), "its own event loops: " + running);
            assertTrue(running.stream().anyMatch(n -> n.contains("partition-operation")), running.toString());
            assertSame(hazelcastDefault, ConcurrencyUtil.getDefaultAsyncExecutor(),
                    "on Hazelcast's internals a node changes nothing JVM-wide, so an embedder's own Hazelcast is as it was");
        } finally {
            node.close();
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertEquals(List.of(), nodeThreads(before),
                "threads still running after close"));
    }

    @Test
    void onThePublicApiTheAsyncPoolIsLeasedWhileTheNodeRunsAndGivenBack() throws Exception {
        Set<Thread> before = live();
        Executor hazelcastDefault = ConcurrencyUtil.getDefaultAsyncExecutor();
        SluiceNode node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("threads-public"), ManualClock.fixed())
                .policies(PolicyLoader.bundledDemo()).hazelcastInternals(false).build());
        try {
            decideOnce(node);
            if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() < 2) {
                assertNotSame(hazelcastDefault, ConcurrencyUtil.getDefaultAsyncExecutor(), "a proper pool while the node runs");
            }
        } finally {
            node.close();
        }
        assertSame(hazelcastDefault, ConcurrencyUtil.getDefaultAsyncExecutor(), "given back when the node closed");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertEquals(List.of(), nodeThreads(before)));
    }
}
