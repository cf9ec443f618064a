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

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Gives back units an earlier decision took, when another limit of the same request denied it. */
final class RefundProcessor implements EntryProcessor<String, BucketRecord, Boolean>,
        IdentifiedDataSerializable, HazelcastInstanceAware {

    private Algorithm algorithm;
    private long cost;
    private long marker;

    private transient StoreContext context;
    private transient StateBackup backup;

    RefundProcessor() {
    }

    RefundProcessor(Algorithm algorithm, long cost, long marker) {
        this.algorithm = algorithm;
        this.cost = cost;
        this.marker = marker;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.context = (StoreContext) hazelcastInstance.getUserContext().get(StoreContext.USER_CONTEXT_KEY);
    }

    @Override
    public Boolean process(Map.Entry<String, BucketRecord> entry) {
        backup = null;
        BucketRecord current = entry.getValue();
        if (current == null) {
            return Boolean.FALSE;
        }
        long now = context.clock().nanos();
        BucketState next = algorithm.refund(current.state(), now, cost, marker);
        if (next == null) {
            return Boolean.FALSE;
        }
        long ttl = context.ttlMillis(algorithm.restAfterNanos(next, now));
        BucketRecord record = new BucketRecord(next);
        ((ExtendedMapEntry<String, BucketRecord>) entry).setValue(record, ttl, TimeUnit.MILLISECONDS);
        backup = new StateBackup(record, ttl);
        return Boolean.TRUE;
    }

    @Override
    public EntryProcessor<String, BucketRecord, Boolean> getBackupProcessor() {
        @SuppressWarnings("unchecked")
        EntryProcessor<String, BucketRecord, Boolean> b = (EntryProcessor<String, BucketRecord, Boolean>) (EntryProcessor<?, ?, ?>) backup;
        return b;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeAlgorithm(out, algorithm);
        out.writeLong(cost);
        out.writeLong(marker);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        algorithm = Codecs.readAlgorithm(in);
        cost = in.readLong();
        marker = in.readLong();
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.REFUND_PROCESSOR;
    }
}
