package dev.sluice.server.node;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.LocalMapStats;
import com.hazelcast.partition.Partition;
import dev.sluice.server.api.RateLimiterService;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.store.BucketBudget;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.store.StoreException;
import dev.sluice.server.store.StoreStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The node's Prometheus registry and the meters read from what the node already counts: calls in
 * flight and refused for overload, the store's failures by reason, the member's cluster, buckets
 * and budget, policy reloads, and the JVM's and process's own. Decision counters and RPC times are
 * recorded where they happen ({@code observe}); everything else is read at scrape time.
 */
final class NodeMetrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final AtomicReference<Gauge> policyInfo = new AtomicReference<>();

    NodeMetrics() {
        // Two of Micrometer's standard meters break Prometheus's naming rules (promtool says so): the
        // process's CPU time in nanoseconds is exported in seconds as process_cpu_seconds_total, as
        // Prometheus's own clients name it, and the CPU count without the _count suffix of a summary.
        registry.config().meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"))
                .meterFilter(new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
                    }
                });
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9).baseUnit("seconds")
                    .description("CPU time the process has used").register(registry);
        }
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    MeterRegistry registry() {
        return registry;
    }

    /** The scrape in the format {@code contentType} names (Prometheus text or OpenMetrics). */
    String scrape(String contentType) {
        return registry.scrape(contentType);
    }

    /** Meters over the decision path and the API: calls in flight, refused, unreadable; open streams. */
    void bindPath(DecisionPath path, RateLimiterService service) {
        Gauge.builder("sluice.in.flight", path, DecisionPath::inFlight).description("decisions admitted and not yet answered")
                .register(registry);
        Gauge.builder("sluice.streams", service, RateLimiterService::openStreams).description("AcquireStream calls open")
                .register(registry);
        FunctionCounter.builder("sluice.requests.received", path, DecisionPath::received)
                .description("requests received on any API, answered or not").register(registry);
        FunctionCounter.builder("sluice.overload.refusals", path, DecisionPath::overloadRefusals)
                .description("requests refused UNAVAILABLE because --max-in-flight decisions were outstanding").register(registry);
        FunctionCounter.builder("sluice.unreadable.requests", path, DecisionPath::unreadable)
                .description("requests refused INVALID_ARGUMENT because their bytes made no request").register(registry);
        for (StoreException.Kind kind : StoreException.Kind.values()) {
            FunctionCounter.builder("sluice.store.failures", path, p -> p.storeFailures(kind))
                    .description("decisions the store could not make, by reason (below_minimum_size: refused by --min-cluster-size)")
                    .tag("reason", kind.name().toLowerCase(Locale.ROOT)).register(registry);
        }
    }

    /** Meters over this member: the cluster it sees, the partitions and buckets it holds, its budget and sweeps. */
    void bindMember(HazelcastInstance hz, ClusterEvents events, BucketBudget budget, StoreStats stats) {
        Gauge.builder("sluice.cluster.members", hz, h -> h.getCluster().getMembers().size())
                .description("members this member sees in its cluster").register(registry);
        Gauge.builder("sluice.owned.partitions", hz, NodeMetrics::ownedPartitions)
                .description("partitions of the bucket map this member owns").register(registry);
        Gauge.builder("sluice.buckets", hz, h -> localStats(h).getOwnedEntryCount()).tags(Tags.of("copy", "owned"))
                .description("bucket entries this member holds").register(registry);
        Gauge.builder("sluice.buckets", hz, h -> localStats(h).getBackupEntryCount()).tags(Tags.of("copy", "backup"))
                .description("bucket entries this member holds").register(registry);
        Gauge.builder("sluice.bucket.budget", budget, BucketBudget::maxEntries)
                .description("bucket entries (owned and backups) this member may hold (--max-buckets)").register(registry);
        byLabel("sluice.bucket.budget.turned.away", "requests for new buckets turned away at the budget, by the domain's when_full",
                "answer", budget, Map.of("refused", BucketBudget::refused, "denied", BucketBudget::denied,
                        "allowed_untracked", BucketBudget::untracked));
        FunctionCounter.builder("sluice.buckets.swept", stats, StoreStats::swept)
                .description("idle buckets this member's sweeps removed").register(registry);
        byLabel("sluice.decision.bucket.calls", "bucket calls of decisions this member started, by where the bucket's partition is"
                        + " (remote: another member owns it; a client routing by partition makes nearly all owned)", "partition", stats,
                Map.of("owned", s -> s.decisionCalls(true), "remote", s -> s.decisionCalls(false)));
        byLabel("sluice.partition.migrations", "partition replica migrations this member saw", "result", events,
                Map.of("completed", ClusterEvents::migrations, "failed", ClusterEvents::failedMigrations));
        FunctionCounter.builder("sluice.partitions.lost", events, ClusterEvents::lostPartitions)
                .description("partitions of the bucket map lost with every replica (their buckets started afresh)").register(registry);
        FunctionCounter.builder("sluice.split.brain.merges", events, ClusterEvents::merges)
                .description("times this member merged back into the cluster after a split").register(registry);
        Gauge.builder("sluice.cluster.clock.offset", hz, h -> (h.getCluster().getClusterTime() - System.currentTimeMillis()) / 1000.0)
                .baseUnit("seconds").description("the cluster's time (the decision clock) less this host's wall clock")
                .register(registry);
    }

    /** Meters over the policies: the version in force, and what became of changes to the file. */
    void bindPolicies(Supplier<Policies> policies, PolicyReloads reloads) {
        byLabel("sluice.policy.reloads", "changes of the policy file, by what became of them", "outcome", reloads,
                Map.of("applied", PolicyReloads::appliedCount, "refused", PolicyReloads::refusedCount,
                        "unreadable", PolicyReloads::unreadableCount));
        Gauge.builder("sluice.policy.last.applied", reloads, PolicyReloads::lastAppliedSeconds).baseUnit("seconds")
                .description("when policies were last put in force, in seconds since the epoch").register(registry);
        policyInForce(policies.get());
    }

    /** The info series of the policies in force: 1, labelled with their version and source. */
    void policyInForce(Policies p) {
        Gauge next = Gauge.builder("sluice.policy.info", () -> 1).description("the policies in force (always 1)")
                .tags("version", p.version(), "source", p.source()).register(registry);
        Gauge previous = policyInfo.getAndSet(next);
        if (previous != null && previous != next) {
            registry.remove(previous);
        }
        // Every domain's reset counter exists from the start, at 0, so a rate over it is defined before the first reset.
        for (String domain : p.domainNames()) {
            resets(domain);
        }
    }

    private io.micrometer.core.instrument.Counter resets(String domain) {
        return io.micrometer.core.instrument.Counter.builder("sluice.admin.resets")
                .description("buckets put back at rest by the admin API's Reset").tag("domain", domain).register(registry);
    }

    /** One counter {@code name}, a series for each value of label {@code label}, each read from {@code source} by its function. */
    private <T> void byLabel(String name, String description, String label, T source, Map<String, ToDoubleFunction<T>> series) {
        series.forEach((value, read) -> FunctionCounter.builder(name, source, read).tag(label, value).description(description)
                .register(registry));
    }

    private static LocalMapStats localStats(HazelcastInstance hz) {
        return hz.getMap(BucketStore.MAP_NAME).getLocalMapStats();
    }

    static int ownedPartitions(HazelcastInstance hz) {
        int owned = 0;
        for (Partition p : hz.getPartitionService().getPartitions()) {
            if (p.getOwner() != null && p.getOwner().localMember()) {
                owned++;
            }
        }
        return owned;
    }

    /**
     * This member's figures for the console, cumulative since start: requests decided per domain
     * and decision ({@code decisions␟domain␟decision}), what each limit said
     * ({@code limit␟domain␟rule␟limit␟outcome}), dry runs, RPC errors and overload refusals, and
     * the decision-time histogram of every RPC summed ({@code latency␟le-nanos}, cumulative, and
     * {@code latency␟count}).
     */
    Map<String, Long> figures() {
        Map<String, Long> f = new java.util.TreeMap<>();
        char s = '\u001f';
        for (io.micrometer.core.instrument.Counter c : registry.find("sluice.decisions").counters()) {
            f.merge("decisions" + s + c.getId().getTag("domain") + s + c.getId().getTag("decision"), (long) c.count(), Long::sum);
        }
        for (io.micrometer.core.instrument.Counter c : registry.find("sluice.limit.decisions").counters()) {
            f.merge("limit" + s + c.getId().getTag("domain") + s + c.getId().getTag("rule") + s + c.getId().getTag("limit") + s
                    + c.getId().getTag("outcome"), (long) c.count(), Long::sum);
        }
        for (io.micrometer.core.instrument.Counter c : registry.find("sluice.dry.runs").counters()) {
            f.merge("dry_runs", (long) c.count(), Long::sum);
        }
        for (io.micrometer.core.instrument.Counter c : registry.find("sluice.rpc.errors").counters()) {
            f.merge("errors", (long) c.count(), Long::sum);
        }
        for (io.micrometer.core.instrument.FunctionCounter c : registry.find("sluice.overload.refusals").functionCounters()) {
            f.merge("overload", (long) c.count(), Long::sum);
        }
        for (io.micrometer.core.instrument.Timer t : registry.find("sluice.rpc.duration").timers()) {
            io.micrometer.core.instrument.distribution.HistogramSnapshot h = t.takeSnapshot();
            f.merge("latency" + s + "count", h.count(), Long::sum);
            for (io.micrometer.core.instrument.distribution.CountAtBucket b : h.histogramCounts()) {
                f.merge("latency" + s + (long) b.bucket(), (long) b.count(), Long::sum);
            }
        }
        return f;
    }

    /** Counts a bucket the admin API reset, by domain (bounded by the policy: Reset refuses a domain it does not serve). */
    void countReset(String domain) {
        resets(domain).increment();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
