package dev.sluice.server.node;

import dev.sluice.server.policy.Policies;
import dev.sluice.server.logging.Events;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reloads the policy file (or another configuration: Envoy's, a file or a directory of them)
 * when its content changes. It reads the file's content (through any
 * symlinks) on a timer rather than watching for file events: a Kubernetes ConfigMap volume
 * replaces its files by swapping a {@code ..data} symlink, which file-event watchers on the file
 * itself never see. New content is validated first; only valid policies are swapped in, at
 * once, and an invalid file leaves the policies in force as they were.
 */
final class PolicyWatcher<T> implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PolicyWatcher.class.getName());

    /** Reads what is watched, as one run of bytes (a directory's files, names and contents). */
    @FunctionalInterface
    interface Reader {
        byte[] read() throws IOException;
    }

    /** Makes the configuration from what {@link Reader} read. */
    @FunctionalInterface
    interface Parser<T> {
        T parse(byte[] content) throws PolicyException;
    }

    private final String what;
    private final Path file;
    private final Reader reader;
    private final Parser<T> parser;
    private final Consumer<T> apply;
    private final PolicyReloads reloads;
    private final ScheduledFuture<?> checks;
    private volatile byte[] lastContent;
    private volatile byte[] lastRejected;
    /** The last reason the file could not be read, said once until it changes. */
    private String lastUnreadable;

    /** Watches the policy file. */
    static PolicyWatcher<Policies> of(Path file, byte[] initialContent, Duration interval, Consumer<Policies> apply,
                                      ScheduledExecutorService timer, PolicyReloads reloads) {
        return new PolicyWatcher<>("policy file", file, () -> Files.readAllBytes(file), c -> PolicyLoader.parse(c, file.toString()),
                initialContent, interval, apply, timer, reloads);
    }

    /**
     * Checks {@code file} (named {@code what} in the log) every {@code interval} on {@code timer}
     * until closed: read with {@code reader}, made with {@code parser}, applied with {@code apply}.
     */
    PolicyWatcher(String what, Path file, Reader reader, Parser<T> parser, byte[] initialContent, Duration interval, Consumer<T> apply,
                  ScheduledExecutorService timer, PolicyReloads reloads) {
        this.what = what;
        this.file = file;
        this.reader = reader;
        this.parser = parser;
        this.reloads = reloads;
        this.apply = apply;
        this.lastContent = initialContent;
        long every = interval.toMillis();
        this.checks = timer.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
    }

    void check() {
        byte[] content;
        try {
            content = reader.read();
        } catch (IOException e) {
            // Mid-swap, or the volume is gone for a moment: keep what is in force, look again later;
            // a reason that persists is said once.
            String why = String.valueOf(e.getMessage());
            if (!why.equals(lastUnreadable)) {
                lastUnreadable = why;
                reloads.unreadable(what + " " + file + " cannot be read: " + why);
                Events.log(LOG, Level.WARNING, "policy_unreadable", () -> what + " " + file + " cannot be read ("
                        + e.getClass().getSimpleName() + ": " + why + "); what is in force stays", "file", file.toString(), "reason", why);
            }
            return;
        }
        lastUnreadable = null;
        if (Arrays.equals(content, lastContent) || Arrays.equals(content, lastRejected)) {
            return;
        }
        try {
            T next = parser.parse(content);
            lastContent = content;
            lastRejected = null;
            apply.accept(next);
            reloads.applied();
        } catch (PolicyException e) {
            lastRejected = content;
            reloads.refused(what + " " + file + " has " + e.report());
            Events.log(LOG, Level.WARNING, "policy_reload_refused", () -> what + " " + file
                    + " changed and is invalid; what is in force stays; it has " + e.report(), "file", file.toString(),
                    "problems", e.problems().stream().map(Object::toString).toList());
        } catch (RuntimeException e) {
            lastRejected = content;
            reloads.refused("could not reload " + file + ": " + e);
            LOG.log(Level.WARNING, "could not reload " + file + "; what is in force stays", e);
        }
    }

    @Override
    public void close() {
        checks.cancel(false);
    }
}
