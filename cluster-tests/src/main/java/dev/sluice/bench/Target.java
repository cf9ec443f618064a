package dev.sluice.bench;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Something the generator can ask for decisions: a limiter, or a server that does nothing. */
interface Target extends AutoCloseable {

    String name();

    /** Decisions one call makes (a batch makes many). */
    default int decisionsPerCall() {
        return 1;
    }

    /**
     * Asks for decisions on bucket {@code key} (a batch spreads over {@code key} and the keys
     * after it); completes with the number allowed.
     */
    CompletableFuture<Integer> call(long key);

    /**
     * Asks for {@code attempts} units of a bucket that holds {@code capacity} and refills slowly,
     * one at a time; the number allowed. Run before timing: a target that limits wrongly is not
     * measured.
     */
    int limitCheck(String key, int capacity, int attempts) throws Exception;

    /** Processes doing the target's work, for CPU accounting (the generator's own is counted apart). */
    List<Long> pids();

    @Override
    void close() throws Exception;
}
