package dev.sluice.client;

import java.util.concurrent.Executor;

/**
 * The gRPC I/O threads answers arrive on: the one place the client looks at which thread it runs
 * on. Answers complete there by default, as Lettuce and Netty-based clients do; handing each
 * answer to a pool thread instead cost about half of a busy client's CPU in the benchmark
 * ({@code docs/performance.md}).
 */
final class IoThreads {

    private IoThreads() {
    }

    /** Set while an answer is delivered on an I/O thread by {@link #EXECUTOR}, where waiting for another answer would stall. */
    private static final ThreadLocal<Boolean> DELIVERING = ThreadLocal.withInitial(() -> Boolean.FALSE);

    /** Runs answer callbacks on the I/O thread that read the answer, marking it as such while they run. */
    static final Executor EXECUTOR = task -> {
        if (DELIVERING.get()) {
            task.run();
            return;
        }
        DELIVERING.set(Boolean.TRUE);
        try {
            task.run();
        } finally {
            DELIVERING.set(Boolean.FALSE);
        }
    };

    /** Whether the calling thread is delivering answers, where blocking for another would stall them all. */
    static boolean delivering() {
        return DELIVERING.get();
    }

    /**
     * The Netty event loop the calling thread runs, if it runs one: a write queued on it goes out
     * once the thread has delivered what it read. gRPC has no public way to ask; Netty's own map
     * of threads to event loops is read here, and only here.
     */
    static Executor currentEventLoop() {
        return io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap.currentExecutor();
    }
}
