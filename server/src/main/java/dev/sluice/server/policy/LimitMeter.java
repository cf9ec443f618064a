package dev.sluice.server.policy;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A limit as its metrics name it: domain, rule and limit, all names from the policy file (never a
 * descriptor's value), so the series a node exports are bounded by its policy. Made once per limit
 * when the file is loaded; the metrics layer keeps its meters for the limit in {@link #meters()},
 * so a decision finds them without a lookup.
 */
public final class LimitMeter {

    private final String domain;
    private final String rule;
    private final String limit;
    private final boolean shadow;
    private final AtomicReference<Object> meters = new AtomicReference<>();

    /** A limit of another configuration (Envoy's), named for the metrics the same way. */
    public static LimitMeter of(String domain, String rule, String limit, boolean shadow) {
        return new LimitMeter(domain, rule, limit, shadow);
    }

    LimitMeter(String domain, String rule, String limit, boolean shadow) {
        this.domain = domain;
        this.rule = rule;
        this.limit = limit;
        this.shadow = shadow;
    }

    public String domain() {
        return domain;
    }

    public String rule() {
        return rule;
    }

    public String limit() {
        return limit;
    }

    public boolean shadow() {
        return shadow;
    }

    /** Where the metrics layer keeps this limit's meters (empty until its first decision). */
    public AtomicReference<Object> meters() {
        return meters;
    }
}
