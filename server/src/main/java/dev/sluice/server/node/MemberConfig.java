package dev.sluice.server.node;

import com.hazelcast.config.AdvancedNetworkConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MetadataPolicy;
import com.hazelcast.config.ServerSocketEndpointConfig;
import com.hazelcast.config.SplitBrainProtectionConfig;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionOn;
import dev.sluice.server.store.BucketBudget;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.store.MostConsumedMergePolicy;
import dev.sluice.server.store.StoreContext;

import java.time.Duration;

/** The embedded Hazelcast member's configuration, sized for small machines: its threads, network, join and bucket map. */
public final class MemberConfig {

    /** Name of the split-brain protection the bucket map uses when a minimum cluster size is set. */
    public static final String MINIMUM_SIZE_PROTECTION = "sluice-minimum-cluster-size";

    /** How long an operation waits for its backup's acknowledgement before its outcome counts as unknown. */
    static final long BACKUP_TIMEOUT_MILLIS = 1500;

    private MemberConfig() {
    }

    /**
     * A member configuration for these settings: small thread pools, the bucket map, and a member
     * port that serves the member protocol alone (no client protocol), bound to the member's own
     * address, joined only by members presenting the cluster name the shared secret derives.
     */
    public static Config of(NodeSettings s) {
        Config c = new Config();
        c.setClusterName(s.clusterSecretFile() == null ? s.clusterName() : ClusterSecret.clusterName(s.clusterName(), s.clusterSecretFile()));
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
        // A partition thread per core, as Hazelcast sizes them, down to one: three nodes given one
        // core each (on 2 shared cores) made a decision with 23 % less CPU with one partition thread
        // each than with two (client path, four alternating runs, docs/performance.md), while one node
        // on two cores made 10-30 % more with two than with one.
        c.setProperty("hazelcast.operation.thread.count", Integer.toString(Math.max(1, cores)));
        c.setProperty("hazelcast.operation.generic.thread.count", Integer.toString(Math.max(1, cores / 2)));
        c.setProperty("hazelcast.event.thread.count", "1");
        // Answers from other members (a remote owner's result, a backup's acknowledgement) are
        // handed by the I/O thread that read them to a response thread, which completes the call:
        // one more wake-up per message. On small machines the I/O thread completes them itself
        // (3 nodes on 2 cores, five alternating pairs: 9-18 % more unary decisions a second, the
        // client path -3 to +21 %, docs/performance.md); larger ones keep Hazelcast's default of
        // two, not measured here.
        if (cores <= 4) {
            c.setProperty("hazelcast.operation.response.thread.count", "0");
        }
        c.setProperty("hazelcast.clientengine.thread.count", "1");
        c.getMetricsConfig().setEnabled(false);
        c.getJetConfig().setEnabled(false);

        // One endpoint, for members: with no client endpoint no Hazelcast client can connect at all.
        AdvancedNetworkConfig network = c.getAdvancedNetworkConfig().setEnabled(true);
        ServerSocketEndpointConfig memberEndpoint = new ServerSocketEndpointConfig();
        memberEndpoint.setPort(s.memberPort()).setPortAutoIncrement(false);
        network.setMemberEndpointConfig(memberEndpoint);
        String memberHost = s.memberHost();
        if (memberHost == null && s.members().isEmpty() && !s.kubernetesDiscovery()) {
            memberHost = "127.0.0.1";
        }
        if (memberHost != null) {
            c.setProperty("hazelcast.local.localAddress", memberHost);
        }
        // Listen on the member's own address only, never on every interface.
        c.setProperty("hazelcast.socket.bind.any", "false");
        c.setProperty("hazelcast.socket.server.bind.any", "false");
        // Sluice sends nothing by Java serialization; Hazelcast's own exceptions between members
        // are, so its defaults (JDK and Hazelcast classes, known gadgets refused) are kept and
        // nothing else is allowed.
        c.getSerializationConfig().setJavaSerializationFilterConfig(new JavaSerializationFilterConfig().setDefaultsDisabled(false));
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
        // After a split, look for the other side every --merge-interval (Hazelcast's default waits
        // minutes) so the time both sides decide alone, and may over-admit, stays short.
        c.setProperty("hazelcast.merge.first.run.delay.seconds", Long.toString(s.mergeInterval().toSeconds()));
        c.setProperty("hazelcast.merge.next.run.delay.seconds", Long.toString(s.mergeInterval().toSeconds()));
        // Failure detection: Hazelcast's defaults (a heartbeat every 5 s, gone after 60 s without
        // one) leave a cut-off member deciding alone, and its partitions unanswered elsewhere, for a
        // minute. A member is gone after --member-timeout without a heartbeat (the deadline detector).
        c.setProperty("hazelcast.heartbeat.interval.seconds", Long.toString(s.heartbeatInterval().toSeconds()));
        c.setProperty("hazelcast.max.no.heartbeat.seconds", Long.toString(s.memberTimeout().toSeconds()));
        c.setProperty("hazelcast.heartbeat.failuredetector.type", "deadline");

        addBuckets(c, new StoreContext(s.clock(), s.expiryGrace(), s.requestMemory(), s.sweepInterval(),
                new BucketBudget(s.maxBuckets())), s.minClusterSize(), heardWithin(s));
        return c;
    }

