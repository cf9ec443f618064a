package dev.sluice.server.logging;

import dev.sluice.server.json.JsonText;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object a line: {@code time} (ISO-8601, UTC), {@code level}, {@code logger},
 * {@code message}, then for an event its name ({@code event}) and fields, and {@code error}
 * with the stack trace when there is one. Hazelcast's and gRPC's records come out the same way.
 */
public final class JsonFormatter extends Formatter {

    @Override
    public String format(LogRecord r) {
        Events.Fields event = Events.of(r);
        StringBuilder b = new StringBuilder(256).append('{');
        field(b, "time", Instant.ofEpochMilli(r.getMillis()).toString());
        b.append(',');
        field(b, "level", r.getLevel().getName());
        b.append(',');
        field(b, "logger", r.getLoggerName());
        b.append(',');
        field(b, "message", event != null ? r.getMessage() : formatMessage(r));
        if (event != null) {
            b.append(',');
            field(b, "event", event.event());
            for (Map.Entry<String, Object> f : event.values().entrySet()) {
                if (!RESERVED.contains(f.getKey())) {
                    b.append(',');
                    field(b, f.getKey(), f.getValue());
                }
            }
        }
        if (r.getThrown() != null) {
            StringWriter trace = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(trace));
            b.append(',');
            field(b, "error", trace.toString().stripTrailing());
        }
        return b.append('}').append(System.lineSeparator()).toString();
    }

    private static final java.util.Set<String> RESERVED = java.util.Set.of("time", "level", "logger", "message", "event", "error");

    private static void field(StringBuilder b, String name, Object value) {
        string(b, name);
        b.append(':');
        value(b, value);
    }

    private static void value(StringBuilder b, Object value) {
        if (value == null) {
            b.append("null");
        } else if (value instanceof Number || value instanceof Boolean) {
            b.append(value);
        } else if (value instanceof Collection<?> c) {
            b.append('[');
            boolean first = true;
            for (Object o : c) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                value(b, o);
            }
            b.append(']');
        } else {
            string(b, value.toString());
        }
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        JsonText.escape(b, s);
        b.append('"');
    }
}
