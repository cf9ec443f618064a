package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import dev.sluice.server.algorithm.Algorithm;

import java.io.IOException;
import java.util.Map;

/**
 * Gives back units an earlier decision took, when another limit of the same request denied it.
 * With a request id it gives back at most once, however often it is retried.
 */
final class RefundProcessor extends OwnerProcessor<Boolean> {

    private Algorithm algorithm;
    private long cost;
    private long marker;
    private long requestId;

    RefundProcessor() {
    }

    RefundProcessor(Algorithm algorithm, long cost, long marker, long requestId) {
        this.algorithm = algorithm;
        this.cost = cost;
        this.marker = marker;
        this.requestId = requestId;
    }

    @Override
    public Boolean process(Map.Entry<BucketKey, BucketRecord> entry) {
        BucketUpdate.Applied<Boolean> applied = BucketUpdate.refund(entry, context, algorithm, cost, marker, requestId);
        backup(applied.backup());
        return applied.answer();
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeAlgorithm(out, algorithm);
        out.writeLong(cost);
        out.writeLong(marker);
        out.writeLong(requestId);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        algorithm = Codecs.readAlgorithm(in);
        cost = in.readLong();
        marker = in.readLong();
        requestId = in.readLong();
    }

    @Override
    public int getClassId() {
        return StoreSerialization.REFUND_PROCESSOR;
    }
}
