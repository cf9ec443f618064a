package dev.sluice.server.node;

import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.partition.InternalPartitionService;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node assigns the cluster's partitions as it starts, so members that join later receive the
 * partition table as they join, and the first decisions never race it to a backup member (a
 * backup arriving first is dropped, and the decision fails as indeterminate after the backup timeout).
 */
class PartitionAssignmentTest {

    @Test
    void aStartedNodeHasEveryPartitionAssignedBeforeAnyDecisionAndAJoiningMemberKnowsThem() {
        List<NodeSettings> settings = twoNodes("assign");
        try (SluiceNode first = TestNodes.start(settings.get(0)); SluiceNode second = TestNodes.start(settings.get(1))) {
            for (SluiceNode node : List.of(first, second)) {
                InternalPartitionService partitions = ((HazelcastInstanceProxy) node.hazelcast()).getOriginal().node
                        .getPartitionService();
                for (int id = 0; id < partitions.getPartitionCount(); id++) {
                    // Looked at without triggering an assignment of its own.
                    assertNotNull(partitions.getPartition(id, false).getOwnerOrNull(), "partition " + id + " has an owner");
                }
            }
            assertEquals(2, first.hazelcast().getCluster().getMembers().size());
        }
    }

    @Test
    void aNodeJoinsHoldingNothingAndTakesItsShareOnceStarted() {
        List<NodeSettings> settings = twoNodes("promote");
        try (SluiceNode first = TestNodes.start(settings.get(0)); SluiceNode second = TestNodes.start(settings.get(1))) {
            for (SluiceNode node : List.of(first, second)) {
                assertFalse(node.hazelcast().getCluster().getLocalMember().isLiteMember(), "a started node is a data member");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> second.hazelcast().getPartitionService().isClusterSafe());
            long owned = second.hazelcast().getPartitionService().getPartitions().stream()
                    .filter(p -> p.getOwner() != null && p.getOwner().localMember()).count();
            assertTrue(owned > 0, "the node that joined second owns partitions: " + owned);
        }
    }

    private static List<NodeSettings> twoNodes(String name) {
        return TestNodes.cluster(TestNodes.uniqueCluster(name), ManualClock.fixed(), PolicyLoader.bundledDemo(), 2);
    }
}
