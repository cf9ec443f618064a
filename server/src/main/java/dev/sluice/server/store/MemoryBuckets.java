package dev.sluice.server.store;

import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.Outcome;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Buckets in this JVM's memory: the same records, the same algorithms and the same steps
 * ({@link BucketUpdate}) as the Hazelcast-backed store, without a cluster, a backup or
 * serialization. Each command is applied atomically per bucket ({@link ConcurrentHashMap#compute})
 * and its future is complete when this returns. For unit tests and offline tools (replaying a
 * request log through the real engine); a node keeps its buckets in the cluster.
 */
public final class MemoryBuckets implements Buckets {

    private final Map<BucketKey, BucketRecord> records = new ConcurrentHashMap<>();
    private final StoreContext context;
    private final AtomicLong replayed = new AtomicLong();

    public MemoryBuckets(StoreContext context) {
        this.context = context;
    }

    @Override
    public List<CompletableFuture<Outcome>> acquireAll(List<Command> commands) {
        List<CompletableFuture<Outcome>> out = new ArrayList<>(commands.size());
        for (Command c : commands) {
            context.budget().held(records.size());
            BucketAnswer answer = apply(c.key(), entry -> BucketUpdate.acquire(entry, context, c).answer());
            if (answer.isRefusedFull()) {
                out.add(CompletableFuture.failedFuture(BucketStore.FULL));
                continue;
            }
            if (answer.replayed()) {
                replayed.incrementAndGet();
            }
            out.add(CompletableFuture.completedFuture(answer.toOutcome()));
        }
        return out;
    }

    @Override
    public CompletableFuture<Boolean> refund(Refund r) {
        return CompletableFuture.completedFuture(apply(r.key(),
                entry -> BucketUpdate.refund(entry, context, r.algorithm(), r.cost(), r.marker(), r.requestId()).answer()));
    }

    @Override
    public CompletableFuture<BucketView> inspect(String key, Algorithm algorithm, long cost) {
        return CompletableFuture.completedFuture(BucketUpdate.inspect(records.get(BucketKey.of(key)), context, algorithm, cost));
    }

    @Override
    public CompletableFuture<Long> renew(String key, Algorithm algorithm, long id) {
        return CompletableFuture.completedFuture(apply(key, entry -> BucketUpdate.renew(entry, context, algorithm, id).answer()));
    }

    @Override
    public CompletableFuture<Settlement> settle(String key, Algorithm algorithm, long requestId, long actual) {
        return CompletableFuture.completedFuture(apply(key, entry -> BucketUpdate.settle(entry, context, algorithm, requestId, actual).answer()));
    }

    @Override
    public CompletableFuture<Boolean> reset(String key) {
        return CompletableFuture.completedFuture(records.remove(BucketKey.of(key)) != null);
    }

    /** Runs {@code step} on the bucket named {@code name}, atomically, and stores what it leaves. */
    private <R> R apply(String name, java.util.function.Function<Map.Entry<BucketKey, BucketRecord>, R> step) {
        BucketKey key = BucketKey.of(name);
        Object[] result = new Object[1];
        records.compute(key, (k, current) -> {
            Slot slot = new Slot(k, current);
            result[0] = step.apply(slot);
            return slot.value;
        });
        @SuppressWarnings("unchecked")
        R r = (R) result[0];
        return r;
    }

    /** Removes the buckets past the time they must be kept, less the grace, by the context's clock. */
    public int sweepRested() {
        long cutoff = context.sweepCutoff();
        int before = records.size();
        records.values().removeIf(r -> r.keepUntil() < cutoff);
        return before - records.size();
    }

    /** Buckets held now. */
    public int size() {
        return records.size();
    }

    /** Requests answered as repeats of ones already applied. */
    public long replays() {
        return replayed.get();
    }

    /** The entry a step sees: the bucket's record, and what it sets. */
    private static final class Slot implements Map.Entry<BucketKey, BucketRecord> {
        private final BucketKey key;
        private BucketRecord value;

        Slot(BucketKey key, BucketRecord value) {
            this.key = key;
            this.value = value;
        }

        @Override
        public BucketKey getKey() {
            return key;
        }

        @Override
        public BucketRecord getValue() {
            return value;
        }

        @Override
        public BucketRecord setValue(BucketRecord next) {
            BucketRecord old = value;
            value = next;
            return old;
        }
    }
}
