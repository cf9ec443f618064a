package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import dev.sluice.server.algorithm.Algorithm;

import java.io.IOException;
import java.util.Map;

/**
 * Settles a request's cost after the fact on one bucket, on its owner: charges or gives back the
 * difference between what the request was charged and {@code actual}, once per request id; the
 * backup receives the new state and the request marked settled.
 */
final class SettleProcessor extends OwnerProcessor<Settlement> {

    private Algorithm algorithm;
    private long requestId;
    private long actual;

    SettleProcessor() {
    }

    SettleProcessor(Algorithm algorithm, long requestId, long actual) {
        this.algorithm = algorithm;
        this.requestId = requestId;
        this.actual = actual;
    }

    @Override
    public Settlement process(Map.Entry<BucketKey, BucketRecord> entry) {
        BucketUpdate.Applied<Settlement> applied = BucketUpdate.settle(entry, context, algorithm, requestId, actual);
        backup(applied.backup());
        return applied.answer();
    }

    @Override
    public String toString() {
        return "settle[" + Long.toHexString(requestId) + "]";
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeAlgorithm(out, algorithm);
        out.writeLong(requestId);
        out.writeLong(actual);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        algorithm = Codecs.readAlgorithm(in);
        requestId = in.readLong();
        actual = in.readLong();
    }

    @Override
    public int getClassId() {
        return StoreSerialization.SETTLE_PROCESSOR;
    }
}
