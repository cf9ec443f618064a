package dev.sluice.server.time;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one grammar for durations, in node options and in policy files alike: {@code 0}, or one
 * or more groups of a whole number and a unit ({@code ns}, {@code us}, {@code ms}, {@code s},
 * {@code m}, {@code h}, {@code d}), written together ({@code 500ms}, {@code 10s}, {@code 1m30s}),
 * or ISO-8601 ({@code PT1M}).
 */
public final class Durations {

    /** What the grammar says, for error messages. */
    public static final String GRAMMAR = "a number and a unit: ns, us, ms, s, m, h or d (e.g. 500ms, 10s, 1m)";

    private static final Pattern GROUP = Pattern.compile("(\\d+)(ns|us|µs|ms|s|m|h|d)");

    private Durations() {
    }

    /** A duration's text that does not follow the grammar; the message says why. */
    public static final class NotADuration extends Exception {
        NotADuration(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Parses {@code text}; the exception's message says what is wrong with it. A duration must
     * fit the decision clock's range with room to spare (a time in nanoseconds since the epoch
     * plus the duration must not overflow): at most about 146 years.
     */
    public static Duration parse(String text) throws NotADuration {
        Duration d = parseAny(text);
        if (!fitsNanos(d)) {
            throw new NotADuration("'" + text + "' is too long a duration (at most 146 years)");
        }
        return d;
    }

    private static Duration parseAny(String text) throws NotADuration {
        if (text.equals("0")) {
            return Duration.ZERO;
        }
        if (text.startsWith("P") || text.startsWith("p") || text.startsWith("-P")) {
            try {
                return Duration.parse(text);
            } catch (DateTimeParseException e) {
                throw new NotADuration(e.getCause() instanceof ArithmeticException
                        ? "'" + text + "' is too long a duration" : "'" + text + "' is not a duration; write " + GRAMMAR);
            }
        }
        Matcher m = GROUP.matcher(text);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < text.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new NotADuration("'" + text + "' is not a duration; write " + GRAMMAR);
            }
            try {
                long n = Long.parseLong(m.group(1));
                total = total.plus(switch (m.group(2)) {
                    case "ns" -> Duration.ofNanos(n);
                    case "us", "µs" -> Duration.ofNanos(Math.multiplyExact(n, 1000L));
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofSeconds(Math.multiplyExact(n, 60L));
                    case "h" -> Duration.ofSeconds(Math.multiplyExact(n, 3600L));
                    default -> Duration.ofSeconds(Math.multiplyExact(n, 86_400L));
                });
            } catch (ArithmeticException | NumberFormatException e) {
                throw new NotADuration("'" + text + "' is too long a duration");
            }
            at = m.end();
        }
        if (at == 0) {
            throw new NotADuration("'" + text + "' is not a duration; write " + GRAMMAR);
        }
        return total;
    }

    private static boolean fitsNanos(Duration d) {
        try {
            return Math.abs(d.toNanos()) <= Long.MAX_VALUE / 2;
        } catch (ArithmeticException e) {
            return false;
        }
    }

    /** {@code d} in the grammar's own words: {@code 10s}, {@code 1m30s}, {@code 250ms}. */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.isNegative()) {
            return "-" + format(d.negated());
        }
        StringBuilder b = new StringBuilder();
        long days = d.toDays();
        if (days > 0) {
            b.append(days).append('d');
        }
        append(b, d.toHoursPart(), "h");
        append(b, d.toMinutesPart(), "m");
        append(b, d.toSecondsPart(), "s");
        int nanos = d.toNanosPart();
        if (nanos % 1_000_000 == 0) {
            append(b, nanos / 1_000_000, "ms");
        } else if (nanos % 1000 == 0) {
            append(b, nanos / 1000, "us");
        } else {
            append(b, nanos, "ns");
        }
        return b.toString().toLowerCase(Locale.ROOT);
    }

    private static void append(StringBuilder b, long n, String unit) {
        if (n != 0) {
            b.append(n).append(unit);
        }
    }
}
