package dev.sluice.server.node;

import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.partition.InternalPartitionService;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A node assigns the cluster's partitions as it starts, so members that join later receive the
 * partition table as they join, and the first decisions never race it to a backup member (a
 * backup arriving first is dropped, and the decision fails as indeterminate after the backup timeout).
 */
class PartitionAssignmentTest {

    @Test
    void aStartedNodeHasEveryPartitionAssignedBeforeAnyDecisionAndAJoiningMemberKnowsThem() {
        List<NodeSettings> settings = TestNodes.cluster(TestNodes.uniqueCluster("assign"), ManualClock.fixed(),
                PolicyLoader.bundledDemo(), 2);
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
}
