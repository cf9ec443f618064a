package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.sluice.server.algorithm.Outcome;

import java.io.IOException;

/** An {@link Outcome} on its way back from the partition owner (without the state, which stays there). */
final class BucketAnswer implements IdentifiedDataSerializable {

    private boolean allowed;
    private long remaining;
    private long resetAfterNanos;
    private long retryAfterNanos;
    private long marker;
    private boolean replayed;
    /** The command would have created a bucket past the member's budget, and its domain refuses that. */
    private boolean refusedFull;

    BucketAnswer() {
    }

    /** The answer to a command refused for want of room for a new bucket. */
    static BucketAnswer refusedFull() {
        BucketAnswer a = new BucketAnswer();
        a.refusedFull = true;
        return a;
    }

    boolean isRefusedFull() {
        return refusedFull;
    }

    BucketAnswer(Outcome outcome, boolean replayed) {
        this.replayed = replayed;
        this.allowed = outcome.allowed();
        this.remaining = outcome.remaining();
        this.resetAfterNanos = outcome.resetAfterNanos();
        this.retryAfterNanos = outcome.retryAfterNanos();
        this.marker = outcome.marker();
    }

    /** Whether this answers a request the bucket had already applied. */
    boolean replayed() {
        return replayed;
    }

    Outcome toOutcome() {
        return new Outcome(allowed, remaining, resetAfterNanos, retryAfterNanos, null, marker);
    }

    @Override
    public String toString() {
        return (allowed ? "allowed" : "denied") + " remaining=" + remaining + " replayed=" + replayed;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeBoolean(allowed);
        out.writeLong(remaining);
        out.writeLong(resetAfterNanos);
        out.writeLong(retryAfterNanos);
        out.writeLong(marker);
        out.writeBoolean(replayed);
        out.writeBoolean(refusedFull);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        allowed = in.readBoolean();
        remaining = in.readLong();
        resetAfterNanos = in.readLong();
        retryAfterNanos = in.readLong();
        marker = in.readLong();
        replayed = in.readBoolean();
        refusedFull = in.readBoolean();
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.BUCKET_ANSWER;
    }
}
