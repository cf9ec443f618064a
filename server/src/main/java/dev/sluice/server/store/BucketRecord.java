package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.sluice.server.algorithm.BucketState;

import java.io.IOException;

/** The value stored for a bucket key: the algorithm's state. */
final class BucketRecord implements IdentifiedDataSerializable {

    private BucketState state;

    BucketRecord() {
    }

    BucketRecord(BucketState state) {
        this.state = state;
    }

    BucketState state() {
        return state;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeState(out, state);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        state = Codecs.readState(in);
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.BUCKET_RECORD;
    }
}
