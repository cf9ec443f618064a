package dev.sluice.bench;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import io.github.bucket4j.grid.hazelcast.HazelcastProxyManager;

/**
 * A Hazelcast member serving Bucket4j's entry processors: the cluster Bucket4j users run, each
 * member in a JVM of its own, one backup (Hazelcast's default, as Sluice's one synchronous
 * backup). Sized like a Sluice node's member (same thread counts, no phone-home).
 * {@code Bucket4jMember PORT [MEMBER-PORT...]}: the other members' ports, for a cluster of several.
 */
public final class Bucket4jMember {

    static final String CLUSTER = "bucket4j-bench";
    static final int SERIALIZER_BASE = 1000;

    private Bucket4jMember() {
    }

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        Config c = new Config().setClusterName(CLUSTER);
        int cores = Runtime.getRuntime().availableProcessors();
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "jdk");
        c.setProperty("hazelcast.partition.count", "71");
        c.setProperty("hazelcast.io.input.thread.count", Integer.toString(Math.max(1, Math.min(3, cores / 2))));
        c.setProperty("hazelcast.io.output.thread.count", Integer.toString(Math.max(1, Math.min(3, cores / 2))));
        c.setProperty("hazelcast.operation.thread.count", Integer.toString(Math.max(2, cores)));
        c.getJetConfig().setEnabled(false);
        c.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        var tcp = c.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + port);
        for (int i = 1; i < args.length; i++) {
            tcp.addMember("127.0.0.1:" + args[i]);
        }
        c.setProperty("hazelcast.local.localAddress", "127.0.0.1");
        HazelcastProxyManager.addCustomSerializers(c.getSerializationConfig(), SERIALIZER_BASE);
        Hazelcast.newHazelcastInstance(c);
        System.out.println("bucket4j member on " + port);
    }
}
