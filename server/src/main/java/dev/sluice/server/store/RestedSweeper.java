package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.core.LifecycleListener;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import com.hazelcast.query.Predicate;

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
 * <p>Every member runs one, registered in its configuration; only the cluster's oldest member
 * sweeps, so each sweep is one pass over the buckets, on their owners, with the removals copied
 * to the backups. Removing a rested bucket changes no answer: a bucket at rest and a bucket never
 * seen decide alike.
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
            timer.scheduleWithFixedDelay(this::sweepIfOldest, every, every, TimeUnit.MILLISECONDS);
        } else if (event.getState() == LifecycleEvent.LifecycleState.SHUTTING_DOWN && timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }

    private void sweepIfOldest() {
        HazelcastInstance hz = hazelcast;
        try {
            if (hz.getCluster().getMembers().iterator().next().localMember()) {
                sweep(hz);
            }
        } catch (HazelcastInstanceNotActiveException stopping) {
            // The member is going away; its timer stops with it.
        } catch (RuntimeException e) {
            // A split too small to decide, or a member lost mid-sweep: the next sweep catches up.
            LOG.log(Level.FINE, "sweep of rested buckets failed; retried at the next interval", e);
        }
    }

    /** Removes, cluster-wide, every bucket past its keep-until time less the grace, by the given member's clock. */
    static void sweep(HazelcastInstance hz) {
        hz.getMap(BucketStore.MAP_NAME).removeAll(new Rested(context(hz).sweepCutoff()));
    }

    private static StoreContext context(HazelcastInstance hz) {
        return (StoreContext) hz.getUserContext().get(StoreContext.USER_CONTEXT_KEY);
    }

    /** Matches the buckets that need not be kept past {@code cutoff} (decision-clock nanos). */
    static final class Rested implements Predicate<Object, Object>, IdentifiedDataSerializable {

        private long cutoff;

        Rested() {
        }

        Rested(long cutoff) {
            this.cutoff = cutoff;
        }

        @Override
        public boolean apply(Map.Entry<Object, Object> entry) {
            return entry.getValue() instanceof BucketRecord r && r.keepUntil() < cutoff;
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
