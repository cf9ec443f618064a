package dev.sluice.server.testing;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Threads shared by the tests of one JVM. */
public final class TestThreads {

    private TestThreads() {
    }

    /**
     * Starts follow-ups (retries, give-backs, their timeouts) for stores and engines made in tests,
     * as a node's own follow-up thread does.
     */
    public static final ScheduledExecutorService FOLLOW_UPS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "test-follow-ups");
        t.setDaemon(true);
        return t;
    });
}
