package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

import java.io.IOException;

/** The answers for one key of a batch, in the order its commands were given. */
final class BucketAnswers implements IdentifiedDataSerializable {

    private BucketAnswer[] results;

    BucketAnswers() {
    }

    BucketAnswers(BucketAnswer[] results) {
        this.results = results;
    }

    BucketAnswer[] results() {
        return results;
    }

    @Override
    public String toString() {
        return java.util.Arrays.toString(results);
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeInt(results.length);
        for (BucketAnswer r : results) {
            r.writeData(out);
        }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        results = new BucketAnswer[in.readInt()];
        for (int i = 0; i < results.length; i++) {
            results[i] = new BucketAnswer();
            results[i].readData(in);
        }
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.BUCKET_ANSWERS;
    }
}
