package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.sluice.server.algorithm.BucketState;

import java.io.IOException;

/**
 * The value stored for a bucket key: the algorithm's state, the requests applied recently, and
 * until when the bucket must be kept (on the decision clock): until it is back at rest and its
 * remembered requests are forgotten. After that, removing it changes no answer; the
 * {@link RestedSweeper} does. Held in object form and changed in place by entry processors on the
 * partition's thread.
 */
final class BucketRecord implements IdentifiedDataSerializable {

    private BucketState state;
    private RecentRequests recent;
    private long keepUntil;

    BucketRecord() {
    }

    BucketRecord(BucketState state) {
        this.state = state;
    }

    BucketState state() {
        return state;
    }

    void state(BucketState next) {
        this.state = next;
    }

    /** The recent requests, or {@code null} when none were ever remembered. */
    RecentRequests recent() {
        return recent;
    }

    RecentRequests recentOrNew() {
        if (recent == null) {
            recent = new RecentRequests();
        }
        return recent;
    }

    /** Decision-clock nanos before which this bucket must not be removed. */
    long keepUntil() {
        return keepUntil;
    }

    /** Keeps the bucket at least until {@code nanos}; never shortens what was promised before. */
    void keepUntil(long nanos) {
        if (nanos > keepUntil) {
            keepUntil = nanos;
        }
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeState(out, state);
        out.writeLong(keepUntil);
        out.writeLongArray(recent == null || recent.size() == 0 ? null : recent.toArray());
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        state = Codecs.readState(in);
        keepUntil = in.readLong();
        long[] triples = in.readLongArray();
        recent = triples == null ? null : RecentRequests.fromArray(triples);
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
