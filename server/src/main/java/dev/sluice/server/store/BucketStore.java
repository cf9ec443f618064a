package dev.sluice.server.store;

import com.hazelcast.config.Config;
import com.hazelcast.config.ListenerConfig;
import com.hazelcast.config.SerializerConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.Outcome;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Bucket state in a partitioned {@link IMap}, one entry per bucket, one synchronous backup. Callers
 * name a bucket by its readable name; the map holds it under that name's {@link BucketKey}.
 * Every command is a single entry-processor call on the key's partition owner; nothing here
 * reads a bucket and writes it back from the caller's side. Hazelcast's exceptions are turned
 * into {@link StoreException}s here.
 *
 * <p>The member is configured to fail, rather than silently retry, an operation whose outcome is
 * unknown (its member died after it may have run). Such an operation is retried here only when it
 * carries a request id, which the bucket remembers: a retry is then answered without being
 * applied twice. Without an id the failure is reported, never guessed at.
 */
public final class BucketStore implements Buckets, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(BucketStore.class.getName());

    /** The map holding every bucket. */
    public static final String MAP_NAME = "sluice-buckets";

    /** Synchronous backups of every bucket: one, so a bucket is lost only when two members go at once. */
    public static final int BACKUP_COUNT = 1;

    /** How many times an operation whose outcome is unknown is tried again. */
    static final int INDETERMINATE_RETRIES = 3;

    private final HazelcastInstance hazelcast;
    private final MapCalls calls;
    private final Executor retries;
    private final AsyncCompletions completions;
    private final AtomicLong retried = new AtomicLong();
    private final AtomicLong replayed = new AtomicLong();

    /**
     * @param internals whether calls may use Hazelcast's internal invocation API ({@link MapCalls}),
     *                  which is faster; false uses its public API alone
     * @param retries   starts the retries of operations whose outcome was unknown. They are found
     *                  out on Hazelcast's partition threads, which refuse to start a call for a
     *                  partition another thread serves; this executor only starts calls, it never
     *                  waits on them
     */
    public BucketStore(HazelcastInstance hazelcast, boolean internals, Executor retries) {
        this.hazelcast = hazelcast;
        IMap<BucketKey, BucketRecord> map = hazelcast.getMap(MAP_NAME);
        this.calls = MapCalls.of(map, internals, stats());
        this.retries = retries;
        this.completions = calls.internals() ? null : AsyncCompletions.lease();
    }

    /**
     * Registers what the store's classes need on the member they run on: their serializers, the
     * member's {@link StoreContext} (its decision clock and request memory), and the sweeper that
     * removes rested buckets. The map itself and the member's settings are the node's to configure.
     */
    public static void prepare(Config config, StoreContext context) {
        config.getSerializationConfig().addDataSerializableFactory(StoreSerialization.FACTORY_ID, new StoreSerialization());
        config.getSerializationConfig().addSerializerConfig(new SerializerConfig().setTypeClass(BucketKey.class)
                .setImplementation(new BucketKey.Serializer()));
        config.getUserContext().put(StoreContext.USER_CONTEXT_KEY, context);
        config.addListenerConfig(new ListenerConfig(new RestedSweeper()));
    }

    @Override
    public List<CompletableFuture<Outcome>> acquireAll(List<Command> commands) {
        List<CompletableFuture<Outcome>> out = new ArrayList<>(commands.size());
        Map<String, List<Integer>> byKey = new LinkedHashMap<>(commands.size() * 2);
        for (int i = 0; i < commands.size(); i++) {
            out.add(new CompletableFuture<>());
            byKey.computeIfAbsent(commands.get(i).key(), k -> new ArrayList<>(1)).add(i);
        }
        List<Visit<?>> visits = new ArrayList<>(byKey.size());
        for (List<Integer> at : byKey.values()) {
            if (at.size() == 1) {
                Command c = commands.get(at.get(0));
                CompletableFuture<Outcome> result = out.get(at.get(0));
                visits.add(new Visit<>(c.key(), new AcquireProcessor(c), c.requestId() != 0, answer -> answer(result, answer),
                        result::completeExceptionally));
                continue;
            }
            // The commands for one bucket (a hot key asked many times at once) in a single visit that
            // applies them one after the other, in the order given.
            List<Command> group = new ArrayList<>(at.size());
            List<CompletableFuture<Outcome>> results = new ArrayList<>(at.size());
            boolean allIdentified = true;
            for (int i : at) {
                group.add(commands.get(i));
                results.add(out.get(i));
                allIdentified &= commands.get(i).requestId() != 0;
            }
            // Retried after an unknown outcome only when every command in it can be recognised again.
            visits.add(new Visit<>(group.get(0).key(), new CoalescedAcquireProcessor(group), allIdentified, answers -> {
                BucketAnswer[] each = answers.results();
                for (int j = 0; j < each.length; j++) {
                    answer(results.get(j), each[j]);
                }
            }, e -> results.forEach(r -> r.completeExceptionally(e))));
        }
        calls.startTogether(visits);
        return out;
    }

    @Override
    public CompletableFuture<Boolean> refund(Refund r) {
        return visit(r.key(), new RefundProcessor(r.algorithm(), r.cost(), r.marker(), r.requestId()), r.requestId() != 0);
    }

    @Override
    public CompletableFuture<BucketView> inspect(String key, Algorithm algorithm, long cost) {
        return visit(key, new InspectProcessor(algorithm, cost), true);
    }

    @Override
    public CompletableFuture<Boolean> reset(String key) {
        // Retried when its outcome is unknown: removing a bucket twice leaves it as removing it once.
        return visit(key, new ResetProcessor(), true);
    }

    @Override
    public CompletableFuture<Long> renew(String key, Algorithm algorithm, long id) {
        // Retried when its outcome is unknown: renewing twice leaves the lease as renewing once, a lease later.
        return visit(key, new RenewProcessor(algorithm, id), true);
    }

    @Override
    public CompletableFuture<Settlement> settle(String key, Algorithm algorithm, long requestId, long actual) {
        // Retried when its outcome is unknown: the bucket marks the request settled, so a second try changes nothing.
        return visit(key, new SettleProcessor(algorithm, requestId, actual), true);
    }

    /** One entry-processor call on the bucket named {@code key}, started from this thread; its answer completes the future. */
    private <R> CompletableFuture<R> visit(String key, EntryProcessor<BucketKey, BucketRecord, R> processor, boolean retriable) {
        CompletableFuture<R> result = new CompletableFuture<>();
        calls.startHere(new Visit<>(key, processor, retriable, result::complete, result::completeExceptionally));
        return result;
    }

    @Override
    public int partitionOf(String key) {
        return hazelcast.getPartitionService().getPartition(BucketKey.of(key)).getPartitionId();
    }

    /** The member that owns the bucket named {@code key} now, or {@code null} while its partition has no owner. */
    public com.hazelcast.cluster.Member owner(String key) {
        return hazelcast.getPartitionService().getPartition(BucketKey.of(key)).getOwner();
    }

    /** Completes {@code result} with a bucket's answer, counting it when it was a repeat. */
    private void answer(CompletableFuture<Outcome> result, BucketAnswer r) {
        if (r.isRefusedFull()) {
            result.completeExceptionally(FULL);
            return;
        }
        if (r.replayed()) {
            replayed.incrementAndGet();
        }
        result.complete(r.toOutcome());
    }

    static final StoreException FULL = new StoreException(StoreException.Kind.FULL,
            "the member owning the bucket holds all the buckets it may and its domain refuses new ones");

    /**
     * One entry-processor call: its answer given to {@code answered}, or its failure, as a
     * {@link StoreException}, to {@code failed}. A {@code retriable} call (every command in it
     * carries an id the bucket remembers) is made again when its outcome is unknown.
     */
    private final class Visit<R> extends MapCalls.Call<R> {
        private final String name;
        private final boolean retriable;
        private final Consumer<R> answered;
        private final Consumer<StoreException> failed;
        private int tries;

        Visit(String name, EntryProcessor<BucketKey, BucketRecord, R> processor, boolean retriable,
              Consumer<R> answered, Consumer<StoreException> failed) {
            super(BucketKey.of(name), processor);
            this.name = name;
            this.retriable = retriable;
            this.answered = answered;
            this.failed = failed;
        }

        @Override
        void started(CompletionStage<R> answer) {
            answer.whenCompleteAsync((r, e) -> {
                if (e == null) {
                    answered.accept(r);
                    return;
                }
                StoreException failure = HazelcastFailures.translate(e);
                if (retriable && tries < INDETERMINATE_RETRIES && failure.kind() == StoreException.Kind.OUTCOME_UNKNOWN) {
                    tries++;
                    retried.incrementAndGet();
                    if (LOG.isLoggable(Level.FINE)) {
                        LOG.fine("outcome unknown, asking again (try " + tries + "): " + name + " " + processor + ": " + e);
                    }
                    try {
                        retries.execute(() -> calls.startHere(this));
                        return;
                    } catch (RejectedExecutionException stopping) {
                        // The node is closing: the unknown outcome is the answer.
                    }
                }
                failed.accept(failure);
            }, MapCalls.DIRECT);
        }
    }

    /**
     * Has the cluster assign its partitions now instead of at the first decision. Assigned later,
     * with other members already joined, the first decisions race the new partition table to the
     * backup members: a backup arriving before the table is dropped there, and its decision waits
     * out the backup timeout and then fails as indeterminate. Assigned while a
     * member starts, every member that joins later receives the table as it joins.
     */
    public static void assignPartitions(HazelcastInstance hazelcast) {
        hazelcast.getPartitionService().getPartitions().forEach(com.hazelcast.partition.Partition::getOwner);
    }

    /**
     * Removes now the buckets past the time they must be kept from the partitions this member
     * owns, as the member does by itself every sweep interval.
     */
    public void sweepRested() {
        RestedSweeper.sweepOwned(hazelcast);
    }

    /** The bucket budget of the member this store runs on. */
    public BucketBudget budget() {
        return ((StoreContext) hazelcast.getUserContext().get(StoreContext.USER_CONTEXT_KEY)).budget();
    }

    /** What this member's store has done in the background (sweeps). */
    public StoreStats stats() {
        return ((StoreContext) hazelcast.getUserContext().get(StoreContext.USER_CONTEXT_KEY)).stats();
    }

    /** Operations retried after their outcome was unknown, since this store was made. */
    public long indeterminateRetries() {
        return retried.get();
    }

    /** Requests answered as repeats of ones already applied, since this store was made. */
    public long replays() {
        return replayed.get();
    }

    /** Whether calls go through Hazelcast's internal invocation API. */
    public boolean usesInternals() {
        return calls.internals();
    }

    /** Gives back what this store leased (Hazelcast's async pool, on the public path); the member is not the store's to stop. */
    @Override
    public void close() {
        if (completions != null) {
            completions.close();
        }
    }
}
