package dev.sluice.server.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * What changes between two policies, and what each change does to the buckets already held.
 * A bucket's key is its domain, rule, limit, the limit's kind of algorithm and the descriptors
 * its key names: a limit whose key stays the same keeps its buckets (new numbers apply to the
 * state they hold), one whose key changes starts over with fresh buckets, and the old ones are
 * orphaned (no longer consulted; swept once at rest), as are the buckets of a removed limit.
 */
public final class PolicyDiff {

    /** What a change does to the buckets of the limits it touches. */
    public enum Buckets {
        /** No bucket is affected (a domain's or rule's matching, say). */
        NONE,
        /** New limits: their buckets start at rest. */
        NEW,
        /** Same keys: the buckets held go on, under the new numbers. */
        KEPT,
        /** New keys: the limit's buckets start at rest, the old ones are orphaned. */
        RESET,
        /** Removed: the buckets held are no longer consulted, and swept once at rest. */
        ORPHANED
    }

    /**
     * One change.
     *
     * @param kind    added, removed or changed
     * @param what    domain, rule or limit
     * @param name    its path: {@code domain}, {@code domain/rule} or {@code domain/rule/limit}
     * @param detail  what changed, in words (empty when added or removed)
     * @param buckets what it does to the buckets held
     */
    public record Change(String kind, String what, String name, String detail, Buckets buckets) {
    }

    private PolicyDiff() {
    }

    /** The changes from {@code before} to {@code after}, domain by domain in name order. */
    public static List<Change> between(Policies before, Policies after) {
        List<Change> changes = new ArrayList<>();
        TreeSet<String> domains = new TreeSet<>(before.domainNames());
        domains.addAll(after.domainNames());
        for (String d : domains) {
            Domain old = before.domainNames().contains(d) ? before.domain(d) : null;
            Domain now = after.domainNames().contains(d) ? after.domain(d) : null;
            if (old == null) {
                changes.add(new Change("added", "domain", d, "", Buckets.NEW));
            } else if (now == null) {
                changes.add(new Change("removed", "domain", d, "", Buckets.ORPHANED));
            } else {
                rules(d, old, now, changes);
            }
        }
        return changes;
    }

    private static void rules(String domain, Domain before, Domain after, List<Change> changes) {
        Map<String, Rule> old = byName(before.rules(), Rule::name);
        Map<String, Rule> now = byName(after.rules(), Rule::name);
        TreeSet<String> names = new TreeSet<>(old.keySet());
        names.addAll(now.keySet());
        for (String r : names) {
            String path = domain + "/" + r;
            Rule o = old.get(r);
            Rule n = now.get(r);
            if (o == null) {
                changes.add(new Change("added", "rule", path, "", Buckets.NEW));
            } else if (n == null) {
                changes.add(new Change("removed", "rule", path, "", Buckets.ORPHANED));
            } else {
                if (!match(o).equals(match(n))) {
                    changes.add(new Change("changed", "rule", path, "match " + match(o) + " -> " + match(n), Buckets.NONE));
                }
                if (o.unlimited() != n.unlimited()) {
                    changes.add(new Change("changed", "rule", path, n.unlimited() ? "now unlimited" : "no longer unlimited", Buckets.NONE));
                }
                limits(path, o, n, changes);
            }
        }
    }

    private static void limits(String rulePath, Rule before, Rule after, List<Change> changes) {
        Map<String, LimitDef> old = byName(before.limits(), LimitDef::name);
        Map<String, LimitDef> now = byName(after.limits(), LimitDef::name);
        TreeSet<String> names = new TreeSet<>(old.keySet());
        names.addAll(now.keySet());
        for (String l : names) {
            String path = rulePath + "/" + l;
            LimitDef o = old.get(l);
            LimitDef n = now.get(l);
            if (o == null) {
                changes.add(new Change("added", "limit", path, numbers(n), Buckets.NEW));
            } else if (n == null) {
                changes.add(new Change("removed", "limit", path, numbers(o), Buckets.ORPHANED));
            } else {
                List<String> what = new ArrayList<>();
                if (!numbers(o).equals(numbers(n))) {
                    what.add(numbers(o) + " -> " + numbers(n));
                }
                if (!o.key().equals(n.key())) {
                    what.add("key " + key(o) + " -> " + key(n));
                }
                if (o.shadow() != n.shadow()) {
                    what.add(n.shadow() ? "now shadow (counted, not enforced)" : "now enforced (was shadow)");
                }
                if (o.countDenied() != n.countDenied()) {
                    what.add(n.countDenied() ? "now counts denied requests" : "no longer counts denied requests");
                }
                if (!what.isEmpty()) {
                    boolean sameKeys = o.keyPrefix().equals(n.keyPrefix()) && o.key().equals(n.key());
                    changes.add(new Change("changed", "limit", path, String.join("; ", what), sameKeys ? Buckets.KEPT : Buckets.RESET));
                }
            }
        }
    }

    private static <T> Map<String, T> byName(List<T> items, Function<T, String> name) {
        Map<String, T> out = new LinkedHashMap<>();
        items.forEach(i -> out.put(name.apply(i), i));
        return out;
    }

    private static String match(Rule r) {
        List<String> parts = new ArrayList<>();
        r.match().forEach(e -> parts.add(e.getKey() + " " + e.getValue()));
        return parts.isEmpty() ? "(every request)" : String.join(", ", parts);
    }

    private static String key(LimitDef l) {
        List<String> parts = new ArrayList<>();
        l.key().parts().forEach(chain -> parts.add(String.join("|", chain)));
        return "[" + String.join(", ", parts) + "]";
    }

    /** The limit's numbers, as its algorithm describes them. */
    static String numbers(LimitDef l) {
        if (l.table() != null) {
            return "tier table " + l.table().name() + " " + Arrays.toString(l.rowAlgorithms());
        }
        return Objects.toString(l.algorithm(), "unlimited");
    }
}
