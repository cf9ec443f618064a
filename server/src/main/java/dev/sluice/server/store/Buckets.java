package dev.sluice.server.store;

import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.Outcome;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where bucket state lives, as the engine sees it: the port every store implements (the
 * Hazelcast-backed {@link BucketStore}, the in-memory {@link MemoryBuckets}). Each command is
 * applied atomically on the bucket it names, with the store's own clock read once for it.
 *
 * <p>No method throws or blocks. A command that cannot be applied fails its future with a
 * {@link StoreException}, which says whether the outcome is unknown (the command may have been
 * applied), the store is unavailable, below its minimum size or overloaded. Futures may complete
 * on the store's own threads: callbacks must not block, and must not start further store calls
 * inline (hand them to an executor of their own).
 */
public interface Buckets {

    /**
     * Applies every command, all in flight together. Commands on one bucket are applied in the
     * order given. Returns one future per command, in command order; each completes as soon as
     * its own bucket has answered.
     */
    List<CompletableFuture<Outcome>> acquireAll(List<Command> commands);

    /** {@link #acquireAll} for one command. */
    default CompletableFuture<Outcome> acquire(Command command) {
        return acquireAll(List.of(command)).get(0);
    }

    /**
     * Gives back units an earlier command took; with the command's request id, at most once
     * however often it is asked. Completes with whether anything was given back (false when the
     * units had already expired, or were given back before).
     */
    CompletableFuture<Boolean> refund(Refund refund);

    /**
     * The bucket named {@code key} as it is now, read where it lives without changing it, with
     * whether {@code cost} units of it could be spent now.
     */
    CompletableFuture<BucketView> inspect(String key, Algorithm algorithm, long cost);

    /**
     * Puts the bucket named {@code key} back at rest, wherever copies of it are held, forgetting
     * the requests it remembered. Completes with whether it held anything.
     */
    CompletableFuture<Boolean> reset(String key);

    /**
     * Extends the lease {@code id} holds on a concurrency limit's bucket named {@code key} to a
     * whole lease from now. Completes with the lease's length in nanoseconds, or -1 when the lease
     * is not held (given back, or run out).
     */
    CompletableFuture<Long> renew(String key, Algorithm algorithm, long id);

    /**
     * Settles the cost of request {@code requestId} on the bucket named {@code key} at
     * {@code actual} units: charges or gives back the difference from what it was charged, at most
     * once however often it is asked (a retry answers {@link Settlement.Result#ALREADY_SETTLED}).
     */
    CompletableFuture<Settlement> settle(String key, Algorithm algorithm, long requestId, long actual);

    /** The partition the bucket named {@code key} lives in, for clients that route by it; -1 for a store without partitions. */
    default int partitionOf(String key) {
        return -1;
    }
}
