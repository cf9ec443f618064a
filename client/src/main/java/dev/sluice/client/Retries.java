package dev.sluice.client;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Tries an attempt again, as the {@link RetryPolicy} says: after a random wait up to the backoff
 * ("full jitter"), only while attempts are left and only when the retry can start before the
 * request's deadline. The retry carries the same request id.
 */
final class Retries {

    private final RetryPolicy policy;
    private final ScheduledExecutorService timer;
    private final LongSupplier nanoTime;
    /** How long each attempt may wait for its node. */
    private final long attemptNanos;

    Retries(RetryPolicy policy, ScheduledExecutorService timer, LongSupplier nanoTime, long attemptNanos) {
        this.policy = policy;
        this.timer = timer;
        this.nanoTime = nanoTime;
        this.attemptNanos = attemptNanos;
    }

    /**
     * Schedules the next attempt on {@code transport}; returns why it cannot be retried instead
     * (for the failure mode's answer), or {@code null} when a retry is on its way.
     */
    String retry(Attempt attempt, Transport transport) {
        int n = attempt.number();
        if (n >= policy.maxAttempts()) {
            return " after " + n + " attempt(s)";
        }
        long ceiling = policy.backoffCeilingNanos(n);
        long wait = ceiling == 0 ? 0 : ThreadLocalRandom.current().nextLong(ceiling + 1);
        long now = nanoTime.getAsLong();
        if (now + wait >= attempt.deadline()) {
            return "; no time left to retry within the deadline";
        }
        Attempt next = attempt.next(now + wait + attemptNanos);
        try {
            timer.schedule(() -> transport.send(next), wait, TimeUnit.NANOSECONDS);
            return null;
        } catch (RejectedExecutionException e) {
            return "; the client is closed";
        }
    }
}
