package dev.sluice.server.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/** One line a record: UTC time, level, logger, message, then the stack trace if there is one. */
public final class TextFormatter extends Formatter {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @Override
    public String format(LogRecord r) {
        StringBuilder b = new StringBuilder(128).append(TIME.format(Instant.ofEpochMilli(r.getMillis()))).append(' ')
                .append(r.getLevel().getLocalizedName()).append(' ').append(r.getLoggerName()).append(": ")
                .append(Events.of(r) != null ? r.getMessage() : formatMessage(r));
        if (r.getThrown() != null) {
            StringWriter trace = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(trace));
            b.append(System.lineSeparator()).append(trace.toString().stripTrailing());
        }
        return b.append(System.lineSeparator()).toString();
    }
}
