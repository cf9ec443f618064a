package dev.sluice.server.node;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import com.hazelcast.config.NetworkConfig;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.store.StoreContext;

/** The embedded Hazelcast member's configuration, sized for small machines. */
public final class MemberConfig {

    private MemberConfig() {
    }

    /** A member configuration for these settings: TCP join, small thread pools, the bucket map. */
    public static Config of(NodeSettings s) {
        Config c = new Config();
        c.setClusterName(s.clusterName());
        c.setInstanceName("sluice-" + s.memberPort() + "-" + Long.toHexString(System.nanoTime()));

        int cores = Runtime.getRuntime().availableProcessors();
        c.setProperty("hazelcast.logging.type", "jdk");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        // The node's own shutdown hook stops gRPC first, then leaves the cluster gracefully
        // (partitions migrated); Hazelcast's hook would race it, and by default it terminates.
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        c.setProperty("hazelcast.shutdownhook.policy", "GRACEFUL");
        c.setProperty("hazelcast.graceful.shutdown.max.wait", "60");
        c.setProperty("hazelcast.partition.count", Integer.toString(s.partitionCount()));
        c.setProperty("hazelcast.io.input.thread.count", Integer.toString(Math.max(1, Math.min(3, cores / 2))));
        c.setProperty("hazelcast.io.output.thread.count", Integer.toString(Math.max(1, Math.min(3, cores / 2))));
        c.setProperty("hazelcast.operation.thread.count", Integer.toString(Math.max(2, cores)));
        c.setProperty("hazelcast.operation.generic.thread.count", Integer.toString(Math.max(1, cores / 2)));
        c.setProperty("hazelcast.event.thread.count", "1");
        c.setProperty("hazelcast.clientengine.thread.count", "1");
        // Idle buckets must actually leave memory: Hazelcast's default sweep visits a few
        // partitions every 5 s and clears about a thousand entries a second, far behind a
        // limiter that creates tens of thousands of short-lived buckets a second.
        c.setProperty("hazelcast.internal.map.expiration.task.period.seconds", "1");
        c.setProperty("hazelcast.internal.map.expiration.cleanup.percentage", "100");
        c.setProperty("hazelcast.internal.map.expiration.cleanup.operation.count", "36");
        c.getMetricsConfig().setEnabled(false);
        c.getJetConfig().setEnabled(false);

        NetworkConfig network = c.getNetworkConfig();
        network.setPort(s.memberPort()).setPortAutoIncrement(false);
        String memberHost = s.memberHost();
        if (memberHost == null && s.members().isEmpty() && !s.kubernetesDiscovery()) {
            memberHost = "127.0.0.1";
        }
        if (memberHost != null) {
            c.setProperty("hazelcast.local.localAddress", memberHost);
        }
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        if (s.kubernetesDiscovery()) {
            KubernetesConfig k8s = join.getKubernetesConfig().setEnabled(true);
            if (s.kubernetesServiceDns() != null) {
                k8s.setProperty("service-dns", s.kubernetesServiceDns());
                k8s.setProperty("service-port", Integer.toString(s.memberPort()));
            } else {
                k8s.setProperty("service-name", s.kubernetesServiceName());
                if (s.kubernetesApiUrl() != null) {
                    k8s.setProperty("kubernetes-master", s.kubernetesApiUrl());
                }
                if (s.kubernetesCaCertificate() != null) {
                    k8s.setProperty("ca-certificate", s.kubernetesCaCertificate());
                }
                if (s.kubernetesApiToken() != null) {
                    k8s.setProperty("api-token", s.kubernetesApiToken());
                }
                if (s.kubernetesNamespace() != null) {
                    k8s.setProperty("namespace", s.kubernetesNamespace());
                }
            }
            join.getTcpIpConfig().setEnabled(false);
        } else {
            join.getTcpIpConfig().setEnabled(true).setMembers(s.members());
        }
        // After a split, look for the other side every 30 s (the default waits minutes) so the
        // time both sides decide alone, and may over-admit, stays short.
        c.setProperty("hazelcast.merge.first.run.delay.seconds", "30");
        c.setProperty("hazelcast.merge.next.run.delay.seconds", "30");

        BucketStore.configure(c, new StoreContext(s.clock(), s.expiryGrace(), s.requestMemory(), s.sweepInterval()), s.minClusterSize());
        return c;
    }
}
