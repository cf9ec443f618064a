package dev.sluice.server.logging;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Log lines that are events: a message for people and, for the JSON log, the event's name and
 * fields (e.g. {@code member_joined} with the member's address and the cluster's size). The
 * fields ride on the record as its one parameter; the text log shows the message alone.
 */
public final class Events {

    private Events() {
    }

    /** An event's name and fields. */
    public record Fields(String event, Map<String, Object> values) {
    }

    /** Logs event {@code event} at {@code level}, when that level is on, with {@code message} and {@code fields} (name, value, ...). */
    public static void log(Logger logger, Level level, String event, Supplier<String> message, Object... fields) {
        if (!logger.isLoggable(level)) {
            return;
        }
        if (fields.length % 2 != 0) {
            throw new IllegalArgumentException("fields come in name, value pairs");
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (int i = 0; i < fields.length; i += 2) {
            values.put((String) fields[i], fields[i + 1]);
        }
        LogRecord r = new LogRecord(level, message.get());
        r.setLoggerName(logger.getName());
        r.setParameters(new Object[] {new Fields(event, values)});
        logger.log(r);
    }

    /** The event a record carries, or {@code null}. */
    static Fields of(LogRecord r) {
        Object[] p = r.getParameters();
        return p != null && p.length == 1 && p[0] instanceof Fields f ? f : null;
    }
}
