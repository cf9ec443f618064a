package dev.sluice.server.policy;

import dev.sluice.server.json.JsonText;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A denial body with {@code ${name}} placeholders, split once at load time. Names are the
 * built-in figures of the binding limit ({@code limit}, {@code used}, {@code remaining},
 * {@code retry_after}, {@code reset}, {@code window}, {@code name}, {@code rule}, {@code domain})
 * or, for any other name, the request's descriptor of that name ({@code tier}, {@code type},
 * {@code resource}, ...); {@code ${descriptors.X}} names a descriptor explicitly.
 * {@code ${name:-text}} gives {@code text} when the value is missing or empty.
 */
public final class BodyTemplate {

    /** Placeholder names with a built-in meaning. */
    public static final List<String> BUILT_INS =
            List.of("limit", "used", "remaining", "retry_after", "reset", "window", "name", "rule", "domain");

    public static final BodyTemplate EMPTY = new BodyTemplate("", List.of(""), List.of(), List.of());

    private final String source;
    private final List<String> literals;
    private final List<String> names;
    private final List<String> fallbacks;

    private BodyTemplate(String source, List<String> literals, List<String> names, List<String> fallbacks) {
        this.source = source;
        this.literals = literals;
        this.names = names;
        this.fallbacks = fallbacks;
    }

    /** Splits {@code template}; an unterminated or empty placeholder is an error naming its position. */
    static BodyTemplate parse(String template) {
        List<String> literals = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<String> fallbacks = new ArrayList<>();
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
            String inside = template.substring(open + 2, close);
            int dash = inside.indexOf(":-");
            String name = (dash < 0 ? inside : inside.substring(0, dash)).trim();
            fallbacks.add(dash < 0 ? null : inside.substring(dash + 2));
            if (name.isEmpty() || !name.matches("[A-Za-z0-9_.\\-]+")) {
                throw new IllegalArgumentException("placeholder '${" + name + "}' at character " + (open + 1)
                        + " is not a name (letters, digits, '_', '-', '.')");
            }
            literals.add(template.substring(from, open));
            names.add(name);
            from = close + 1;
        }
        return new BodyTemplate(template, List.copyOf(literals), List.copyOf(names), java.util.Collections.unmodifiableList(fallbacks));
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
            if ((v == null || v.isEmpty()) && fallbacks.get(i) != null) {
                v = fallbacks.get(i);
            }
            if (v != null) {
                if (json) {
                    JsonText.escape(b, v);
                } else {
                    b.append(v);
                }
            }
        }
        return b.append(literals.get(names.size())).toString();
    }
}
