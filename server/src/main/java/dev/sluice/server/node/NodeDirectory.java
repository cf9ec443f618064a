package dev.sluice.server.node;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.Partition;
import com.hazelcast.replicatedmap.ReplicatedMap;
import dev.sluice.api.v1.NodeAddress;
import dev.sluice.api.v1.PartitionsResponse;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Where each member serves gRPC, and from that the partition table a client routes by
 * ({@code Partitions}). Each node publishes its own address once it serves, in a replicated map
 * every member holds a copy of (read locally, no call); a member that leaves is dropped from it by
 * the others. The table names only members in the cluster now, each partition by the member that
 * owns it now.
 */
final class NodeDirectory {

    static final String MAP_NAME = "sluice-nodes";

    private final HazelcastInstance hazelcast;
    private final ReplicatedMap<String, String> addresses;

    NodeDirectory(HazelcastInstance hazelcast) {
        this.hazelcast = hazelcast;
        this.addresses = hazelcast.getReplicatedMap(MAP_NAME);
        hazelcast.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                addresses.remove(event.getMember().getUuid().toString());
            }
        });
    }

    /** Says this member serves gRPC on {@code host}:{@code port}. */
    void publish(String host, int port) {
        addresses.put(hazelcast.getCluster().getLocalMember().getUuid().toString(), host + ":" + port);
    }

    /** The nodes serving gRPC now and the partitions each owns. */
    PartitionsResponse table() {
        PartitionsResponse.Builder table = PartitionsResponse.newBuilder();
        Map<UUID, Integer> index = new HashMap<>();
        for (Member m : hazelcast.getCluster().getMembers()) {
            String address = addresses.get(m.getUuid().toString());
            int colon = address == null ? -1 : address.lastIndexOf(':');
            if (colon > 0) {
                index.put(m.getUuid(), table.getNodesCount());
                table.addNodes(NodeAddress.newBuilder().setHost(address.substring(0, colon))
                        .setPort(Integer.parseInt(address.substring(colon + 1))));
            }
        }
        var partitions = hazelcast.getPartitionService().getPartitions();
        int[] owners = new int[partitions.size()];
        Arrays.fill(owners, -1);
        for (Partition p : partitions) {
            Member owner = p.getOwner();
            Integer i = owner == null ? null : index.get(owner.getUuid());
            if (i != null && p.getPartitionId() < owners.length) {
                owners[p.getPartitionId()] = i;
            }
        }
        for (int o : owners) {
            table.addOwners(o);
        }
        return table.build();
    }
}