    /**
     * Adds to {@code c} the bucket map and what the store needs from the member: its classes and
     * context, and the operation settings its promises rest on. {@link #of} calls it; a test that
     * makes members of its own (a mock network) calls it too.
     */
    public static void addBuckets(Config c, StoreContext context, int minimumClusterSize) {
        addBuckets(c, context, minimumClusterSize, Duration.ofSeconds(5));
    }

    /**
     * How recently a member must have been heard from to count towards {@code --min-cluster-size}:
     * half the member timeout, and at least two heartbeats. Members drop out of a cut-off side's
     * member list one at a time; counting the listed members alone, a side of one that had dropped
     * one of two unreachable members saw two and decided alone (measured on a real network).
     */
    static Duration heardWithin(NodeSettings s) {
        return Duration.ofMillis(Math.max(s.memberTimeout().toMillis() / 2, 2 * s.heartbeatInterval().toMillis()));
    }

    /**
     * As {@link #addBuckets(Config, StoreContext, int)}, counting towards the minimum only the
     * members heard from (a heartbeat) within {@code heardWithin}.
     */
    public static void addBuckets(Config c, StoreContext context, int minimumClusterSize, Duration heardWithin) {
        // An operation whose member died after it may have run fails instead of being re-run
        // blindly; the store retries it only when its request id lets the bucket recognise it.
        c.setProperty("hazelcast.operation.fail.on.indeterminate.state", "true");
        // While partitions move, a backup sent to a member that has just stopped being the backup
        // is dropped there, and the caller hears nothing until the backup timeout (5 s by
        // default), then fails as indeterminate: a member joining or leaving made some decisions
        // wait that long. A shorter wait turns them into a prompt retry, answered from the ids.
        c.setProperty("hazelcast.operation.backup.timeout.millis", Long.toString(BACKUP_TIMEOUT_MILLIS));
        c.addMapConfig(bucketMap(c, minimumClusterSize, heardWithin));
        BucketStore.prepare(c, context);
    }

    /**
     * The bucket map: one synchronous backup, records kept as objects (entry processors change
     * them in place; backups receive deltas), split-brain merges keeping the more consumed state,
     * and, with {@code minimumClusterSize} above 1, refusal to decide on a side of a split smaller
     * than that (counting the members heard from within {@code heardWithin}) instead of deciding alone.
     */
    private static MapConfig bucketMap(Config c, int minimumClusterSize, Duration heardWithin) {
        MapConfig map = new MapConfig(BucketStore.MAP_NAME)
                .setBackupCount(BucketStore.BACKUP_COUNT)
                .setAsyncBackupCount(0)
                .setInMemoryFormat(InMemoryFormat.OBJECT)
                .setStatisticsEnabled(true)
                // Records are not JSON: nothing to index or query, so no metadata to keep per write.
                .setMetadataPolicy(MetadataPolicy.OFF);
        map.getMergePolicyConfig().setPolicy(MostConsumedMergePolicy.class.getName());
        if (minimumClusterSize > 1) {
            c.addSplitBrainProtectionConfig(SplitBrainProtectionConfig.newRecentlyActiveSplitBrainProtectionConfigBuilder(
                            MINIMUM_SIZE_PROTECTION, minimumClusterSize, (int) heardWithin.toMillis())
                    .enabled(true).build().setProtectOn(SplitBrainProtectionOn.READ_WRITE));
            map.setSplitBrainProtectionName(MINIMUM_SIZE_PROTECTION);
        }
        return map;
    }
}
