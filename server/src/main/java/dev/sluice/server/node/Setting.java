package dev.sluice.server.node;

import java.util.Locale;
import java.util.Objects;

/**
 * One node setting, declared once: its name (from which its flag {@code --name} and its
 * environment variable {@code SLUICE_NAME} come), the value's name and default, how its text is
 * parsed, what a value must satisfy, and its help. {@link Settings#ALL} lists them; the command
 * line, the environment, {@code --help}, the README's table and {@link NodeSettings.Builder} all
 * read that one list.
 *
 * @param <T> the value's type
 */
public final class Setting<T> {

    /** Turns an option's text into a value; the exception's message says what is wrong, without naming the option. */
    @FunctionalInterface
    interface Parser<T> {
        T parse(String text) throws Invalid;
    }

    /** What is wrong with a value, or {@code null} when it may be used. */
    @FunctionalInterface
    interface Check<T> {
        String problem(T value);
    }

    /** A value that cannot be used; the message says why. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    private final String name;
    private final Class<T> type;
    private final String valueName;
    private final T defaultValue;
    private final String defaultText;
    private final Parser<T> parser;
    private final Check<T> check;
    private final String help;

    Setting(String name, Class<T> type, String valueName, T defaultValue, String defaultText, Parser<T> parser, Check<T> check,
            String help) {
        this.name = Objects.requireNonNull(name);
        this.type = Objects.requireNonNull(type);
        this.valueName = valueName;
        this.defaultValue = defaultValue;
        this.defaultText = defaultText;
        this.parser = parser;
        this.check = check;
        this.help = help;
    }

    /** The setting's name, e.g. {@code drain-delay}. */
    public String name() {
        return name;
    }

    /** Its command-line flag, e.g. {@code --drain-delay}; for a setting made in code only, still how messages name it. */
    public String flag() {
        return "--" + name;
    }

    /** Its environment variable, e.g. {@code SLUICE_DRAIN_DELAY}. */
    public String env() {
        return "SLUICE_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** Whether it can be given on the command line and in the environment (otherwise only in code, by embedders and tests). */
    public boolean onCommandLine() {
        return parser != null;
    }

    public String valueName() {
        return valueName;
    }

    public String defaultText() {
        return defaultText;
    }

    public String help() {
        return help;
    }

    T defaultValue() {
        return defaultValue;
    }

    /** Parses {@code text} given under {@code origin} (the flag or the variable) and checks it. */
    T parse(String origin, String text) throws SettingsException {
        T value;
        try {
            value = parser.parse(text);
        } catch (Invalid e) {
            throw new SettingsException(origin + ": " + e.getMessage());
        }
        String problem = check == null ? null : check.problem(value);
        if (problem != null) {
            throw new SettingsException(origin + ": '" + text + "' " + problem);
        }
        return value;
    }

    /** {@code value} if it may be used; else an {@link IllegalArgumentException} naming this setting. */
    T checked(Object value) {
        if (value == null) {
            if (defaultValue != null) {
                throw new IllegalArgumentException(flag() + ": must be given (null)");
            }
            return null;
        }
        T v = type.cast(value);
        String problem = check == null ? null : check.problem(v);
        if (problem != null) {
            String shown = value instanceof java.time.Duration d ? dev.sluice.server.time.Durations.format(d) : String.valueOf(value);
            throw new IllegalArgumentException(flag() + ": " + shown + " " + problem);
        }
        return v;
    }

    @Override
    public String toString() {
        return flag();
    }
}
