package dev.sluice.server.store;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.sluice.server.algorithm.BucketState;

import java.io.IOException;
import java.util.Map;

/**
 * Runs on a backup replica: stores the state the owner computed, kept as long as the owner keeps it, and
 * records the request the owner applied, exactly as the owner did (same clock reading), so the
 * replica's memory of requests matches the owner's when it is promoted.
 */
final class StateBackup implements EntryProcessor<BucketKey, BucketRecord, Object>, IdentifiedDataSerializable {

    private BucketState state;
    private long keepUntil;
    private long requestId;
    private long now;
    private long rememberedUntil;
    private int flags;
    private long marker;
    private long cost;

    StateBackup() {
    }

    StateBackup(BucketState state, long keepUntil, long requestId, long now, long rememberedUntil, int flags, long marker, long cost) {
        this.state = state;
        this.keepUntil = keepUntil;
        this.requestId = requestId;
        this.now = now;
        this.rememberedUntil = rememberedUntil;
        this.flags = flags;
        this.marker = marker;
        this.cost = cost;
    }

    @Override
    public Object process(Map.Entry<BucketKey, BucketRecord> entry) {
        applyTo(entry);
        return null;
    }

    /** Applies this delta to a backup replica's entry. */
    void applyTo(Map.Entry<BucketKey, BucketRecord> entry) {
        BucketRecord record = BucketRecord.applied(entry.getValue(), state, requestId, now, rememberedUntil, flags, marker, cost);
        entry.setValue(record.keptUntil(keepUntil));
    }

    @Override
    public EntryProcessor<BucketKey, BucketRecord, Object> getBackupProcessor() {
        return null;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeState(out, state);
        out.writeLong(keepUntil);
        out.writeLong(requestId);
        if (requestId != 0) {
            out.writeLong(now);
            out.writeLong(rememberedUntil);
            out.writeInt(flags);
            out.writeLong(marker);
            out.writeLong(cost);
        }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        state = Codecs.readState(in);
        keepUntil = in.readLong();
        requestId = in.readLong();
        if (requestId != 0) {
            now = in.readLong();
            rememberedUntil = in.readLong();
            flags = in.readInt();
            marker = in.readLong();
            cost = in.readLong();
        }
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.STATE_BACKUP;
    }
}
