package dev.sluice.server.policy;

import dev.sluice.server.algorithm.Algorithm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/** A named policy set: the rules applied to requests that name this domain. */
public final class Domain {

    private final String name;
    private final List<Rule> rules;
    private final ResponseStyle response;
    private final Map<String, String> defaults;
    private final CallerPatterns callers;
    private final WhenFull whenFull;
    private final String metricsLabel;
    private final Set<String> metricsLabelValues;
    private final AtomicReference<Object> meters = new AtomicReference<>();

    Domain(String name, List<Rule> rules, ResponseStyle response, Map<String, String> defaults, CallerPatterns callers,
           WhenFull whenFull, String metricsLabel, Set<String> metricsLabelValues) {
        this.name = name;
        this.whenFull = whenFull;
        this.metricsLabel = metricsLabel;
        this.metricsLabelValues = Set.copyOf(metricsLabelValues);
        this.rules = List.copyOf(rules);
        this.response = response;
        this.defaults = Map.copyOf(defaults);
        this.callers = callers;
    }

    /** Whether the domain names the callers that may ask it; without {@code callers:}, anyone may, anonymous or not. */
    public boolean restricted() {
        return callers != null;
    }

    /** Whether caller {@code id} ({@code null}: anonymous) may ask this domain. */
    public boolean admits(String id) {
        return callers == null || callers.matches(id);
    }

    /**
     * The request's descriptors with the domain's defaults filled in for those it lacks; rules,
     * keys, tables and body templates all see this view.
     */
    public Map<String, String> withDefaults(Map<String, String> descriptors) {
        if (defaults.isEmpty()) {
            return descriptors;
        }
        Map<String, String> merged = new HashMap<>(defaults);
        merged.putAll(descriptors);
        return merged;
    }

    public String name() {
        return name;
    }

    /** The descriptor the domain's decision metrics carry as a label ({@code metrics_label}), or {@code null}. */
    public String metricsLabel() {
        return metricsLabel;
    }

    /**
     * The label's value for a request: its descriptor's value when the policy lists that value,
     * {@code other} when it does not, {@code none} when the request has none; so the label has
     * at most as many values as the policy lists, plus two.
     */
    public String metricsLabelValue(Map<String, String> descriptors) {
        String v = descriptors.get(metricsLabel);
        return v == null ? "none" : metricsLabelValues.contains(v) ? v : "other";
    }

    /** Where the metrics layer keeps the domain's meters. */
    public AtomicReference<Object> meters() {
        return meters;
    }

    /** What the domain answers a request for a new bucket on a member with no room for one. */
    public WhenFull whenFull() {
        return whenFull;
    }

    /** The rules, in the order they are tried. */
    List<Rule> rules() {
        return rules;
    }

    /** The domain-wide response style (rules may override it). */
    public ResponseStyle response() {
        return response;
    }

    /**
     * The limits that apply to a request with these descriptors, in policy order: every limit of
     * every matching rule whose bucket key can be formed. Empty when no rule matches, or when a
     * matching rule is {@code unlimited} (which exempts the request from every rule). Callers
     * pass descriptors through {@link #withDefaults} first.
     */
    public List<AppliedLimit> resolve(Map<String, String> descriptors) {
        List<AppliedLimit> applied = new ArrayList<>(4);
        for (Rule rule : rules) {
            if (!rule.matches(descriptors)) {
                continue;
            }
            if (rule.unlimited()) {
                return List.of();
            }
            for (LimitDef limit : rule.limits()) {
                int choice = limit.choose(descriptors);
                Algorithm algorithm = limit.algorithm(choice);
                if (algorithm == null) {
                    continue;
                }
                String key = limit.key().build(limit.keyPrefix(), descriptors);
                if (key == null) {
                    continue;
                }
                applied.add(new AppliedLimit(limit.name(), rule.name(), algorithm, key, limit.shadow(),
                        limit.countDenied(), rule.response(), limit.text(choice), whenFull, limit.meter(), limit.settleWithinNanos()));
            }
        }
        return applied;
    }
}
