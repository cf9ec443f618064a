package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import com.hazelcast.spi.merge.MergingValue;
import com.hazelcast.spi.merge.SplitBrainMergePolicy;
import dev.sluice.server.algorithm.BucketState;
import dev.sluice.server.algorithm.StateMerge;

/**
 * When a split cluster heals, each bucket keeps the more consumed of its two states (never the
 * fuller one, which Hazelcast's default policy could pick), so healing hands out no fresh
 * allowance.
 */
public final class MostConsumedMergePolicy
        implements SplitBrainMergePolicy<Object, MergingValue<Object>, Object>, IdentifiedDataSerializable {

    @Override
    public Object merge(MergingValue<Object> merging, MergingValue<Object> existing) {
        if (merging == null) {
            return existing.getRawValue();
        }
        if (existing == null) {
            return merging.getRawValue();
        }
        BucketRecord m = (BucketRecord) merging.getDeserializedValue();
        BucketRecord e = (BucketRecord) existing.getDeserializedValue();
        BucketState es = e.state();
        BucketState ms = m.state();
        BucketState kept = StateMerge.moreConsumed(es, ms);
        if (kept == es) {
            return existing.getRawValue();
        }
        if (kept == ms) {
            return merging.getRawValue();
        }
        return BucketRecord.holding(null, kept, false).keptUntil(Math.max(e.keepUntil(), m.keepUntil()));
    }

    @Override
    public void writeData(ObjectDataOutput out) {
    }

    @Override
    public void readData(ObjectDataInput in) {
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.MERGE_POLICY;
    }
}
