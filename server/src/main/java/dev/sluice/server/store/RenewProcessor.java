package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import dev.sluice.server.algorithm.Algorithm;

import java.io.IOException;
import java.util.Map;

/** Extends a lease on a concurrency limit's bucket, on its owner; the backup receives the new state. */
final class RenewProcessor extends OwnerProcessor<Long> {

    private Algorithm algorithm;
    private long id;

    RenewProcessor() {
    }

    RenewProcessor(Algorithm algorithm, long id) {
        this.algorithm = algorithm;
        this.id = id;
    }

    @Override
    public Long process(Map.Entry<BucketKey, BucketRecord> entry) {
        BucketUpdate.Applied<Long> applied = BucketUpdate.renew(entry, context, algorithm, id);
        backup(applied.backup());
        return applied.answer();
    }

    @Override
    public String toString() {
        return "renew[" + Long.toHexString(id) + "]";
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeAlgorithm(out, algorithm);
        out.writeLong(id);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        algorithm = Codecs.readAlgorithm(in);
        id = in.readLong();
    }

    @Override
    public int getClassId() {
        return StoreSerialization.RENEW_PROCESSOR;
    }
}
