package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import dev.sluice.server.algorithm.Algorithm;

import java.io.IOException;
import java.util.Map;

/**
 * Decides one cost for one bucket, on the partition owner, atomically. Carries only the command
 * (algorithm, cost, flags, request id); reads the owner's clock once; stores the new state with the
 * time the bucket must be kept (until it is back at rest); and hands the backup the resulting
 * state instead of letting it re-run the arithmetic with a clock of its own.
 *
 * <p>With a request id, a request this bucket has already applied (and not given back) is
 * answered again from the bucket as it is, without being applied a second time.
 */
final class AcquireProcessor extends OwnerProcessor<BucketAnswer> {

    private Algorithm algorithm;
    private long cost;
    private boolean consume;
    private boolean countDenied;
    private long requestId;
    private NewBucket whenFull;
    private long rememberNanos;

    AcquireProcessor() {
    }

    AcquireProcessor(Command c) {
        this.algorithm = c.algorithm();
        this.cost = c.cost();
        this.consume = c.consume();
        this.countDenied = c.countDenied();
        this.requestId = c.requestId();
        this.whenFull = c.whenFull();
        this.rememberNanos = c.rememberNanos();
    }

    @Override
    public BucketAnswer process(Map.Entry<BucketKey, BucketRecord> entry) {
        BucketUpdate.Applied<BucketAnswer> applied = BucketUpdate.acquire(entry, context, algorithm, cost, consume, countDenied, requestId,
                whenFull, rememberNanos);
        backup(applied.backup());
        return applied.answer();
    }

    @Override
    public String toString() {
        return "acquire[" + Long.toHexString(requestId) + "]";
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeAlgorithm(out, algorithm);
        out.writeLong(cost);
        out.writeBoolean(consume);
        out.writeBoolean(countDenied);
        out.writeLong(requestId);
        out.writeByte(whenFull.ordinal());
        if (requestId != 0) {
            out.writeLong(rememberNanos);
        }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        algorithm = Codecs.readAlgorithm(in);
        cost = in.readLong();
        consume = in.readBoolean();
        countDenied = in.readBoolean();
        requestId = in.readLong();
        whenFull = NewBucket.values()[in.readByte()];
        rememberNanos = requestId != 0 ? in.readLong() : 0;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.ACQUIRE_PROCESSOR;
    }
}
