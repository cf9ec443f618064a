package dev.sluice.server.policy;

import java.util.List;
import java.util.Map;

/**
 * Which descriptors identify a bucket: each part is one descriptor, or the first present of a
 * fallback chain (e.g. {@code org}, else {@code api_key}, else {@code user}, else {@code ip}).
 * The key records which descriptor of a chain was used, so {@code org=7} and {@code user=7} are
 * different buckets.
 */
record KeySpec(List<List<String>> parts) {

    /** Separates key fields; descriptor values are escaped so they cannot forge a separator. */
    static final char SEPARATOR = '\u001f';

    /** Appends this key's fields for {@code descriptors} to {@code prefix}; {@code null} when a part is missing. */
    String build(String prefix, Map<String, String> descriptors) {
        StringBuilder b = new StringBuilder(prefix.length() + 32 * parts.size()).append(prefix);
        for (List<String> chain : parts) {
            String chosen = null;
            String value = null;
            for (String name : chain) {
                value = descriptors.get(name);
                if (value != null) {
                    chosen = name;
                    break;
                }
            }
            if (chosen == null) {
                return null;
            }
            b.append(SEPARATOR).append(chosen).append('=');
            appendEscaped(b, value);
        }
        return b.toString();
    }

    private static void appendEscaped(StringBuilder b, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == SEPARATOR || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
    }
}
