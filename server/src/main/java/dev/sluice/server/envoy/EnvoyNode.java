package dev.sluice.server.envoy;

import java.util.List;
import java.util.Map;

/**
 * One descriptor entry of a configuration, and what lies below it. Siblings are found as
 * envoyproxy/ratelimit finds them: by {@code key_value} (or {@code key} for an entry without a
 * value) in one map, then by the first wildcard, in file order, matching {@code key_value}.
 *
 * @param composite {@code key_value}, or {@code key}
 * @param pieces    for a wildcard entry, its composite split at each {@code *}; otherwise {@code null}
 * @param path      where it is, for metrics and messages: the composites from the top, joined with '.'
 * @param limit     its limit, or {@code null}
 * @param children  the entries below it
 */
record EnvoyNode(String composite, List<String> pieces, String path, EnvoyLimit limit, Level children) {

    /** Siblings: by composite, and the wildcards in file order. */
    record Level(Map<String, EnvoyNode> byComposite, List<EnvoyNode> wildcards) {
        static final Level EMPTY = new Level(Map.of(), List.of());

        boolean isEmpty() {
            return byComposite.isEmpty() && wildcards.isEmpty();
        }

        /** The entry for {@code key} and {@code value}: exact, else the first wildcard, else key-only. */
        EnvoyNode find(String key, String value) {
            String composite = key + "_" + value;
            EnvoyNode exact = byComposite.get(composite);
            if (exact != null) {
                return exact;
            }
            for (EnvoyNode w : wildcards) {
                if (w.matches(composite)) {
                    return w;
                }
            }
            return byComposite.get(key);
        }
    }

    /** Whether a wildcard entry matches {@code composite}: its pieces in order, first at the start, last at the end. */
    boolean matches(String composite) {
        int fixed = 0;
        for (String p : pieces) {
            fixed += p.length();
        }
        if (fixed > composite.length() || !composite.startsWith(pieces.get(0)) || !composite.endsWith(pieces.get(pieces.size() - 1))) {
            return false;
        }
        int at = pieces.get(0).length();
        int end = composite.length() - pieces.get(pieces.size() - 1).length();
        for (int i = 1; i < pieces.size() - 1; i++) {
            int found = composite.indexOf(pieces.get(i), at);
            if (found < 0 || found + pieces.get(i).length() > end) {
                return false;
            }
            at = found + pieces.get(i).length();
        }
        return at <= end;
    }
}
