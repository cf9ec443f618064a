package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

/**
 * What the entry processors that run on a bucket's owner share: the member's {@link StoreContext}
 * (its decision clock and request memory), handed over by the member as it runs them, and the
 * delta the backup applies, which each run sets ({@code null} when nothing changed, so a denial or
 * a dry run costs no backup round trip). The backup receives that delta, never the command.
 *
 * @param <R> what the processor answers
 */
abstract class OwnerProcessor<R> implements EntryProcessor<BucketKey, BucketRecord, R>, IdentifiedDataSerializable,
        HazelcastInstanceAware {

    transient StoreContext context;
    private transient EntryProcessor<BucketKey, BucketRecord, ?> backup;

    @Override
    public final void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
        this.context = (StoreContext) hazelcastInstance.getUserContext().get(StoreContext.USER_CONTEXT_KEY);
    }

    /** Sets what the backup applies after this run; {@code null} for nothing. */
    final void backup(EntryProcessor<BucketKey, BucketRecord, ?> delta) {
        this.backup = delta;
    }

    @Override
    public final EntryProcessor<BucketKey, BucketRecord, R> getBackupProcessor() {
        // Hazelcast ignores a backup processor's result: its type need not match.
        @SuppressWarnings("unchecked")
        EntryProcessor<BucketKey, BucketRecord, R> b = (EntryProcessor<BucketKey, BucketRecord, R>) backup;
        return b;
    }

    @Override
    public final int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }
}
