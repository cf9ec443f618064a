package dev.sluice.server.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A denial body with {@code ${name}} placeholders, split once at load time. Names are the
 * built-in figures of the binding limit ({@code limit}, {@code used}, {@code remaining},
 * {@code retry_after}, {@code reset}, {@code window}, {@code name}, {@code rule}, {@code domain})
 * or, for any other name, the request's descriptor of that name ({@code tier}, {@code type},
 * {@code resource}, ...); {@code ${descriptors.X}} names a descriptor explicitly.
 */
public final class BodyTemplate {

    /** Placeholder names with a built-in meaning. */
    public static final List<String> BUILT_INS =
            List.of("limit", "used", "remaining", "retry_after", "reset", "window", "name", "rule", "domain");

    public static final BodyTemplate EMPTY = new BodyTemplate("", List.of(""), List.of());

    private final String source;
    private final List<String> literals;
    private final List<String> names;

    private BodyTemplate(String source, List<String> literals, List<String> names) {
        this.source = source;
        this.literals = literals;
        this.names = names;
    }

    /** Splits {@code template}; an unterminated or empty placeholder is an error naming its position. */
    static BodyTemplate parse(String template) {
        List<String> literals = new ArrayList<>();
        List<String> names = new ArrayList<>();
        int from = 0;
        while (true) {
            int open = template.indexOf("${", from);
            if (open < 0) {
                literals.add(template.substring(from));
                break;
            }
            int close = template.indexOf('}', open + 2);
            if (close < 0) {
                throw new IllegalArgumentException("placeholder opened at character " + (open + 1) + " is never closed with '}'");
            }
            String name = template.substring(open + 2, close).trim();
            if (name.isEmpty() || !name.matches("[A-Za-z0-9_.\\-]+")) {
                throw new IllegalArgumentException("placeholder '${" + name + "}' at character " + (open + 1)
                        + " is not a name (letters, digits, '_', '-', '.')");
            }
            literals.add(template.substring(from, open));
            names.add(name);
            from = close + 1;
        }
        return new BodyTemplate(template, List.copyOf(literals), List.copyOf(names));
    }

    public boolean isEmpty() {
        return source.isEmpty();
    }

    public String source() {
        return source;
    }

    /**
     * Fills the placeholders. {@code values} answers a name with its text, or {@code null} for
     * empty; with {@code json} each value is escaped to sit inside a JSON string.
     */
    public String render(Function<String, String> values, boolean json) {
        if (names.isEmpty()) {
            return source;
        }
        StringBuilder b = new StringBuilder(source.length() + 32);
        for (int i = 0; i < names.size(); i++) {
            b.append(literals.get(i));
            String v = values.apply(names.get(i));
            if (v != null) {
                if (json) {
                    appendJsonEscaped(b, v);
                } else {
                    b.append(v);
                }
            }
        }
        return b.append(literals.get(names.size())).toString();
    }

    private static void appendJsonEscaped(StringBuilder b, String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
    }
}
