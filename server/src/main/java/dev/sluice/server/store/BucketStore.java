package dev.sluice.server.store;

import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.MapConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.Outcome;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Bucket state in a partitioned {@link IMap}, one entry per bucket key, one synchronous backup.
 * Every decision is a single entry-processor call on the key's partition owner; nothing here
 * reads a bucket and writes it back from the caller's side.
 */
public final class BucketStore {

    /** The map holding every bucket. */
    public static final String MAP_NAME = "sluice-buckets";

    /** Completes callbacks on the thread that completes Hazelcast's future: no hop, no new thread. */
    private static final Executor DIRECT = Runnable::run;

    private final IMap<String, BucketRecord> map;

    public BucketStore(HazelcastInstance hazelcast) {
        this.map = hazelcast.getMap(MAP_NAME);
    }

    /** Adds the bucket map, the serializers and the member's store context to a member configuration. */
    public static void configure(Config config, StoreContext context) {
        config.getSerializationConfig().addDataSerializableFactory(StoreSerialization.FACTORY_ID, new StoreSerialization());
        config.getUserContext().put(StoreContext.USER_CONTEXT_KEY, context);
        config.addMapConfig(new MapConfig(MAP_NAME)
                .setBackupCount(1)
                .setAsyncBackupCount(0)
                .setInMemoryFormat(InMemoryFormat.BINARY)
                .setStatisticsEnabled(true));
    }

    /**
     * Decides {@code cost} units of {@code algorithm} for the bucket at {@code key}, on its owner.
     * The future completes on a Hazelcast thread; callers must not block in its callbacks.
     */
    public CompletableFuture<Outcome> acquire(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied) {
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        map.submitToKey(key, new AcquireProcessor(algorithm, cost, consume, countDenied))
                .whenCompleteAsync((r, e) -> {
                    if (e != null) {
                        result.completeExceptionally(e);
                    } else {
                        result.complete(r.toOutcome());
                    }
                }, DIRECT);
        return result;
    }

    /** Gives back {@code cost} units taken by an earlier decision that returned {@code marker}. */
    public CompletableFuture<Boolean> refund(String key, Algorithm algorithm, long cost, long marker) {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        map.submitToKey(key, new RefundProcessor(algorithm, cost, marker))
                .whenCompleteAsync((r, e) -> {
                    if (e != null) {
                        result.completeExceptionally(e);
                    } else {
                        result.complete(r);
                    }
                }, DIRECT);
        return result;
    }

    /** Number of buckets held by this member as owner. */
    public long localBucketCount() {
        return map.getLocalMapStats().getOwnedEntryCount();
    }
}
