package dev.sluice.client;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The answer to an {@link Acquire} of a request that holds slots of a concurrency limit ("at most
 * 5 exports running per organisation"), for use in try-with-resources: closing it gives the slots
 * back (a {@code Release}, retried until a node answers; releasing twice gives back once) and
 * waits for a node to say so, up to the client's deadline. Asked to, it renews its lease while
 * held, for work that outlasts one lease. When not {@link #allowed()}, closing does nothing: write
 * the denial with {@link AcquireResult#writeTo}.
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

    /**
     * Gives the slots back, once however often it is called, and waits for a node to say so, up to
     * the client's deadline: an acquire made after {@code close()} returns finds them free (the
     * release and that acquire may go to different nodes, on different calls). Past the deadline,
     * or when closed on one of the client's I/O threads (which deliver the answer, so must not wait
     * for it), it returns and the release goes on being tried; one that never lands is made good by
     * the lease running out.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ScheduledFuture<?> r = renewal;
        if (r != null) {
            r.cancel(false);
        }
        if (!holdsLease()) {
            return;
        }
        CompletableFuture<Boolean> released = client.releaseAsync(request, result.leaseId());
        if (IoThreads.currentEventLoop() != null) {
            return;
        }
        try {
            released.get(client.deadlineNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // Still tried meanwhile, or never to land: the lease running out gives the slots back.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
