package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import dev.sluice.server.algorithm.Algorithm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Several decisions on one bucket in one visit to its owner: the requests for a hot key that
 * arrived together are decided one after the other, in order, by a single entry-processor call,
 * and the backup receives all their deltas in one backup operation.
 */
final class CoalescedAcquireProcessor extends OwnerProcessor<BucketAnswers> {

    private List<Command> commands;

    CoalescedAcquireProcessor() {
    }

    CoalescedAcquireProcessor(List<Command> commands) {
        this.commands = commands;
    }

    @Override
    public BucketAnswers process(Map.Entry<BucketKey, BucketRecord> entry) {
        BucketAnswer[] results = new BucketAnswer[commands.size()];
        List<StateBackup> changes = new ArrayList<>(commands.size());
        for (int i = 0; i < results.length; i++) {
            BucketUpdate.Applied<BucketAnswer> applied = BucketUpdate.acquire(entry, context, commands.get(i));
            results[i] = applied.answer();
            if (applied.backup() != null) {
                changes.add(applied.backup());
            }
        }
        backup(changes.isEmpty() ? null : new CoalescedBackup(changes));
        return new BucketAnswers(results);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("coalesced[");
        for (Command c : commands) {
            b.append(Long.toHexString(c.requestId())).append(' ');
        }
        return b.append(']').toString();
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeInt(commands.size());
        for (Command c : commands) {
            Codecs.writeAlgorithm(out, c.algorithm());
            out.writeLong(c.cost());
            out.writeBoolean(c.consume());
            out.writeBoolean(c.countDenied());
            out.writeLong(c.requestId());
            out.writeByte(c.whenFull().ordinal());
            if (c.requestId() != 0) {
                out.writeLong(c.rememberNanos());
            }
        }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        int n = in.readInt();
        commands = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Algorithm algorithm = Codecs.readAlgorithm(in);
            long cost = in.readLong();
            boolean consume = in.readBoolean();
            boolean countDenied = in.readBoolean();
            long requestId = in.readLong();
            NewBucket whenFull = NewBucket.values()[in.readByte()];
            commands.add(new Command(null, algorithm, cost, consume, countDenied, requestId, whenFull, requestId != 0 ? in.readLong() : 0));
        }
    }

    @Override
    public int getClassId() {
        return StoreSerialization.COALESCED_ACQUIRE_PROCESSOR;
    }
}
