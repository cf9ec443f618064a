package dev.sluice.server.store;

import com.hazelcast.core.ReadOnly;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import dev.sluice.server.algorithm.Algorithm;

import java.io.IOException;
import java.util.Map;

/** Reads one bucket on its owner with the owner's clock, changing nothing (no backup, no write). */
final class InspectProcessor extends OwnerProcessor<BucketView> implements ReadOnly {

    private Algorithm algorithm;
    private long cost;

    InspectProcessor() {
    }

    InspectProcessor(Algorithm algorithm, long cost) {
        this.algorithm = algorithm;
        this.cost = cost;
    }

    @Override
    public BucketView process(Map.Entry<BucketKey, BucketRecord> entry) {
        return BucketUpdate.inspect(entry.getValue(), context, algorithm, cost);
    }

    @Override
    public String toString() {
        return "inspect";
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeAlgorithm(out, algorithm);
        out.writeLong(cost);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        algorithm = Codecs.readAlgorithm(in);
        cost = in.readLong();
    }

    @Override
    public int getClassId() {
        return StoreSerialization.INSPECT_PROCESSOR;
    }
}
