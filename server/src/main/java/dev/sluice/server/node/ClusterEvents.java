package dev.sluice.server.node;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.MigrationListener;
import com.hazelcast.partition.MigrationState;
import com.hazelcast.partition.ReplicaMigrationEvent;
import com.hazelcast.core.LifecycleEvent;
import dev.sluice.server.logging.Events;
import dev.sluice.server.store.BucketStore;

import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Makes the cluster's changes visible: members joining and leaving, partitions migrating, and
 * partitions lost (every replica gone at once: their buckets start afresh, which is logged as a
 * warning because it can over-admit).
 */
final class ClusterEvents {

    private static final Logger LOG = Logger.getLogger(ClusterEvents.class.getName());

    private final AtomicLong migrations = new AtomicLong();
    private final AtomicLong failedMigrations = new AtomicLong();
    private final AtomicLong lostPartitions = new AtomicLong();
    private final AtomicLong merges = new AtomicLong();

    void watch(HazelcastInstance hazelcast) {
        hazelcast.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                Events.log(LOG, Level.INFO, "member_joined", () -> "member joined: " + e.getMember().getAddress() + "; cluster of "
                        + e.getMembers().size(), "member", e.getMember().getAddress().toString(), "members", e.getMembers().size());
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                Events.log(LOG, Level.WARNING, "member_left", () -> "member left: " + e.getMember().getAddress() + "; cluster of "
                        + e.getMembers().size() + "; its buckets continue from their backups",
                        "member", e.getMember().getAddress().toString(), "members", e.getMembers().size());
            }
        });
        hazelcast.getPartitionService().addMigrationListener(new MigrationListener() {
            @Override
            public void migrationStarted(MigrationState state) {
                Events.log(LOG, Level.INFO, "migration_started", () -> "partition migration started: " + state.getPlannedMigrations()
                        + " replica migrations planned", "planned", state.getPlannedMigrations());
            }

            @Override
            public void migrationFinished(MigrationState state) {
                Events.log(LOG, Level.INFO, "migration_finished", () -> "partition migration finished: " + state.getCompletedMigrations()
                        + " completed in " + state.getTotalElapsedTime() + " ms", "completed", state.getCompletedMigrations(),
                        "elapsed_ms", state.getTotalElapsedTime());
            }

            @Override
            public void replicaMigrationCompleted(ReplicaMigrationEvent event) {
                migrations.incrementAndGet();
            }

            @Override
            public void replicaMigrationFailed(ReplicaMigrationEvent event) {
                failedMigrations.incrementAndGet();
                Events.log(LOG, Level.WARNING, "migration_failed", () -> "replica migration failed: partition " + event.getPartitionId()
                        + " from " + event.getSource() + " to " + event.getDestination(), "partition", event.getPartitionId(),
                        "from", String.valueOf(event.getSource()), "to", String.valueOf(event.getDestination()));
            }
        });
        // The partition service's listener, not the bucket map's: a listener on the map registers
        // for its events, and every decision would then publish an entry event to be filtered out.
        hazelcast.getPartitionService().addPartitionLostListener(event -> {
            if (event.getLostBackupCount() < BucketStore.BACKUP_COUNT) {
                return;
            }
            lostPartitions.incrementAndGet();
            Events.log(LOG, Level.WARNING, "partition_lost", () -> "partition " + event.getPartitionId()
                    + " of the bucket map was lost (every replica gone); its buckets start afresh", "partition", event.getPartitionId());
        });
        // A member that was split away merges back into the larger side: its buckets merge, keeping the more consumed state.
        hazelcast.getLifecycleService().addLifecycleListener(event -> {
            if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
                merges.incrementAndGet();
                Events.log(LOG, Level.WARNING, "cluster_merged", () -> "this member merged back into the cluster after a split;"
                        + " its buckets were merged keeping the more consumed state of each");
            }
        });
    }

    long failedMigrations() {
        return failedMigrations.get();
    }

    /** Times this member merged back into the cluster after a split. */
    long merges() {
        return merges.get();
    }

    long migrations() {
        return migrations.get();
    }

    long lostPartitions() {
        return lostPartitions.get();
    }
}
