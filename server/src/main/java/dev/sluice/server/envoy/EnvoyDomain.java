package dev.sluice.server.envoy;

import java.util.List;

/**
 * One {@code domain} of an envoyproxy/ratelimit configuration: its descriptor tree, and whether
 * its requests are decided all or nothing (a Sluice extension; by default each descriptor counts
 * on its own, as envoyproxy/ratelimit counts them).
 */
public final class EnvoyDomain {

    /** One entry of a request's descriptor. */
    public record Entry(String key, String value) {
    }

    private final String name;
    private final EnvoyNode.Level top;
    private final boolean allOrNothing;
    private final Headers headers;

    /** Which rate-limit headers the domain's answers carry (a Sluice extension, {@code response_headers}). */
    public enum Headers {
        /** What the node's {@code --envoy-response-headers} says: envoyproxy/ratelimit's, or none. */
        DEFAULT,
        /** envoyproxy/ratelimit's {@code RateLimit-Limit}, {@code RateLimit-Remaining} and {@code RateLimit-Reset}. */
        RATELIMIT,
        /** Sluice's dialect: the IETF draft's {@code RateLimit-Policy} and {@code RateLimit} fields, one item per limit. */
        IETF,
        /** None, whatever the node's switch says. */
        NONE
    }

    EnvoyDomain(String name, EnvoyNode.Level top, boolean allOrNothing, Headers headers) {
        this.name = name;
        this.top = top;
        this.allOrNothing = allOrNothing;
        this.headers = headers;
    }

    public Headers headers() {
        return headers;
    }

    public String name() {
        return name;
    }

    public boolean allOrNothing() {
        return allOrNothing;
    }

    /**
     * The limit for a request descriptor, or {@code null} for none. Entries are walked from the
     * top, one level each, choosing at each level the exact entry, else the first matching
     * wildcard, else the key-only entry, never going back to try another; a limit applies only
     * when it is on the entry the descriptor ends at (as many entries as its depth).
     */
    public EnvoyLimit match(List<Entry> entries) {
        EnvoyNode.Level level = top;
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            EnvoyNode node = level.find(e.key(), e.value());
            if (node == null) {
                return null;
            }
            if (i == entries.size() - 1) {
                return node.limit();
            }
            if (node.children().isEmpty()) {
                return null;
            }
            level = node.children();
        }
        return null;
    }
}
