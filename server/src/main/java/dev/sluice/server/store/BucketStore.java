package dev.sluice.server.store;

import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.ListenerConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MetadataPolicy;
import com.hazelcast.config.SerializerConfig;
import com.hazelcast.config.SplitBrainProtectionConfig;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionOn;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IndeterminateOperationStateException;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.Outcome;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Bucket state in a partitioned {@link IMap}, one entry per bucket, one synchronous backup. Callers
 * name a bucket by its readable name; the map holds it under that name's {@link BucketKey}.
 * Every decision is a single entry-processor call on the key's partition owner; nothing here
 * reads a bucket and writes it back from the caller's side.
 *
 * <p>Hazelcast is told to fail, rather than silently retry, an operation whose outcome is
 * unknown (its member died after it may have run). Such an operation is retried here only when it
 * carries a request id, which the bucket remembers: a retry is then answered without being
 * applied twice. Without an id the failure is reported, never guessed at.
 */
public final class BucketStore {

    /** The map holding every bucket. */
    public static final String MAP_NAME = "sluice-buckets";

    /** Synchronous backups of every bucket: one, so a bucket is lost only when two members go at once. */
    public static final int BACKUP_COUNT = 1;

    /** How long an operation waits for its backup's acknowledgement before its outcome counts as unknown. */
    static final long BACKUP_TIMEOUT_MILLIS = 1500;

    /** How many times an operation whose outcome is unknown is tried again. */
    static final int INDETERMINATE_RETRIES = 3;

