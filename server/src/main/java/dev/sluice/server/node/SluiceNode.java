package dev.sluice.server.node;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.api.AdminService;
import dev.sluice.server.api.ClusterAdmin;
import dev.sluice.server.observe.KeyCounts;
import dev.sluice.server.observe.TopKeys;
import dev.sluice.server.api.CallerIdentity;
import dev.sluice.server.api.EnvoyRateLimitService;
import dev.sluice.server.api.EventLoops;
import dev.sluice.server.envoy.EnvoyConfig;
import dev.sluice.server.envoy.EnvoyConfigLoader;
import dev.sluice.server.api.RateLimiterService;
import dev.sluice.server.api.TraceContext;
import dev.sluice.server.logging.Events;
import dev.sluice.server.observe.DecisionMetrics;
import dev.sluice.server.observe.DecisionTracing;
import dev.sluice.server.observe.RpcMetrics;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.time.Clock;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A running Sluice node: an embedded Hazelcast member holding bucket state, and a gRPC server
 * answering Acquire, health and reflection. Health turns SERVING once the member has joined
 * and the policies are loaded.
 */
public final class SluiceNode implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SluiceNode.class.getName());

    private final NodeSettings settings;
    private final NodeThreads threads;
    private final HazelcastInstance hazelcast;
    private final BucketStore store;
    private final DecisionEngine engine;
    private final DecisionPath path;
    private final Server server;
    private final HealthStatusManager health;
    private final RateLimiterService service;
    private final NodeDirectory directory;
    private final AtomicReference<Policies> policies;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ClusterEvents events = new ClusterEvents();
    private final PolicyWatcher<Policies> watcher;
    /** The plaintext health port's server, or {@code null}. */
    private final Server healthServer;
    /** The metrics registry and its HTTP server, or {@code null} with {@code --metrics-port 0}. */
    private final NodeMetrics metrics;
    private final MetricsServer metricsServer;
    private final Tracing tracing;
    private final PolicyReloads reloads = new PolicyReloads();
    /** envoyproxy/ratelimit's configuration in force, or {@code null} when the node serves no Envoy API. */
    private final AtomicReference<EnvoyConfig> envoy;
    private final PolicyWatcher<EnvoyConfig> envoyWatcher;
    /** Every decided bucket, counted for the admin API's heaviest keys. */
    private final TopKeys topKeys = new TopKeys();
    /** What this member answers when the admin API asks every member; set once the node is built. */
    private final AtomicReference<MemberQueries.Local> local = new AtomicReference<>();
    private final long startedNanos = System.nanoTime();
    /** STARTING while it joins and warms up, SERVING, then STOPPING. */
    private volatile String state = "STARTING";

    private SluiceNode(NodeSettings settings, Policies initial, byte[] initialContent, EnvoyConfig envoyInitial,
                       byte[] envoyContent) throws IOException, SettingsException {
        this.settings = settings;
        // Credentials first: a certificate, key or token file that cannot be used stops start-up before anything runs.
        TlsCredentials tls = settings.tlsCert() == null ? null
                : new TlsCredentials(settings.tlsCert(), settings.tlsKey(), settings.tlsClientCa());
        CallerTokens tokens = settings.callerTokens() == null ? null : new CallerTokens(settings.callerTokens());
        this.policies = new AtomicReference<>(initial);
        this.health = new HealthStatusManager();
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
        health.setStatus(RateLimiterGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
        this.threads = new NodeThreads();
        // A production node decides with the cluster's time, so members with skewed wall
        // clocks agree; tests bring a clock of their own.
        ClusterClock clusterClock = settings.clock() == Clock.system() ? new ClusterClock() : null;
        NodeSettings effective = clusterClock == null ? settings : settings.toBuilder().clock(clusterClock).build();
        try {
            // Joins holding no partitions and takes its share once started: a member whose start-up has
            // not completed refuses the migrations and ignores the backups sent to it (Hazelcast issue
            // 19551), which made the cluster's decisions wait out backup timeouts while it joined.
            com.hazelcast.config.Config member = MemberConfig.of(effective).setLiteMember(true);
            MemberQueries.prepare(member, local::get);
            this.hazelcast = Hazelcast.newHazelcastInstance(member);
        } catch (RuntimeException e) {
            threads.close();
            throw e;
        }
        Server started = null;
        try {
            hazelcast.getCluster().promoteLocalLiteMember();
            if (clusterClock != null) {
                clusterClock.calibrate(() -> hazelcast.getCluster().getClusterTime());
                threads.timer().scheduleWithFixedDelay(() -> clusterClock.calibrate(() -> hazelcast.getCluster().getClusterTime()),
                        5, 5, TimeUnit.SECONDS);
            }
            events.watch(hazelcast);
            BucketStore.assignPartitions(hazelcast);
            this.store = new BucketStore(hazelcast, settings.hazelcastInternals(), threads.followUps());
            this.engine = new DecisionEngine(store, threads.followUps());
            this.metrics = settings.metricsPort() == 0 ? null : new NodeMetrics();
            this.tracing = Tracing.of(settings, hazelcast.getCluster().getLocalMember().getAddress().toString());
            this.path = new DecisionPath(DecisionPath.policiesOf(policies), engine, effective.clock(), settings.maxInFlight(),
                    metrics == null ? DecisionMetrics.OFF : new DecisionMetrics(metrics.registry(), settings.nearLimit()),
                    tracing == null ? DecisionTracing.OFF : new DecisionTracing(tracing.tracer()), settings.topKeys() ? topKeys : TopKeys.OFF);
            RpcMetrics rpc = metrics == null ? RpcMetrics.OFF : new RpcMetrics(metrics.registry());
            this.directory = new NodeDirectory(hazelcast);
            this.service = new RateLimiterService(path, EventLoops.of(threads.workers()), rpc, directory::table);
            LeakDetection.offUnlessAsked();
            boolean identified = tokens != null || (tls != null && tls.mutual());
            List<ServerInterceptor> interceptors = new ArrayList<>();
            if (identified) {
                interceptors.add(new CallerIdentity(tokens, tls != null && tls.mutual()));
            }
            if (tracing != null) {
                interceptors.add(new TraceContext());
            }
            this.envoy = new AtomicReference<>(envoyInitial);
            MemberQueries queries = new MemberQueries(hazelcast, store, ADMIN_QUERY_TIMEOUT_MILLIS);
            NettyServerBuilder grpc = serverOn(settings.port())
                    .maxInboundMessageSize(settings.maxMessageSize())
                    .addService(ServerInterceptors.intercept(service, interceptors))
                    .addService(ServerInterceptors.intercept(new AdminService(policies::get, store, queries,
                            domain -> {
                                if (metrics != null) {
                                    metrics.countReset(domain);
                                }
                            }), interceptors))
                    .addService(health.getHealthService())
                    .addService(ProtoReflectionServiceV1.newInstance());
            if (envoyInitial != null) {
                grpc.addService(ServerInterceptors.intercept(service.envoy(envoy::get,
                        new EnvoyRateLimitService.Options(settings.envoyResponseHeaders(), settings.envoyShadowMode(),
                                settings.envoyHeaderNames())), interceptors));
            }
            if (tls != null) {
                grpc.sslContext(tls.serverContext());
            }
            started = grpc.build().start();
            Server grpcServer = started;
            Clock decisionClock = effective.clock();
            local.set(new MemberQueries.Local() {
                @Override
                public ClusterAdmin.Report report() {
                    com.hazelcast.map.LocalMapStats stats = hazelcast.getMap(BucketStore.MAP_NAME).getLocalMapStats();
                    return new ClusterAdmin.Report(advertisedHost() + ":" + grpcServer.getPort(), state, NodeMetrics.ownedPartitions(hazelcast),
                            stats.getOwnedEntryCount(), stats.getBackupEntryCount(), policies.get().version(),
                            hazelcast.getCluster().getClusterTime() - System.currentTimeMillis(),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos), Main.version());
                }

                @Override
                public KeyCounts topKeys(String domain, TopKeys.By by) {
                    return SluiceNode.this.topKeys.summary(domain, by, decisionClock.nanos());
                }

                @Override
                public java.util.Map<String, Long> figures() {
                    return metrics == null ? java.util.Map.of() : metrics.figures();
                }
            });
            this.healthServer = settings.healthPort() == 0 ? null
                    : serverOn(settings.healthPort()).addService(health.getHealthService()).build().start();
            this.server = started;
            if (metrics != null) {
                metrics.bindPath(path, service);
                metrics.bindMember(hazelcast, events, store.budget(), store.stats());
                metrics.bindPolicies(policies::get, reloads);
                this.metricsServer = new MetricsServer(settings.host(), settings.metricsPort(), metrics::scrape,
                        new Console(queries, policies::get, reloads, tokens));
            } else {
                this.metricsServer = null;
            }
            if ((tls != null || tokens != null) && !settings.credentialsReloadInterval().isZero()) {
                long every = settings.credentialsReloadInterval().toMillis();
                threads.timer().scheduleWithFixedDelay(() -> {
                    if (tls != null) {
                        tls.reload();
                    }
                    if (tokens != null) {
                        tokens.reload();
                    }
                }, every, every, TimeUnit.MILLISECONDS);
            }
        } catch (IOException | RuntimeException e) {
            if (started != null) {
                started.shutdownNow();
            }
            hazelcast.shutdown();
            threads.close();
            throw e;
        }
        WarmUp.run(engine, store::sweepRested, effective.clock(), serverOn("127.0.0.1", 0), EventLoops.of(threads.workers()), settings.warmUp(),
                WARM_UP_TIMEOUT_MILLIS, metrics != null, settings.nearLimit(), settings.topKeys());
        Path envoyPath = settings.envoyConfig();
        this.envoyWatcher = envoyInitial == null || settings.policyReloadInterval().isZero() ? null
                : new PolicyWatcher<>("Envoy configuration", envoyPath, () -> EnvoyConfigLoader.snapshot(envoyPath),
                        c -> EnvoyConfigLoader.parse(c, envoyPath.toString()), envoyContent, settings.policyReloadInterval(),
                        this::replaceEnvoyConfig, threads.timer(), reloads);
        this.watcher = settings.policiesFile() != null && initialContent != null && !settings.policyReloadInterval().isZero()
                ? PolicyWatcher.of(settings.policiesFile(), initialContent, settings.policyReloadInterval(), this::replacePolicies,
                        threads.timer(), reloads)
                : null;
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
        health.setStatus(RateLimiterGrpc.SERVICE_NAME, ServingStatus.SERVING);
        // Clients routing by partition send to this node from now on; before, they reached it only by round robin.
        directory.publish(advertisedHost(), server.getPort());
        // Built once here, so that the first Partitions call (a client asks as it is built, just before its
        // first requests) does not load the table's classes on the event loop those requests arrive on.
        directory.table();
        state = "SERVING";
        String security = (tls == null ? "plaintext" : tls.mutual() ? "TLS, client certificates required" : "TLS")
                + (tokens != null ? ", bearer tokens" : "")
                + (tokens == null && (tls == null || !tls.mutual()) ? ", callers anonymous (no caller identity configured)" : "");
        String observed = (metricsServer == null ? "no metrics" : "metrics on " + settings.host() + ":" + metricsServer.port() + "/metrics")
                + (tracing == null ? "" : ", traces to " + (settings.otlpEndpoint() != null ? settings.otlpEndpoint() : "an exporter in code"));
        Events.log(LOG, Level.INFO, "node_serving", () -> "Sluice node serving gRPC (" + security + ") on " + settings.host() + ":"
                + server.getPort() + ", " + observed + ", member " + hazelcast.getCluster().getLocalMember().getAddress()
                + " in a cluster of " + hazelcast.getCluster().getMembers().size() + ", policies " + initial.source() + " (version "
                + initial.version() + ", domains " + String.join(", ", initial.domainNames()) + ")",
                "port", server.getPort(), "metrics_port", metricsServer == null ? 0 : metricsServer.port(),
                "member", hazelcast.getCluster().getLocalMember().getAddress().toString(),
                "members", hazelcast.getCluster().getMembers().size(), "policy_version", initial.version());
    }

    /** Loads the policies and starts a node; fails on an invalid policy file without starting anything. */
    /** A server on the node's own event loops, answering on them. */
    private NettyServerBuilder serverOn(int port) {
        return serverOn(settings.host(), port);
    }

    private NettyServerBuilder serverOn(String host, int port) {
        return NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .bossEventLoopGroup(threads.boss())
                .workerEventLoopGroup(threads.workers())
                .channelType(threads.channelType())
                // Clients ping idle-looking connections every few seconds to find those a network
                // fault left dead (the Java client every 5 s); gRPC's default of one ping per five
                // minutes would answer them with GOAWAY too_many_pings.
                .permitKeepAliveTime(1, java.util.concurrent.TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .directExecutor();
    }

    /** How long the admin API waits for every member's answer before naming those that gave none. */
    static final long ADMIN_QUERY_TIMEOUT_MILLIS = 5_000;

    /** How long a node may take to warm up before it serves anyway. */
    static final long WARM_UP_TIMEOUT_MILLIS = 30_000;

    /** The port metrics are served on, or 0 when they are off. */
    public int metricsPort() {
        return metricsServer == null ? 0 : metricsServer.port();
    }

    /** The port health alone is served on (plaintext), or 0. */
    public int healthPort() {
        return healthServer == null ? 0 : healthServer.getPort();
    }

    public static SluiceNode start(NodeSettings settings) throws IOException, PolicyException, SettingsException {
        // Read once: what is loaded is what the watcher compares later changes with.
        byte[] envoyContent = settings.envoyConfig() == null ? null : EnvoyConfigLoader.snapshot(settings.envoyConfig());
        EnvoyConfig envoy = envoyContent == null ? null : EnvoyConfigLoader.parse(envoyContent, settings.envoyConfig().toString());
        if (settings.policies() != null) {
            return new SluiceNode(settings, settings.policies(), null, envoy, envoyContent);
        }
        if (settings.policiesFile() != null) {
            byte[] content = java.nio.file.Files.readAllBytes(settings.policiesFile());
            return new SluiceNode(settings, PolicyLoader.parse(content, settings.policiesFile().toString()), content, envoy, envoyContent);
        }
        return new SluiceNode(settings, PolicyLoader.bundledDemo(), null, envoy, envoyContent);
    }

    /** Puts a new Envoy configuration in force for every call that starts after this returns. */
    public void replaceEnvoyConfig(EnvoyConfig next) {
        EnvoyConfig previous = envoy.getAndSet(next);
        Events.log(LOG, Level.INFO, "envoy_config_replaced", () -> "Envoy configuration " + next.source() + " version " + next.version()
                + " in force (was " + (previous == null ? "none" : previous.version()) + ", domains " + String.join(", ", next.domainNames())
                + ")", "source", next.source(), "version", next.version());
    }

    /** The Envoy configuration in force, or {@code null}. */
    public EnvoyConfig envoyConfig() {
        return envoy.get();
    }

    /** The host other machines reach this node's gRPC on: the one it listens on, or its member address when it listens on all. */
    private String advertisedHost() {
        return settings.host().equals("0.0.0.0") || settings.host().equals("::")
                ? hazelcast.getCluster().getLocalMember().getAddress().getHost() : settings.host();
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

    /** Requests this node has received since it started, on any API. */
    public long callsReceived() {
        return path.received();
    }

    /** Requests this node has taken and not yet answered. */
    public int callsInFlight() {
        return path.inFlight();
    }

    /** The bucket budget of this node's member, and what it has turned away. */
    public dev.sluice.server.store.BucketBudget bucketBudget() {
        return store.budget();
    }

    /** The decision engine, for its counts. */
    public DecisionEngine engine() {
        return engine;
    }

    /** Puts new policies in force for every call that starts after this returns. */
    public void replacePolicies(Policies next) {
        Policies previous = policies.getAndSet(next);
        if (metrics != null) {
            metrics.policyInForce(next);
        }
        Events.log(LOG, Level.INFO, "policies_replaced", () -> "policies " + next.source() + " version " + next.version()
                + " in force (was " + previous.version() + ")", "source", next.source(), "version", next.version(),
                "previous_version", previous.version());
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
        state = "STOPPING";
        health.enterTerminalState();
        if (watcher != null) {
            watcher.close();
        }
        if (envoyWatcher != null) {
            envoyWatcher.close();
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
        if (healthServer != null) {
            healthServer.shutdown();
        }
        // A stream would otherwise hold the shutdown for its whole grace: each answers what it has read and ends.
        service.endStreams();
        try {
            long deadline = System.nanoTime() + settings.shutdownGrace().toNanos();
            if (!server.awaitTermination(settings.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
            }
            // Calls whose answers are still on their way back from the cluster.
            while (path.inFlight() > 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                Thread.sleep(1);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
        closeObservers();
        store.close();
        hazelcast.shutdown();
        threads.close();
        LOG.info("Sluice node stopped");
    }

    /** Stops at once, as a crash would: no migration, no waiting. For tests. */
    public void crash() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.shutdownNow();
        if (healthServer != null) {
            healthServer.shutdownNow();
        }
        closeObservers();
        hazelcast.getLifecycleService().terminate();
        if (watcher != null) {
            watcher.close();
        }
        store.close();
        threads.close();
    }

    private void closeObservers() {
        if (metricsServer != null) {
            metricsServer.close();
            metrics.close();
        }
        if (tracing != null) {
            tracing.close();
        }
    }
}
