package dev.sluice.server.store;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs on a backup replica for a coalesced visit: applies the owner's deltas, in order. */
final class CoalescedBackup implements EntryProcessor<BucketKey, BucketRecord, Object>, IdentifiedDataSerializable {

    private List<StateBackup> deltas;

    CoalescedBackup() {
    }

    CoalescedBackup(List<StateBackup> deltas) {
        this.deltas = deltas;
    }

    @Override
    public Object process(Map.Entry<BucketKey, BucketRecord> entry) {
        for (StateBackup d : deltas) {
            d.applyTo(entry);
        }
        return null;
    }

    @Override
    public EntryProcessor<BucketKey, BucketRecord, Object> getBackupProcessor() {
        return null;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeInt(deltas.size());
        for (StateBackup d : deltas) {
            d.writeData(out);
        }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        int n = in.readInt();
        deltas = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StateBackup d = new StateBackup();
            d.readData(in);
            deltas.add(d);
        }
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.COALESCED_BACKUP;
    }
}
