package dev.sluice.client;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One question to ask Sluice: may this caller spend {@code cost} units of the limits of
 * {@code domain} that its descriptors select? Immutable; each {@code with...} method returns a
 * new value.
 *
 * <pre>{@code
 * Acquire request = Acquire.domain("payments").with("org", orgId).with("type", "PAYMENTS").cost(1);
 * }</pre>
 */
public final class Acquire {

    private final String domain;
    private final Map<String, String> descriptors;
    private final long cost;
    private final boolean dryRun;
    /** Computed on first use: the denial cache looks every request up by it. */
    private int hash;

    private Acquire(String domain, Map<String, String> descriptors, long cost, boolean dryRun) {
        this.domain = domain;
        this.descriptors = descriptors;
        this.cost = cost;
        this.dryRun = dryRun;
    }

    /** A request for {@code domain} with no descriptors yet and a cost of 1. */
    public static Acquire domain(String domain) {
        Objects.requireNonNull(domain, "domain");
        if (domain.isEmpty()) {
            throw new IllegalArgumentException("domain must not be empty");
        }
        return new Acquire(domain, Map.of(), 1, false);
    }

    /** This request with descriptor {@code name} set to {@code value}. */
    public Acquire with(String name, String value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        TreeMap<String, String> next = new TreeMap<>(descriptors);
        next.put(name, value);
        return new Acquire(domain, Collections.unmodifiableMap(next), cost, dryRun);
    }

    /** This request with every descriptor of {@code more} added. */
    public Acquire with(Map<String, String> more) {
        TreeMap<String, String> next = new TreeMap<>(descriptors);
        more.forEach((k, v) -> next.put(Objects.requireNonNull(k, "name"), Objects.requireNonNull(v, "value")));
        return new Acquire(domain, Collections.unmodifiableMap(next), cost, dryRun);
    }

    /** This request spending {@code units} (at least 1). */
    public Acquire cost(long units) {
        if (units < 1) {
            throw new IllegalArgumentException("cost must be at least 1, got " + units);
        }
        return new Acquire(domain, descriptors, units, dryRun);
    }

    /** This request as a dry run: answered as if made, consuming nothing (and never answered from the local cache). */
    public Acquire dryRun() {
        return new Acquire(domain, descriptors, cost, true);
    }

    public String domain() {
        return domain;
    }

    /** The descriptors, sorted by name; unmodifiable. */
    public Map<String, String> descriptors() {
        return descriptors;
    }

    public long cost() {
        return cost;
    }

    public boolean isDryRun() {
        return dryRun;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Acquire a && a.domain.equals(domain) && a.descriptors.equals(descriptors) && a.cost == cost
                && a.dryRun == dryRun;
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {
            h = Objects.hash(domain, descriptors, cost, dryRun);
            hash = h;
        }
        return h;
    }

    @Override
    public String toString() {
        return "Acquire[" + domain + " " + descriptors + " cost=" + cost + (dryRun ? " dry-run" : "") + "]";
    }
}
