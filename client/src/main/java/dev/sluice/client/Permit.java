package dev.sluice.client;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The answer to an {@link Acquire} of a request that holds slots of a concurrency limit ("at most
 * 5 exports running per organisation"), for use in try-with-resources: closing it gives the slots
 * back (a {@code Release}, retried until a node answers; releasing twice gives back once). Asked
 * to, it renews its lease while held, for work that outlasts one lease. When not {@link #allowed()},
 * closing does nothing: write the denial with {@link AcquireResult#writeTo}.
 *
 * <pre>{@code
 * try (Permit p = sluice.acquirePermit(Acquire.domain("exports").with("org", org))) {
 *     if (!p.allowed()) {
 *         p.result().writeTo(response);
 *         return;
 *     }
 *     runExport();
 * }
 * }</pre>
 */
public final class Permit implements AutoCloseable {

    private final SluiceClient client;
    private final Acquire request;
    private final AcquireResult result;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean lost = new AtomicBoolean();
    private volatile ScheduledFuture<?> renewal;

    Permit(SluiceClient client, Acquire request, AcquireResult result) {
        this.client = client;
        this.request = request;
        this.result = result;
    }

    /** Starts renewing the lease every {@code every}; a renewal that finds the lease gone marks the permit {@link #lost()}. */
    void renewEvery(Duration every) {
        if (!holdsLease()) {
            return;
        }
        renewal = client.timer().scheduleWithFixedDelay(() -> client.renewAsync(request, result.leaseId()).whenComplete((held, e) -> {
            if (e == null && !held && !closed.get()) {
                lost.set(true);
                ScheduledFuture<?> r = renewal;
                if (r != null) {
                    r.cancel(false);
                }
            }
        }), every.toNanos(), every.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** Whether the request may be served: its slots are held. */
    public boolean allowed() {
        return result.allowed();
    }

    /** The node's answer: limits, headers, and the denial to write when not allowed. */
    public AcquireResult result() {
        return result;
    }

    /** The lease the slots are held under; empty when none is (denied, or no concurrency limit applied). */
    public String leaseId() {
        return result.leaseId();
    }

    /**
     * Whether a renewal found the lease gone (it ran out before it was renewed, or someone
     * released it): its slots may be someone else's now, and the work should stop.
     */
    public boolean lost() {
        return lost.get();
    }

    private boolean holdsLease() {
        return result.allowed() && !result.leaseId().isEmpty();
    }

    /** Gives the slots back, without waiting for the node's answer; once, however often it is called. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ScheduledFuture<?> r = renewal;
        if (r != null) {
            r.cancel(false);
        }
        if (holdsLease()) {
            client.releaseAsync(request, result.leaseId());
        }
    }
}
