package dev.sluice.server.store;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs on a backup replica: stores the state the owner computed, with the owner's TTL. */
final class StateBackup implements EntryProcessor<String, BucketRecord, Object>, IdentifiedDataSerializable {

    private BucketRecord record;
    private long ttlMillis;

    StateBackup() {
    }

    StateBackup(BucketRecord record, long ttlMillis) {
        this.record = record;
        this.ttlMillis = ttlMillis;
    }

    @Override
    public Object process(Map.Entry<String, BucketRecord> entry) {
        ((ExtendedMapEntry<String, BucketRecord>) entry).setValue(record, ttlMillis, TimeUnit.MILLISECONDS);
        return null;
    }

    @Override
    public EntryProcessor<String, BucketRecord, Object> getBackupProcessor() {
        return null;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        record.writeData(out);
        out.writeLong(ttlMillis);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        record = new BucketRecord();
        record.readData(in);
        ttlMillis = in.readLong();
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.STATE_BACKUP;
    }
}
