package dev.sluice.server.node;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.api.RateLimiterService;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.time.Clock;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * A running Sluice node: an embedded Hazelcast member holding bucket state, and a gRPC server
 * answering Acquire, health and reflection. Health turns SERVING once the member has joined
 * and the policies are loaded.
 */
public final class SluiceNode implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SluiceNode.class.getName());

    private final NodeSettings settings;
    private final HazelcastInstance hazelcast;
    private final Server server;
    private final HealthStatusManager health;
    private final RateLimiterService service;
    private final AtomicReference<Policies> policies;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ClusterEvents events = new ClusterEvents();
    private final ScheduledExecutorService calibration;
    private final PolicyWatcher watcher;

    private SluiceNode(NodeSettings settings, Policies initial, String initialContent) throws IOException {
        this.settings = settings;
        this.policies = new AtomicReference<>(initial);
        this.health = new HealthStatusManager();
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
        health.setStatus(RateLimiterGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
        // A production node decides with the cluster's time, so members with skewed wall
        // clocks agree; tests bring a clock of their own.
        ClusterClock clusterClock = settings.clock() == Clock.system() ? new ClusterClock() : null;
        NodeSettings effective = clusterClock == null ? settings : settings.toBuilder().clock(clusterClock).build();
        // Joins holding no partitions and takes its share once started: a member whose start-up has
        // not completed refuses the migrations and ignores the backups sent to it (Hazelcast issue
        // 19551), which made the cluster's decisions wait out backup timeouts while it joined.
        this.hazelcast = Hazelcast.newHazelcastInstance(MemberConfig.of(effective).setLiteMember(true));
        hazelcast.getCluster().promoteLocalLiteMember();
        if (clusterClock != null) {
            clusterClock.calibrate(() -> hazelcast.getCluster().getClusterTime());
            this.calibration = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sluice-clock");
                t.setDaemon(true);
                return t;
            });
            calibration.scheduleWithFixedDelay(() -> clusterClock.calibrate(() -> hazelcast.getCluster().getClusterTime()),
                    5, 5, TimeUnit.SECONDS);
        } else {
            this.calibration = null;
        }
        events.watch(hazelcast);
        try {
            BucketStore.assignPartitions(hazelcast);
            this.service = new RateLimiterService(policies::get, new DecisionEngine(new BucketStore(hazelcast)),
                    effective.clock(), settings.maxInFlight());
            LeakDetection.offUnlessAsked();
            this.server = NettyServerBuilder.forAddress(new InetSocketAddress(settings.host(), settings.port()))
                    .directExecutor()
                    .maxInboundMessageSize(256 * 1024)
                    .addService(service)
                    .addService(health.getHealthService())
                    .addService(ProtoReflectionServiceV1.newInstance())
                    .build()
                    .start();
        } catch (IOException | RuntimeException e) {
            hazelcast.shutdown();
            throw e;
        }
        this.watcher = settings.policiesFile() != null && initialContent != null && !settings.policyReloadInterval().isZero()
                ? new PolicyWatcher(settings.policiesFile(), initialContent, settings.policyReloadInterval(), this::replacePolicies)
                : null;
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
        health.setStatus(RateLimiterGrpc.SERVICE_NAME, ServingStatus.SERVING);
        LOG.info(() -> "Sluice node serving gRPC on " + settings.host() + ":" + server.getPort() + ", member "
                + hazelcast.getCluster().getLocalMember().getAddress() + " in a cluster of "
                + hazelcast.getCluster().getMembers().size() + ", policies " + initial.source() + " (version "
                + initial.version() + ", domains " + String.join(", ", initial.domainNames()) + ")");
    }

    /** Loads the policies and starts a node; fails on an invalid policy file without starting anything. */
    public static SluiceNode start(NodeSettings settings) throws IOException, PolicyException {
        if (settings.policies() != null) {
            return new SluiceNode(settings, settings.policies(), null);
        }
        if (settings.policiesFile() != null) {
            String content = java.nio.file.Files.readString(settings.policiesFile(), java.nio.charset.StandardCharsets.UTF_8);
            return new SluiceNode(settings, PolicyLoader.parse(content, settings.policiesFile().toString()), content);
        }
        return new SluiceNode(settings, PolicyLoader.bundledDemo(), null);
    }

    /** The port gRPC listens on (useful when started on port 0). */
    public int port() {
        return server.getPort();
    }

    public HazelcastInstance hazelcast() {
        return hazelcast;
    }

    public NodeSettings settings() {
        return settings;
    }

    public Policies policies() {
        return policies.get();
    }

    /** Acquire calls this node has received since it started. */
    public long callsReceived() {
        return service.calls();
    }

    /** Acquire calls this node has taken and not yet answered. */
    public int callsInFlight() {
        return service.inFlight();
    }

    /** Puts new policies in force for every call that starts after this returns. */
    public void replacePolicies(Policies next) {
        Policies previous = policies.getAndSet(next);
        LOG.info(() -> "policies " + next.source() + " version " + next.version() + " in force (was " + previous.version() + ")");
    }

    /** Blocks until the gRPC server has terminated. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /**
     * Stops gracefully: reports NOT_SERVING, keeps serving for the drain delay (so load
     * balancers and clients move away first), stops taking calls, lets calls in flight finish
     * (up to the shutdown grace), then leaves the cluster with its partitions migrated to the
     * remaining members.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        health.enterTerminalState();
        if (watcher != null) {
            watcher.close();
        }
        if (!settings.drainDelay().isZero()) {
            LOG.info(() -> "NOT_SERVING; draining for " + settings.drainDelay().toMillis() + " ms before closing");
            try {
                Thread.sleep(settings.drainDelay().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        server.shutdown();
        // A stream would otherwise hold the shutdown for its whole grace: each answers what it has read and ends.
        service.endStreams();
        try {
            long deadline = System.nanoTime() + settings.shutdownGrace().toNanos();
            if (!server.awaitTermination(settings.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
            }
            // Calls whose answers are still on their way back from the cluster.
            while (service.inFlight() > 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                Thread.sleep(1);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
        hazelcast.shutdown();
        if (calibration != null) {
            calibration.shutdownNow();
        }
        LOG.info("Sluice node stopped");
    }

    /** Stops at once, as a crash would: no migration, no waiting. For tests. */
    public void crash() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.shutdownNow();
        hazelcast.getLifecycleService().terminate();
        if (watcher != null) {
            watcher.close();
        }
        if (calibration != null) {
            calibration.shutdownNow();
        }
    }
}
