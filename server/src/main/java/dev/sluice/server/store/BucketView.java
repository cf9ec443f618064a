package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

import java.io.IOException;

/**
 * A bucket as it is now, read on its owner without changing it: what an operator asks for when a
 * caller is being denied.
 */
public final class BucketView implements IdentifiedDataSerializable {

    private boolean held;
    private boolean allowed;
    private long remaining;
    private long resetAfterNanos;
    private long retryAfterNanos;
    private int remembered;

    BucketView() {
    }

    BucketView(boolean held, boolean allowed, long remaining, long resetAfterNanos, long retryAfterNanos, int remembered) {
        this.held = held;
        this.allowed = allowed;
        this.remaining = remaining;
        this.resetAfterNanos = resetAfterNanos;
        this.retryAfterNanos = retryAfterNanos;
        this.remembered = remembered;
    }

    /** Whether the store holds state for the bucket (a bucket at rest may be held or not: the answer is the same). */
    public boolean held() {
        return held;
    }

    /** Whether a request of the cost asked about would be allowed now. */
    public boolean allowed() {
        return allowed;
    }

    /** Units that could be spent now. */
    public long remaining() {
        return remaining;
    }

    /** Time until the bucket is back at rest. */
    public long resetAfterNanos() {
        return resetAfterNanos;
    }

    /** Time until the cost asked about would fit; zero when it fits now. */
    public long retryAfterNanos() {
        return retryAfterNanos;
    }

    /** Request ids the bucket remembers now (repeats of them are answered without being applied again). */
    public int remembered() {
        return remembered;
    }

    @Override
    public String toString() {
        return "remaining=" + remaining + " allowed=" + allowed + " remembered=" + remembered;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeBoolean(held);
        out.writeBoolean(allowed);
        out.writeLong(remaining);
        out.writeLong(resetAfterNanos);
        out.writeLong(retryAfterNanos);
        out.writeInt(remembered);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        held = in.readBoolean();
        allowed = in.readBoolean();
        remaining = in.readLong();
        resetAfterNanos = in.readLong();
        retryAfterNanos = in.readLong();
        remembered = in.readInt();
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.BUCKET_VIEW;
    }
}
