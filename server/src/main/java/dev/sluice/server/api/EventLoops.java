package dev.sluice.server.api;

import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutorGroup;

import java.util.concurrent.Executor;

/**
 * The node's gRPC event loops, and which of them the calling thread runs. Decisions complete on
 * the store's threads; an answer written from there is flushed to the socket on its own, one
 * system call per answer, while answers handed back to the event loop the call arrived on are
 * written together with the others queued there, in one flush. Found through Netty's public API:
 * the node owns the group, and each thread learns once which loop it is.
 */
public final class EventLoops {

    /** Runs a task at once, on the calling thread: where there is no event loop to go back to. */
    static final Executor DIRECT = Runnable::run;

    private static final EventLoops NONE = new EventLoops(null);

    private final EventExecutorGroup group;
    private final ThreadLocal<Executor> current = ThreadLocal.withInitial(this::find);

    private EventLoops(EventExecutorGroup group) {
        this.group = group;
    }

    /** The loops of {@code group}, which serves the node's gRPC calls. */
    public static EventLoops of(EventExecutorGroup group) {
        return new EventLoops(group);
    }

    /** No event loops: calls arrive on other threads (in-process transports), and answers are sent from where they are made. */
    public static EventLoops none() {
        return NONE;
    }

    /** The event loop the calling thread runs, or {@link #DIRECT} when it runs none of the node's. */
    Executor current() {
        return group == null ? DIRECT : current.get();
    }

    private Executor find() {
        for (EventExecutor loop : group) {
            if (loop.inEventLoop()) {
                return loop;
            }
        }
        return DIRECT;
    }
}
