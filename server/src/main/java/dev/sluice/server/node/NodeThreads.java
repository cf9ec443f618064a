package dev.sluice.server.node;

import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Every thread a node starts itself, named for what it does and stopped when the node closes: the
 * gRPC server's event loops (its own, not gRPC's JVM-wide shared ones), the follow-up thread that
 * starts give-backs and retries (which must not start from the store's threads), and a timer for
 * policy reloads and clock calibration. Hazelcast's member threads are the member's, stopped with it.
 */
final class NodeThreads implements AutoCloseable {

    /** Event loops for the gRPC server, as many as gRPC would start by default (two per core). */
    static final int EVENT_LOOPS = 2 * Runtime.getRuntime().availableProcessors();

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Class<? extends ServerChannel> channelType;
    private final ScheduledThreadPoolExecutor followUps;
    private final ScheduledThreadPoolExecutor timer;

    NodeThreads() {
        // Epoll where the platform has it, as gRPC chooses by default.
        if (Epoll.isAvailable()) {
            boss = new EpollEventLoopGroup(1, new DefaultThreadFactory("sluice-grpc-accept", true));
            workers = new EpollEventLoopGroup(EVENT_LOOPS, new DefaultThreadFactory("sluice-grpc", true));
            channelType = EpollServerSocketChannel.class;
        } else {
            boss = new NioEventLoopGroup(1, new DefaultThreadFactory("sluice-grpc-accept", true));
            workers = new NioEventLoopGroup(EVENT_LOOPS, new DefaultThreadFactory("sluice-grpc", true));
            channelType = NioServerSocketChannel.class;
        }
        followUps = scheduler("sluice-follow-ups");
        timer = scheduler("sluice-node-timer");
    }

    private static ScheduledThreadPoolExecutor scheduler(String name) {
        ThreadFactory named = r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, named);
        s.setRemoveOnCancelPolicy(true);
        // A timeout still pending when the node closes has nothing left to guard.
        s.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return s;
    }

    EventLoopGroup boss() {
        return boss;
    }

    EventLoopGroup workers() {
        return workers;
    }

    Class<? extends ServerChannel> channelType() {
        return channelType;
    }

    /** Starts give-backs and retries; never waits on them. */
    ScheduledExecutorService followUps() {
        return followUps;
    }

    /** Policy reloads and clock calibration. */
    ScheduledExecutorService timer() {
        return timer;
    }

    /** Stops every thread; the event loops finish what is queued on them first. */
    @Override
    public void close() {
        timer.shutdownNow();
        followUps.shutdown();
        try {
            followUps.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        followUps.shutdownNow();
        var stoppingWorkers = workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        var stoppingBoss = boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        stoppingWorkers.awaitUninterruptibly(2, TimeUnit.SECONDS);
        stoppingBoss.awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
}
