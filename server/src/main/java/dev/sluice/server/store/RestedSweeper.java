package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.core.LifecycleListener;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.cluster.Member;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import com.hazelcast.partition.Partition;
import com.hazelcast.partition.PartitionService;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;

import dev.sluice.server.logging.Events;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Removes buckets past the time they must be kept (back at rest, their request ids forgotten,
 * plus the grace): memory follows the active keys. Each bucket carries that time in its record,
 * on the decision clock, instead of a Hazelcast TTL: a TTL costs a second map entry per bucket in
 * Hazelcast's expiry system, on owner and backup, and a lookup in it on every decision.
 *
 * <p>Every member runs one, registered in its configuration. Every sweep interval it goes through
 * the partitions it owns one at a time, removing the rested buckets of each, the removals copied
 * to the backups. One partition at a time, because a scan holds its partition's thread: decisions
 * on that partition wait for one partition's scan at most, never for a whole sweep. Removing a
 * rested bucket changes no answer: a bucket at rest and a bucket never seen decide alike.
 */
final class RestedSweeper implements LifecycleListener, HazelcastInstanceAware {

    private static final Logger LOG = Logger.getLogger(RestedSweeper.class.getName());

    private volatile HazelcastInstance hazelcast;
    private ScheduledExecutorService timer;

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.hazelcast = hazelcastInstance;
    }

    @Override
    public synchronized void stateChanged(LifecycleEvent event) {
        if (event.getState() == LifecycleEvent.LifecycleState.STARTED && timer == null && hazelcast != null) {
            long every = context(hazelcast).sweepInterval().toMillis();
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sluice-sweeper");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
            timer.scheduleWithFixedDelay(this::countQuietly, 0, BUDGET_COUNT_MILLIS, TimeUnit.MILLISECONDS);
        } else if (event.getState() == LifecycleEvent.LifecycleState.SHUTTING_DOWN && timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }

    /** How often a member counts the bucket entries it holds, against its budget. */
    static final long BUDGET_COUNT_MILLIS = 1000;

    /** How often, at most, a member at its budget says so. */
    static final long FULL_LOG_NANOS = TimeUnit.SECONDS.toNanos(10);

    private long lastFullLog = System.nanoTime() - FULL_LOG_NANOS;
    private long refusedBefore;

    private void countQuietly() {
        try {
            HazelcastInstance hz = hazelcast;
            var stats = hz.getMap(BucketStore.MAP_NAME).getLocalMapStats();
            BucketBudget budget = context(hz).budget();
            budget.held(stats.getOwnedEntryCount() + stats.getBackupEntryCount());
            if (budget.full() && System.nanoTime() - lastFullLog >= FULL_LOG_NANOS) {
                lastFullLog = System.nanoTime();
                long turnedAway = budget.refused() + budget.denied() + budget.untracked();
                long since = turnedAway - refusedBefore;
                refusedBefore = turnedAway;
                Events.log(LOG, Level.WARNING, "bucket_budget_reached", () -> "bucket budget reached: this member holds " + budget.held()
                        + " bucket entries (owned and backups) of " + budget.maxEntries() + "; the buckets held keep deciding, " + since
                        + " request(s) for new buckets turned away since the last report (" + budget.refused() + " refused, "
                        + budget.denied() + " denied, " + budget.untracked() + " allowed untracked since start)",
                        "held", budget.held(), "budget", budget.maxEntries(), "turned_away", since);
            }
        } catch (HazelcastInstanceNotActiveException stopping) {
            // The member is going away.
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not count the buckets held; counted again in a second", e);
        }
    }

    private void sweepQuietly() {
        try {
            sweepOwned(hazelcast);
        } catch (HazelcastInstanceNotActiveException stopping) {
            // The member is going away; its timer stops with it.
        } catch (RuntimeException e) {
            // A split too small to decide, or a member lost mid-sweep: the next sweep catches up.
            LOG.log(Level.FINE, "sweep of rested buckets failed; retried at the next interval", e);
        }
    }

    /**
     * Removes the buckets past their keep-until time less the grace, by this member's clock, from
     * every partition this member owns, one partition after the other.
     */
    static void sweepOwned(HazelcastInstance hz) {
        StoreContext context = context(hz);
        long cutoff = context.sweepCutoff();
        IMap<Object, Object> map = hz.getMap(BucketStore.MAP_NAME);
        String[] keys = partitionKeys(hz);
        for (Partition p : hz.getPartitionService().getPartitions()) {
            Member owner = p.getOwner();
            if (owner != null && owner.localMember()) {
                map.removeAll(Predicates.partitionPredicate(keys[p.getPartitionId()], new Rested(cutoff, context.stats())));
            }
        }
    }

    private static volatile String[] partitionKeys;

    /** For every partition, a key that falls in it: how a partition is named to a partition predicate. */
    private static String[] partitionKeys(HazelcastInstance hz) {
        PartitionService partitions = hz.getPartitionService();
        int count = partitions.getPartitions().size();
        String[] keys = partitionKeys;
        if (keys != null && keys.length == count) {
            return keys;
        }
        keys = new String[count];
        int found = 0;
        for (int i = 0; found < count; i++) {
            String key = "sweep-" + i;
            int id = partitions.getPartition(key).getPartitionId();
            if (keys[id] == null) {
                keys[id] = key;
                found++;
            }
        }
        partitionKeys = keys;
        return keys;
    }

    private static StoreContext context(HazelcastInstance hz) {
        return (StoreContext) hz.getUserContext().get(StoreContext.USER_CONTEXT_KEY);
    }

    /** Matches the buckets that need not be kept past {@code cutoff} (decision-clock nanos). */
    static final class Rested implements Predicate<Object, Object>, IdentifiedDataSerializable, HazelcastInstanceAware {

        private long cutoff;
        /** Where removals are counted: given by the sweeping member, or found on the member a copy was sent to. */
        private transient StoreStats stats;

        Rested() {
        }

        Rested(long cutoff, StoreStats stats) {
            this.cutoff = cutoff;
            this.stats = stats;
        }

        @Override
        public void setHazelcastInstance(HazelcastInstance hz) {
            if (stats == null) {
                stats = context(hz).stats();
            }
        }

        /** Whether the bucket may go; runs on the partition's thread, which removes every entry it matches. */
        @Override
        public boolean apply(Map.Entry<Object, Object> entry) {
            boolean rested = entry.getValue() instanceof BucketRecord r && r.keepUntil() < cutoff;
            if (rested && stats != null) {
                stats.sweptOne();
            }
            return rested;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(cutoff);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            cutoff = in.readLong();
        }

        @Override
        public int getFactoryId() {
            return StoreSerialization.FACTORY_ID;
        }

        @Override
        public int getClassId() {
            return StoreSerialization.RESTED_PREDICATE;
        }
    }
}
