package dev.sluice.server.testing;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.sluice.server.node.MemberConfig;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.time.Clock;
import org.awaitility.Awaitility;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Hazelcast member configurations for tests that use the store without a whole node. */
public final class TestMembers {

    private TestMembers() {
    }

    /** A member on loopback over TCP, joining {@code members} (none: alone), deciding with {@code clock}. */
    public static Config config(String clusterName, Clock clock, int port, List<String> members) {
        return MemberConfig.of(TestNodes.settings(clusterName, clock).memberPort(port).members(members).build());
    }

    /** Starts one member per clock, all joined over TCP, and waits until they see each other. */
    public static List<HazelcastInstance> cluster(String clusterName, Clock... clocks) {
        List<Integer> ports = new ArrayList<>();
        List<String> members = new ArrayList<>();
        for (int i = 0; i < clocks.length; i++) {
            ports.add(Ports.free());
            members.add("127.0.0.1:" + ports.get(i));
        }
        List<HazelcastInstance> started = new ArrayList<>();
        for (int i = 0; i < clocks.length; i++) {
            started.add(Hazelcast.newHazelcastInstance(config(clusterName, clocks[i], ports.get(i), members)));
        }
        Awaitility.await().atMost(Duration.ofSeconds(60))
                .until(() -> started.stream().allMatch(m -> m.getCluster().getMembers().size() == clocks.length));
        awaitPartitionsSettled(started);
        return started;
    }

    /**
     * Assigns the partitions (if not yet) and waits until every member knows every owner and all
     * backups are in place, so a test's first decisions do not race the partition table or the
     * migrations of a cluster that has just formed.
     */
    public static void awaitPartitionsSettled(List<HazelcastInstance> members) {
        BucketStore.assignPartitions(members.get(0));
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> members.stream()
                .allMatch(m -> m.getPartitionService().isClusterSafe()
                        && m.getPartitionService().getPartitions().stream().allMatch(p -> p.getOwner() != null)));
    }

    public static Config config(String clusterName, Clock clock) {
        return config(clusterName, clock, Ports.free(), List.of());
    }

    /** A store on {@code member} using Hazelcast's internals, as a node does by default. */
    public static BucketStore store(HazelcastInstance member) {
        return store(member, true);
    }

    /** A store on {@code member}, with or without Hazelcast's internals. */
    public static BucketStore store(HazelcastInstance member, boolean internals) {
        return new BucketStore(member, internals, TestThreads.FOLLOW_UPS);
    }
}
