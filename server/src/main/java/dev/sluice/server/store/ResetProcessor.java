package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;

import java.util.Map;

/**
 * Puts one bucket back at rest by removing its entry, on the owner and, as its own backup
 * processor, on the backup: a bucket that is not held is a bucket at rest. The request ids it
 * remembered go with it. Answers whether there was anything to remove.
 */
final class ResetProcessor extends OwnerProcessor<Boolean> {

    @Override
    public Boolean process(Map.Entry<BucketKey, BucketRecord> entry) {
        boolean held = entry.getValue() != null;
        entry.setValue(null);
        // Also when the owner held nothing: a backup that somehow held the bucket must not bring it back.
        backup(this);
        return held;
    }

    @Override
    public String toString() {
        return "reset";
    }

    @Override
    public void writeData(ObjectDataOutput out) {
    }

    @Override
    public void readData(ObjectDataInput in) {
    }

    @Override
    public int getClassId() {
        return StoreSerialization.RESET_PROCESSOR;
    }
}
