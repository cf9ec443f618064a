package dev.sluice.server.store;

import com.hazelcast.internal.util.ConcurrencyUtil;

import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * Hazelcast completes the future {@code IMap.submitToKey} returns on its "default async
 * executor": the JVM's common ForkJoinPool, or, when that pool has a parallelism of 1 (any machine
 * with fewer than three CPUs), a new thread per task. On two cores that cost two thread starts per
 * decision and capped a member at about 4,000 entry-processor calls a second. A store that uses
 * Hazelcast's public API alone therefore leases a proper pool while it runs: installed by the first
 * lease, removed (the previous executor put back) when the last is closed. The internal path
 * ({@link MapCalls}) reads its answers in place and needs none, so by default nothing JVM-wide is
 * changed.
 */
final class AsyncCompletions implements AutoCloseable {

    private static final Object LOCK = new Object();
    private static int leases;
    private static ForkJoinPool pool;
    private static Executor previous;

    private boolean closed;

    private AsyncCompletions() {
    }

    /** A lease on a proper pool, or on nothing when the common pool is already one. */
    static AsyncCompletions lease() {
        synchronized (LOCK) {
            if (leases++ == 0 && ForkJoinPool.getCommonPoolParallelism() < 2) {
                int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
                pool = new ForkJoinPool(threads, p -> {
                    var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                    t.setName("sluice-hz-async-" + t.getPoolIndex());
                    t.setDaemon(true);
                    return t;
                }, null, true);
                previous = ConcurrencyUtil.getDefaultAsyncExecutor();
                // Public, documented for test runners, in an internal package: there is no other hook.
                ConcurrencyUtil.setDefaultAsyncExecutor(pool);
            }
            return new AsyncCompletions();
        }
    }

    @Override
    public void close() {
        synchronized (LOCK) {
            if (closed) {
                return;
            }
            closed = true;
            if (--leases == 0 && pool != null) {
                ConcurrencyUtil.setDefaultAsyncExecutor(previous);
                pool.shutdown();
                pool = null;
                previous = null;
            }
        }
    }
}
