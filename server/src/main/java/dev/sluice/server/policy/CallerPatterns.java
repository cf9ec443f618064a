package dev.sluice.server.policy;

import java.util.List;

/**
 * The callers a policy names: exact ids or patterns ({@code *} any run of characters, {@code ?}
 * one character), such as {@code spiffe://example.org/ns/shop/*}. A caller is who the node
 * verified (the SAN of a client certificate, or the owner of a bearer token).
 */
public final class CallerPatterns {

    /** Names no caller. */
    public static final CallerPatterns NONE = new CallerPatterns(List.of(), List.of());

    private final List<String> patterns;
    private final List<Condition.Glob> globs;

    private CallerPatterns(List<String> patterns, List<Condition.Glob> globs) {
        this.patterns = patterns;
        this.globs = globs;
    }

    static CallerPatterns of(List<String> patterns) {
        return new CallerPatterns(List.copyOf(patterns), patterns.stream().map(Condition.Glob::of).toList());
    }

    /** Whether caller {@code id} is one of these; an anonymous caller ({@code null}) never is. */
    public boolean matches(String id) {
        if (id == null) {
            return false;
        }
        for (Condition.Glob g : globs) {
            if (g.test(id)) {
                return true;
            }
        }
        return false;
    }

    public List<String> patterns() {
        return patterns;
    }
}
