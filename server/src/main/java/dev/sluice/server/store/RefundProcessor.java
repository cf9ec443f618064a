package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.BucketState;

import java.io.IOException;
import java.util.Map;

/**
 * Gives back units an earlier decision took, when another limit of the same request denied it.
 * With a request id it gives back at most once, however often it is retried.
 */
final class RefundProcessor implements EntryProcessor<BucketKey, BucketRecord, Boolean>,
        IdentifiedDataSerializable, HazelcastInstanceAware {

    private Algorithm algorithm;
    private long cost;
    private long marker;
    private long requestId;

    private transient StoreContext context;
    private transient StateBackup backup;

    RefundProcessor() {
    }

    RefundProcessor(Algorithm algorithm, long cost, long marker, long requestId) {
        this.algorithm = algorithm;
        this.cost = cost;
        this.marker = marker;
        this.requestId = requestId;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.context = (StoreContext) hazelcastInstance.getUserContext().get(StoreContext.USER_CONTEXT_KEY);
    }

    @Override
    public Boolean process(Map.Entry<BucketKey, BucketRecord> entry) {
        backup = null;
        BucketRecord record = entry.getValue();
        if (record == null) {
            return Boolean.FALSE;
        }
        long now = context.clock().nanos();
        RecentRequests recent = requestId == 0 ? null : record.recent();
        int known = -1;
        if (recent != null) {
            recent.prune(now);
            known = recent.find(requestId);
            if (known >= 0 && (recent.flags(known) & RecentRequests.REFUNDED) != 0) {
                return Boolean.FALSE;
            }
        }
        // Read once: a record holding a two-number state builds a new object each time it is asked.
        BucketState current = record.state();
        BucketState next = algorithm.refund(current, now, cost, marker);
        if (next == null && known < 0) {
            return Boolean.FALSE;
        }
        if (next != null) {
            record = BucketRecord.holding(record, next, false);
            current = next;
        }
        int flags = 0;
        if (known >= 0) {
            flags = recent.flags(known) | RecentRequests.REFUNDED;
            recent.update(known, flags, marker);
        }
        record.keepUntil(now + algorithm.restAfterNanos(current, now));
        entry.setValue(record);
        backup = new StateBackup(current, record.keepUntil(), known >= 0 ? requestId : 0, now, now + context.requestMemoryNanos(),
                flags, marker);
        return next != null;
    }

    @Override
    public EntryProcessor<BucketKey, BucketRecord, Boolean> getBackupProcessor() {
        @SuppressWarnings("unchecked")
        EntryProcessor<BucketKey, BucketRecord, Boolean> b = (EntryProcessor<BucketKey, BucketRecord, Boolean>) (EntryProcessor<?, ?, ?>) backup;
        return b;
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
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.REFUND_PROCESSOR;
    }
}
