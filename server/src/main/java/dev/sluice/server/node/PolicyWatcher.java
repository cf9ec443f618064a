package dev.sluice.server.node;

import dev.sluice.server.policy.Policies;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.policy.Problem;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
    private final ScheduledFuture<?> checks;
    private volatile String lastContent;
    private volatile String lastRejected;

    /** Checks {@code file} every {@code interval} on {@code timer} until closed. */
    PolicyWatcher(Path file, String initialContent, Duration interval, Consumer<Policies> apply, ScheduledExecutorService timer) {
        this.file = file;
        this.apply = apply;
        this.lastContent = initialContent;
        long every = interval.toMillis();
        this.checks = timer.scheduleWithFixedDelay(this::check, every, every, TimeUnit.MILLISECONDS);
    }

    void check() {
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            // Mid-swap, or the volume is gone for a moment: keep what is in force, look again later.
            LOG.log(Level.FINE, "policy file " + file + " unreadable for now: " + e);
            return;
        }
        if (content.equals(lastContent) || content.equals(lastRejected)) {
            return;
        }
        try {
            Policies next = PolicyLoader.parse(content, file.toString());
            lastContent = content;
            lastRejected = null;
            apply.accept(next);
        } catch (PolicyException e) {
            lastRejected = content;
            StringBuilder b = new StringBuilder("policy file " + file + " changed but is invalid; the policies in force stay:");
            for (Problem p : e.problems()) {
                b.append("\n  ").append(p);
            }
            LOG.warning(b.toString());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "could not reload " + file + "; the policies in force stay", e);
        }
    }

    @Override
    public void close() {
        checks.cancel(false);
    }
}
