package dev.sluice.server.testing;

import dev.sluice.server.node.NodeSettings;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.time.Clock;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;

/** Starts real nodes (real gRPC socket, real Hazelcast member over TCP on 127.0.0.1) for tests. */
public final class TestNodes {

    private TestNodes() {
    }

    /** Settings for a node on loopback with free ports, its own cluster name, and the given clock. */
    public static NodeSettings.Builder settings(String clusterName, Clock clock) {
        return NodeSettings.builder()
                .host("127.0.0.1")
                .port(0)
                .memberHost("127.0.0.1")
                .memberPort(Ports.free())
                .clusterName(clusterName)
                .clock(clock)
                // Time in tests stands still unless advanced: keep idle buckets long enough
                // that real time never expires one in the middle of a test.
                .expiryGrace(Duration.ofMinutes(10))
                .shutdownGrace(Duration.ofSeconds(2))
                // Many nodes share a JVM here: no metrics port unless a test asks for one, and no
                // warm-up (the JVM is warm from the tests before; the warm-up has a test of its own).
                .metricsPort(0)
                .warmUp(0);
    }

    public static SluiceNode start(NodeSettings settings) {
        try {
            return SluiceNode.start(settings);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (PolicyException | dev.sluice.server.node.SettingsException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** A single member serving {@code policies}. */
    public static SluiceNode single(String clusterName, Clock clock, Policies policies) {
        return start(settings(clusterName, clock).policies(policies).members(List.of()).build());
    }

    /**
     * Settings for {@code count} members of one cluster serving {@code policies}, each listing
     * every member's address; start any of them with {@link #start}.
     */
    public static List<NodeSettings> cluster(String clusterName, Clock clock, Policies policies, int count) {
        List<NodeSettings.Builder> builders = new java.util.ArrayList<>();
        List<String> members = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            NodeSettings.Builder b = settings(clusterName, clock).policies(policies);
            builders.add(b);
            members.add("127.0.0.1:" + b.build().memberPort());
        }
        return builders.stream().map(b -> b.members(members).build()).toList();
    }

    /** Starts every node and waits until each sees all of them and every partition is in place. */
    public static List<SluiceNode> startAll(List<NodeSettings> settings) {
        List<SluiceNode> nodes = settings.stream().map(TestNodes::start).toList();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> nodes.stream()
                .allMatch(n -> n.hazelcast().getCluster().getMembers().size() == nodes.size()));
        TestMembers.awaitPartitionsSettled(nodes.stream().map(SluiceNode::hazelcast).toList());
        return nodes;
    }

    /** Policies from YAML text; fails the test with every problem if the text is invalid. */
    public static Policies policies(String yaml) {
        try {
            return PolicyLoader.parse(yaml, "test.yaml");
        } catch (PolicyException e) {
            throw new AssertionError("test policy is invalid:\n" + e.getMessage(), e);
        }
    }

    /** A unique cluster name, so concurrently running test classes never join each other. */
    public static String uniqueCluster(String prefix) {
        return prefix + "-" + Long.toHexString(System.nanoTime());
    }
}
