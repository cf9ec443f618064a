package dev.sluice.server.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Every log record of INFO and above written while open, from any logger. */
public final class LogCapture extends Handler implements AutoCloseable {

    private final Logger root = Logger.getLogger("");
    private final Level level;
    private final List<LogRecord> records = new ArrayList<>();

    private LogCapture() {
        level = root.getLevel();
        root.addHandler(this);
        root.setLevel(Level.INFO);
    }

    public static LogCapture start() {
        return new LogCapture();
    }

    @Override
    public synchronized void publish(LogRecord record) {
        if (record.getLevel().intValue() >= Level.INFO.intValue()) {
            records.add(record);
        }
    }

    public synchronized List<LogRecord> records() {
        return List.copyOf(records);
    }

    /** Records that carry a stack trace. */
    public synchronized List<LogRecord> withStackTraces() {
        return records.stream().filter(r -> r.getThrown() != null).toList();
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        root.removeHandler(this);
        root.setLevel(level);
    }
}