    /**
     * Starts retries. Retries are asked for from Hazelcast's partition threads, which refuse to start a
     * call like {@link MapCalls#call} for a partition another thread serves.
     */
    private static final Executor RETRIES = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sluice-store-retries");
        t.setDaemon(true);
        return t;
    });

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(BucketStore.class.getName());

    private final HazelcastInstance hazelcast;
    private final IMap<BucketKey, BucketRecord> map;
    private final MapCalls calls;
    private final AtomicLong retried = new AtomicLong();
    private final AtomicLong replayed = new AtomicLong();

    public BucketStore(HazelcastInstance hazelcast) {
        this.hazelcast = hazelcast;
        this.map = hazelcast.getMap(MAP_NAME);
        this.calls = new MapCalls(map);
    }

    /** Name of the split-brain protection the bucket map uses when a minimum cluster size is set. */
    public static final String MINIMUM_SIZE_PROTECTION = "sluice-minimum-cluster-size";

    /** Adds the bucket map, the serializers and the member's store context to a member configuration. */
    public static void configure(Config config, StoreContext context) {
        configure(config, context, 0);
    }

    /**
     * As {@link #configure(Config, StoreContext)}; with {@code minimumClusterSize} above 1, a
     * member that sees fewer members than that refuses to decide (its side of a split is too small
     * to be trusted with the limits) instead of deciding alone.
     */
    public static void configure(Config config, StoreContext context, int minimumClusterSize) {
        AsyncCompletions.install();
        config.getSerializationConfig().addDataSerializableFactory(StoreSerialization.FACTORY_ID, new StoreSerialization());
        config.getSerializationConfig().addSerializerConfig(new SerializerConfig().setTypeClass(BucketKey.class)
                .setImplementation(new BucketKey.Serializer()));
        config.getUserContext().put(StoreContext.USER_CONTEXT_KEY, context);
        // An operation whose member died after it may have run fails instead of being re-run blindly.
        config.setProperty("hazelcast.operation.fail.on.indeterminate.state", "true");
        // While partitions move, a backup sent to a member that has just stopped being the backup
        // is dropped there, and the caller hears nothing until the backup timeout (5 s by
        // default), then fails as indeterminate: a member joining or leaving made some decisions
        // wait that long. A shorter wait turns them into a prompt retry, answered from the ids.
        config.setProperty("hazelcast.operation.backup.timeout.millis", Long.toString(BACKUP_TIMEOUT_MILLIS));
        MapConfig map = new MapConfig(MAP_NAME)
                .setBackupCount(BACKUP_COUNT)
                .setAsyncBackupCount(0)
                // Entry processors change the record in place; backups receive deltas.
                .setInMemoryFormat(InMemoryFormat.OBJECT)
                .setStatisticsEnabled(true)
                // Records are not JSON: nothing to index or query, so no metadata to keep per write.
                .setMetadataPolicy(MetadataPolicy.OFF);
        map.getMergePolicyConfig().setPolicy(MostConsumedMergePolicy.class.getName());
        if (minimumClusterSize > 1) {
            config.addSplitBrainProtectionConfig(new SplitBrainProtectionConfig(MINIMUM_SIZE_PROTECTION, true, minimumClusterSize)
                    .setProtectOn(SplitBrainProtectionOn.READ_WRITE));
            map.setSplitBrainProtectionName(MINIMUM_SIZE_PROTECTION);
        }
        config.addMapConfig(map);
        config.addListenerConfig(new ListenerConfig(new RestedSweeper()));
    }

    /**
     * Decides {@code cost} units of {@code algorithm} for the bucket at {@code key}, on its owner.
     * A non-zero {@code requestId} is remembered by the bucket, so a repeat of it is answered
     * without being applied twice. The future completes on a Hazelcast thread; callers must not
     * block in its callbacks or start cluster calls from them.
     */
    public CompletableFuture<Outcome> acquire(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied,
                                              long requestId) {
        AcquireProcessor processor = new AcquireProcessor(algorithm, cost, consume, countDenied, requestId);
        return submit(key, processor, requestId != 0, this::outcome);
    }

    /** {@link #acquire(String, Algorithm, long, boolean, boolean, long)} without a request id. */
    public CompletableFuture<Outcome> acquire(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied) {
        return acquire(key, algorithm, cost, consume, countDenied, 0);
    }

    /**
     * Gives back {@code cost} units taken by an earlier decision that returned {@code marker}; with
     * the request's id, at most once.
     */
    public CompletableFuture<Boolean> refund(String key, Algorithm algorithm, long cost, long marker, long requestId) {
        return submit(key, new RefundProcessor(algorithm, cost, marker, requestId), requestId != 0, Function.identity());
    }

    public CompletableFuture<Boolean> refund(String key, Algorithm algorithm, long cost, long marker) {
        return refund(key, algorithm, cost, marker, 0);
    }

    /** An answer from a bucket as an outcome, counting it when it was a repeat. */
    private Outcome outcome(AcquireResult r) {
        if (r.replayed()) {
            replayed.incrementAndGet();
        }
        return r.toOutcome();
    }

    /**
     * Runs {@code processor} on the key's owner. A {@code retriable} operation (one whose every
     * request carries an id the bucket remembers) is run again when its outcome is unknown.
     */
    private <R, T> CompletableFuture<T> submit(String name, EntryProcessor<BucketKey, BucketRecord, R> processor, boolean retriable,
                                               Function<R, T> convert) {
        CompletableFuture<T> result = new CompletableFuture<>();
        attempt(BucketKey.of(name), name, processor, retriable, convert, result, 0);
        return result;
    }

    private <R, T> void attempt(BucketKey key, String name, EntryProcessor<BucketKey, BucketRecord, R> processor, boolean retriable,
                                Function<R, T> convert, CompletableFuture<T> result, int tries) {
        follow(calls.call(key, processor), key, name, processor, retriable, convert, result, tries);
    }

    /** Completes {@code result} from one try's answer, or tries again when its outcome is unknown and it may be. */
    private <R, T> void follow(CompletionStage<R> answer, BucketKey key, String name, EntryProcessor<BucketKey, BucketRecord, R> processor,
                               boolean retriable, Function<R, T> convert, CompletableFuture<T> result, int tries) {
        answer.whenCompleteAsync((r, e) -> {
            if (e == null) {
                result.complete(convert.apply(r));
            } else if (retriable && tries < INDETERMINATE_RETRIES && indeterminate(e)) {
                retried.incrementAndGet();
                if (LOG.isLoggable(java.util.logging.Level.FINE)) {
                    LOG.fine("outcome unknown, asking again (try " + (tries + 1) + "): " + name + " " + processor + ": " + e);
                }
                RETRIES.execute(() -> attempt(key, name, processor, retriable, convert, result, tries + 1));
            } else {
                result.completeExceptionally(e);
            }
        }, MapCalls.DIRECT);
    }

    private static boolean indeterminate(Throwable e) {
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return t instanceof IndeterminateOperationStateException;
    }

    /**
     * Decides many commands at once. Commands on different buckets go to their owners as
     * separate operations, all in flight together; the commands for one bucket (a hot key asked
     * many times at once) are coalesced into a single visit that decides them one after the
     * other, in the order given. The calls start together ({@link MapCalls#startTogether}: from
     * the partition threads that will run them, on a member). Returns one future per command, in
     * command order; each completes when its own bucket has answered.
     */
    public List<CompletableFuture<Outcome>> acquireAll(List<Command> commands) {
        List<CompletableFuture<Outcome>> out = new ArrayList<>(commands.size());
        Map<String, List<Integer>> byKey = new LinkedHashMap<>(commands.size() * 2);
        for (int i = 0; i < commands.size(); i++) {
            out.add(null);
            byKey.computeIfAbsent(commands.get(i).key(), k -> new ArrayList<>(1)).add(i);
        }
        List<Visit<?, ?>> visits = new ArrayList<>(byKey.size());
        for (List<Integer> at : byKey.values()) {
            if (at.size() == 1) {
                Command c = commands.get(at.get(0));
                Visit<AcquireResult, Outcome> visit = new Visit<>(c.key(),
                        new AcquireProcessor(c.algorithm(), c.cost(), c.consume(), c.countDenied(), c.requestId()),
                        c.requestId() != 0, this::outcome);
                visits.add(visit);
                out.set(at.get(0), visit.result);
                continue;
            }
            List<Command> group = new ArrayList<>(at.size());
            boolean allIdentified = true;
            for (int i : at) {
                group.add(commands.get(i));
                allIdentified &= commands.get(i).requestId() != 0;
            }
            // Retried after an unknown outcome only when every command in it can be recognised again.
            Visit<AcquireResults, AcquireResult[]> visit = new Visit<>(group.get(0).key(), new CoalescedAcquireProcessor(group),
                    allIdentified, AcquireResults::results);
            visits.add(visit);
            for (int j = 0; j < at.size(); j++) {
                int index = j;
                out.set(at.get(j), visit.result.thenApply(rs -> outcome(rs[index])));
            }
        }
        calls.startTogether(visits);
        return out;
    }

    /** One entry-processor call of a batch: retried as {@link #attempt} retries, answered into {@link #result}. */
    private final class Visit<R, T> extends MapCalls.Pending<R> {
        final String name;
        final boolean retriable;
        final Function<R, T> convert;
        final CompletableFuture<T> result = new CompletableFuture<>();

        Visit(String name, EntryProcessor<BucketKey, BucketRecord, R> processor, boolean retriable, Function<R, T> convert) {
            super(BucketKey.of(name), processor);
            this.name = name;
            this.retriable = retriable;
            this.convert = convert;
        }

        @Override
        void started(CompletionStage<R> answer) {
            follow(answer, key, name, processor, retriable, convert, result, 0);
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

    /** Operations retried after their outcome was unknown, since this store was made. */
    public long indeterminateRetries() {
        return retried.get();
    }

    /** Requests answered as repeats of ones already applied, since this store was made. */
    public long replays() {
        return replayed.get();
    }

    /** Number of buckets held by this member as owner. */
    public long localBucketCount() {
        return map.getLocalMapStats().getOwnedEntryCount();
    }
}
