package dev.sluice.server.node;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.MigrationListener;
import com.hazelcast.partition.MigrationState;
import com.hazelcast.partition.ReplicaMigrationEvent;
import dev.sluice.server.store.BucketStore;

import java.util.concurrent.atomic.AtomicLong;
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

    void watch(HazelcastInstance hazelcast) {
        hazelcast.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                LOG.info(() -> "member joined: " + e.getMember().getAddress() + "; cluster of " + e.getMembers().size());
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                LOG.warning(() -> "member left: " + e.getMember().getAddress() + "; cluster of " + e.getMembers().size()
                        + "; its buckets continue from their backups");
            }
        });
        hazelcast.getPartitionService().addMigrationListener(new MigrationListener() {
            @Override
            public void migrationStarted(MigrationState state) {
                LOG.info(() -> "partition migration started: " + state.getPlannedMigrations() + " replica migrations planned");
            }

            @Override
            public void migrationFinished(MigrationState state) {
                LOG.info(() -> "partition migration finished: " + state.getCompletedMigrations() + " completed in "
                        + state.getTotalElapsedTime() + " ms");
            }

            @Override
            public void replicaMigrationCompleted(ReplicaMigrationEvent event) {
                migrations.incrementAndGet();
            }

            @Override
            public void replicaMigrationFailed(ReplicaMigrationEvent event) {
                failedMigrations.incrementAndGet();
                LOG.warning(() -> "replica migration failed: partition " + event.getPartitionId() + " from "
                        + event.getSource() + " to " + event.getDestination());
            }
        });
        // The partition service's listener, not the bucket map's: a listener on the map registers
        // for its events, and every decision would then publish an entry event to be filtered out.
        hazelcast.getPartitionService().addPartitionLostListener(event -> {
            if (event.getLostBackupCount() < BucketStore.BACKUP_COUNT) {
                return;
            }
            lostPartitions.incrementAndGet();
            LOG.warning(() -> "partition " + event.getPartitionId() + " of the bucket map was lost (every replica gone);"
                    + " its buckets start afresh");
        });
    }

    long migrations() {
        return migrations.get();
    }

    long lostPartitions() {
        return lostPartitions.get();
    }
}
