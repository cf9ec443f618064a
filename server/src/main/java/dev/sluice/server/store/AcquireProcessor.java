package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.BucketState;
import dev.sluice.server.algorithm.Outcome;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Decides one cost for one bucket, on the partition owner, atomically. Carries only the command
 * (algorithm, cost, flags); reads the owner's clock once; stores the new state with a TTL equal to
 * the time until the bucket is back at rest; and hands the backup the resulting state instead of
 * letting it re-run the arithmetic with a clock of its own.
 */
final class AcquireProcessor implements EntryProcessor<String, BucketRecord, AcquireResult>,
        IdentifiedDataSerializable, HazelcastInstanceAware {

    private Algorithm algorithm;
    private long cost;
    private boolean consume;
    private boolean countDenied;

    private transient StoreContext context;
    private transient StateBackup backup;

    AcquireProcessor() {
    }

    AcquireProcessor(Algorithm algorithm, long cost, boolean consume, boolean countDenied) {
        this.algorithm = algorithm;
        this.cost = cost;
        this.consume = consume;
        this.countDenied = countDenied;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.context = (StoreContext) hazelcastInstance.getUserContext().get(StoreContext.USER_CONTEXT_KEY);
    }

    @Override
    public AcquireResult process(Map.Entry<String, BucketRecord> entry) {
        long now = context.clock().nanos();
        BucketRecord current = entry.getValue();
        BucketState state = current == null ? null : current.state();
        Outcome outcome = algorithm.acquire(state, now, cost, consume, countDenied);
        backup = null;
        if (outcome.next() != null) {
            long ttl = context.ttlMillis(algorithm.restAfterNanos(outcome.next(), now));
            BucketRecord record = new BucketRecord(outcome.next());
            ((ExtendedMapEntry<String, BucketRecord>) entry).setValue(record, ttl, TimeUnit.MILLISECONDS);
            backup = new StateBackup(record, ttl);
        }
        return new AcquireResult(outcome);
    }

    @Override
    public EntryProcessor<String, BucketRecord, AcquireResult> getBackupProcessor() {
        // Null when nothing changed: a denial or a dry run costs no backup round trip.
        @SuppressWarnings("unchecked")
        EntryProcessor<String, BucketRecord, AcquireResult> b = (EntryProcessor<String, BucketRecord, AcquireResult>) (EntryProcessor<?, ?, ?>) backup;
        return b;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeAlgorithm(out, algorithm);
        out.writeLong(cost);
        out.writeBoolean(consume);
        out.writeBoolean(countDenied);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        algorithm = Codecs.readAlgorithm(in);
        cost = in.readLong();
        consume = in.readBoolean();
        countDenied = in.readBoolean();
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.ACQUIRE_PROCESSOR;
    }
}
