package dev.sluice.server.observe;

import dev.sluice.server.engine.LimitResult;
import dev.sluice.server.engine.Verdict;
import dev.sluice.server.policy.Domain;
import dev.sluice.server.policy.LimitMeter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts decisions: per request, by domain and decision; and per limit, by domain, rule, limit
 * and what the limit said (allowed, near its limit, denied, or, for a shadow limit, what it would
 * have denied). Every label value is a name from the policy file, or a value the policy lists for
 * the domain's {@code metrics_label}: the series are bounded by the file, never by the keys. The
 * counters are kept on the policy's own objects, so a decision finds them without a lookup.
 */
public final class DecisionMetrics {

    /** Counts nothing: a node without metrics. */
    public static final DecisionMetrics OFF = new DecisionMetrics(null, 0.2);

    /** What one limit said about one request. */
    public enum Outcome {
        /** It had room, with at least the near-limit fraction of its limit left. */
        ALLOWED("allowed"),
        /** It had room, with less than the near-limit fraction left. */
        NEAR_LIMIT("near_limit"),
        /** It lacked room: the request was denied. */
        DENIED("denied"),
        /** A shadow limit that lacked room: it would have denied, and did not. */
        SHADOW_DENIED("shadow_denied");

        private final String label;

        Outcome(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private static final Outcome[] OUTCOMES = Outcome.values();
    private final MeterRegistry registry;
    private final double nearLimit;

    /**
     * @param registry  where the counters go, or {@code null} for none
     * @param nearLimit an allowed decision with less than this fraction of the limit left is near-limit
     */
    public DecisionMetrics(MeterRegistry registry, double nearLimit) {
        this.registry = registry;
        this.nearLimit = nearLimit;
    }

    public boolean on() {
        return registry != null;
    }

    /** Counts the decision on one request of {@code domain} (dry runs apart: they decide nothing). */
    public void decided(Domain domain, Map<String, String> descriptors, Verdict verdict, boolean dryRun) {
        if (registry == null) {
            return;
        }
        String label = domain.metricsLabel() == null ? null : domain.metricsLabelValue(descriptors);
        Counter[] requests = domainCounters(domain, label);
        if (dryRun) {
            requests[2].increment();
            return;
        }
        requests[verdict.allowed() ? 0 : 1].increment();
        for (LimitResult r : verdict.results()) {
            LimitMeter meter = r.limit().meter();
            if (meter != null) {
                limitCounters(meter, label)[outcome(r).ordinal()].increment();
            }
        }
    }

    /**
     * Counts one request of a domain that is not a policy file's (Envoy's configuration): its
     * decision, and what each of its limits said, each with {@code label} (empty, or the request's
     * full key for a limit that asks for detailed metrics).
     */
    public void decided(String domain, boolean allowed) {
        if (registry == null) {
            return;
        }
        elsewhereRequests.computeIfAbsent(domain, d -> new Counter[] {request(d, null, "allowed"), request(d, null, "denied")})
                [allowed ? 0 : 1].increment();
    }

    /** Counts what one limit said, labelled {@code label} (or not, when empty). */
    public void limitSaid(LimitResult r, String label) {
        if (registry == null || r.limit().meter() == null) {
            return;
        }
        limitCounters(r.limit().meter(), label == null || label.isEmpty() ? null : label)[outcome(r).ordinal()].increment();
    }

    private final Map<String, Counter[]> elsewhereRequests = new ConcurrentHashMap<>();

    Outcome outcome(LimitResult r) {
        if (!r.allowed()) {
            return r.limit().shadow() ? Outcome.SHADOW_DENIED : Outcome.DENIED;
        }
        return r.remaining() < nearLimit * r.limit().algorithm().limit() ? Outcome.NEAR_LIMIT : Outcome.ALLOWED;
    }

    /** Allowed, denied and dry-run counters of a domain (and label value). */
    private Counter[] domainCounters(Domain domain, String label) {
        return countersOf(domain.meters(), label, () -> {
            Counter[] c = new Counter[3];
            c[0] = request(domain.name(), label, "allowed");
            c[1] = request(domain.name(), label, "denied");
            c[2] = Counter.builder("sluice.dry.runs").description("dry-run requests: decided, nothing taken")
                    .tag("domain", domain.name()).tag("label", labelValue(label)).register(registry);
            return c;
        });
    }

    private Counter request(String domain, String label, String decision) {
        return Counter.builder("sluice.decisions").description("requests decided, by domain and decision")
                .tag("domain", domain).tag("decision", decision).tag("label", labelValue(label)).register(registry);
    }

    private Counter[] limitCounters(LimitMeter meter, String label) {
        return countersOf(meter.meters(), label, () -> {
            Counter[] c = new Counter[OUTCOMES.length];
            for (Outcome o : OUTCOMES) {
                c[o.ordinal()] = Counter.builder("sluice.limit.decisions")
                        .description("what each limit said about each request it applied to")
                        .tag("domain", meter.domain()).tag("rule", meter.rule()).tag("limit", meter.limit())
                        .tag("outcome", o.label()).tag("label", labelValue(label)).register(registry);
            }
            return c;
        });
    }

    /** Every series has the {@code label} label (the registry needs one set of label names per metric): empty when unused. */
    private static String labelValue(String label) {
        return label == null ? "" : label;
    }

    /** What a policy object's slot holds: the counters, and whose they are. */
    private record Held(DecisionMetrics owner, Object counters) {
    }

    /** Counters for policy objects whose slot another node's metrics took (several nodes in one JVM, sharing a policy). */
    private final Map<java.util.concurrent.atomic.AtomicReference<Object>, Object> elsewhere = new ConcurrentHashMap<>();

    /**
     * The counters for {@code slot}: an array when unlabelled, or a map by label value, made on
     * first use (a race makes them twice; the registry hands back the same counters). The first
     * node's metrics to use a policy object keep theirs in its slot; another's, in a map.
     */
    @SuppressWarnings("unchecked")
    private Counter[] countersOf(java.util.concurrent.atomic.AtomicReference<Object> slot, String label,
                                 java.util.function.Supplier<Counter[]> make) {
        Object held = slot.get();
        Object counters;
        if (held == null) {
            slot.compareAndSet(null, new Held(this, label == null ? make.get() : new ConcurrentHashMap<String, Counter[]>()));
            held = slot.get();
        }
        if (((Held) held).owner == this) {
            counters = ((Held) held).counters;
        } else {
            counters = elsewhere.computeIfAbsent(slot, k -> label == null ? make.get() : new ConcurrentHashMap<String, Counter[]>());
        }
        return label == null ? (Counter[]) counters : ((Map<String, Counter[]>) counters).computeIfAbsent(label, k -> make.get());
    }
}
