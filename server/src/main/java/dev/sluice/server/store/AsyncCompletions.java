package dev.sluice.server.store;

import com.hazelcast.internal.util.ConcurrencyUtil;

import java.util.concurrent.ForkJoinPool;

/**
 * Hazelcast completes some stages of every map future on its "default async executor": the
 * JVM's common ForkJoinPool, or, when that pool has a parallelism of 1 (any machine with fewer
 * than three CPUs), a new thread per task. On two cores that cost two thread starts per
 * decision and capped a member at about 4,000 entry-processor calls a second. This installs a
 * proper pool instead, once per JVM, without relying on a command-line flag.
 */
final class AsyncCompletions {

    private static volatile boolean installed;

    private AsyncCompletions() {
    }

    static synchronized void install() {
        if (installed || ForkJoinPool.getCommonPoolParallelism() > 1) {
            installed = true;
            return;
        }
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        ForkJoinPool pool = new ForkJoinPool(threads, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("sluice-hz-async-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, true);
        // Public, documented for test runners, in an internal package: there is no other hook.
        ConcurrencyUtil.setDefaultAsyncExecutor(pool);
        installed = true;
    }
}
