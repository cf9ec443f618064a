package dev.sluice.server.node;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.serialization.Data;
import com.hazelcast.internal.serialization.InternalSerializationService;
import com.hazelcast.internal.serialization.impl.DefaultSerializationServiceBuilder;
import com.hazelcast.nio.serialization.HazelcastSerializationException;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The member port attacked as someone on the same network would: with a Hazelcast client that
 * knows the cluster's name, with a Hazelcast member that does not know the secret, on another of
 * the host's addresses, and with a Java-serialized object of a class nobody allowed. None of it
 * gets in, and the node's buckets stay as they were.
 */
class MemberPortAttackTest {

    @TempDir
    static Path dir;

    private static SluiceNode node;
    private static ManagedChannel channel;
    private static String derivedName;

    @BeforeAll
    static void start() throws IOException {
        Path secret = Files.writeString(dir.resolve("cluster-secret"), "8c1e0a52f93b4d7e6a0b1c2d3e4f5a6b\n");
        NodeSettings settings = TestNodes.settings("attacked", ManualClock.fixed()).policies(PolicyLoader.bundledDemo())
                .clusterSecretFile(secret).build();
        node = TestNodes.start(settings);
        derivedName = node.hazelcast().getConfig().getClusterName();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    private static long remaining(String ip, boolean take) {
        return RateLimiterGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).acquire(AcquireRequest.newBuilder()
                .setDomain("demo").putDescriptors("ip", ip).setDryRun(!take).build()).getLimits(0).getRemaining();
    }

    @Test
    void theClusterNameMembersPresentIsDerivedFromTheSecret() {
        assertTrue(derivedName.startsWith("attacked-") && derivedName.length() == "attacked-".length() + 32, derivedName);
    }

    @Test
    void aHazelcastClientThatKnowsTheClusterNameCannotConnect() {
        ClientConfig attacker = new ClientConfig();
        attacker.setClusterName(derivedName);
        attacker.getNetworkConfig().addAddress("127.0.0.1:" + node.settings().memberPort());
        attacker.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(3_000);
        attacker.setProperty("hazelcast.logging.type", "jdk");
        RuntimeException refused = assertThrows(RuntimeException.class, () -> HazelcastClient.newHazelcastClient(attacker).shutdown());
        assertTrue(String.valueOf(refused.getMessage()).contains("Unable to connect"), refused.toString());
    }

    @Test
    void aMemberWithoutTheSecretCannotJoinAndChangesNoBucket() {
        remaining("198.51.100.7", true);
        remaining("198.51.100.7", true);
        long before = remaining("198.51.100.7", false);
        List<HazelcastInstance> attackers = new ArrayList<>();
        try {
            for (String name : List.of("attacked", "sluice")) {
                Config c = new Config().setClusterName(name);
                c.setProperty("hazelcast.logging.type", "jdk");
                c.setProperty("hazelcast.phone.home.enabled", "false");
                c.setProperty("hazelcast.max.join.seconds", "5");
                c.getJetConfig().setEnabled(false);
                c.getNetworkConfig().setPort(Ports.free()).setPortAutoIncrement(false);
                c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
                c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
                c.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(true)
                        .addMember("127.0.0.1:" + node.settings().memberPort());
                c.setProperty("hazelcast.local.localAddress", "127.0.0.1");
                HazelcastInstance attacker = Hazelcast.newHazelcastInstance(c);
                attackers.add(attacker);
                assertEquals(1, attacker.getCluster().getMembers().size(), "the " + name + " member is alone");
                attacker.getMap("sluice-buckets").clear();
            }
            assertEquals(1, node.hazelcast().getCluster().getMembers().size(), "the node's cluster stays one member");
            assertEquals(before, remaining("198.51.100.7", false), "and its bucket is as it was");
        } finally {
            attackers.forEach(a -> a.getLifecycleService().terminate());
        }
    }

    @Test
    void theMemberPortListensOnTheMemberAddressAlone() throws IOException {
        int port = node.settings().memberPort();
        try (Socket ok = new Socket()) {
            ok.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
        }
        // 127.0.0.2 is this host too: a port bound to every interface would answer there.
        try (Socket other = new Socket()) {
            assertThrows(ConnectException.class, () -> other.connect(new InetSocketAddress("127.0.0.2", port), 2_000));
        }
    }

    @Test
    void aJavaSerializedObjectOfAClassNobodyAllowedIsRefused() {
        InternalSerializationService unfiltered = new DefaultSerializationServiceBuilder().build();
        Data gadget = unfiltered.toData(new org.opentest4j.AssertionFailedError("a class outside the allow-list"));
        Data plain = unfiltered.toData(new java.util.ArrayList<>(List.of("a", "b")));
        InternalSerializationService member = ((HazelcastInstanceProxy) node.hazelcast()).getSerializationService();
        assertEquals(List.of("a", "b"), member.toObject(plain), "JDK classes, which Hazelcast's own messages need, still pass");
        HazelcastSerializationException refused = assertThrows(HazelcastSerializationException.class, () -> member.toObject(gadget));
        Throwable cause = refused.getCause() != null ? refused.getCause() : refused;
        assertInstanceOf(SecurityException.class, cause, refused.toString());
    }
}
