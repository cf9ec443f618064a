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
 * Reloads the policy file when its content changes. It reads the file's content (through any
 * symlinks) on a timer rather than watching for file events: a Kubernetes ConfigMap volume
 * replaces its files by swapping a {@code ..data} symlink, which file-event watchers on the file
 * itself never see. New content is validated first; only valid policies are swapped in, at
 * once, and an invalid file leaves the policies in force as they were.
 */
final class PolicyWatcher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PolicyWatcher.class.getName());

    private final Path file;
    private final Consumer<Policies> apply;
    private final PolicyReloads reloads;
    private final ScheduledFuture<?> checks;
    private volatile byte[] lastContent;
    private volatile byte[] lastRejected;
    /** The last reason the file could not be read, said once until it changes. */
    private String lastUnreadable;

    /** Checks {@code file} every {@code interval} on {@code timer} until closed. */
    PolicyWatcher(Path file, byte[] initialContent, Duration interval, Consumer<Policies> apply, ScheduledExecutorService timer,
                  PolicyReloads reloads) {
        this.file = file;
        this.reloads = reloads;
        this.apply = apply;
        this.lastContent = initialContent;
        long every = interval.toMillis();
        this.checks = timer.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
    }

    void check() {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            // Mid-swap, or the volume is gone for a moment: keep what is in force, look again later;
            // a reason that persists is said once.
            String why = String.valueOf(e.getMessage());
            if (!why.equals(lastUnreadable)) {
                lastUnreadable = why;
                reloads.unreadable();
                Events.log(LOG, Level.WARNING, "policy_unreadable", () -> "policy file " + file + " cannot be read ("
                        + e.getClass().getSimpleName() + ": " + why + "); the policies in force stay", "file", file.toString(), "reason", why);
            }
            return;
        }
        lastUnreadable = null;
        if (Arrays.equals(content, lastContent) || Arrays.equals(content, lastRejected)) {
            return;
        }
        try {
            Policies next = PolicyLoader.parse(content, file.toString());
            lastContent = content;
            lastRejected = null;
            apply.accept(next);
            reloads.applied();
        } catch (PolicyException e) {
            lastRejected = content;
            reloads.refused();
            Events.log(LOG, Level.WARNING, "policy_reload_refused", () -> "policy file " + file
                    + " changed and is invalid; the policies in force stay; it has " + e.report(), "file", file.toString(),
                    "problems", e.problems().stream().map(Object::toString).toList());
        } catch (RuntimeException e) {
            lastRejected = content;
            reloads.refused();
            LOG.log(Level.WARNING, "could not reload " + file + "; the policies in force stay", e);
        }
    }

    @Override
    public void close() {
        checks.cancel(false);
    }
}
