package dev.sluice.client;

import dev.sluice.api.v1.AcquireRequest;

import java.util.concurrent.CompletableFuture;

/**
 * One request on its way to a node: what to send, by when it must be answered, by when this attempt
 * must be ({@code tryBy}, at most the deadline: then it is tried again), which attempt this is (1 for
 * the first), and where its answer goes. A retry is a new attempt with the same request, the same
 * request id and the same deadline.
 */
record Attempt(Acquire request, AcquireRequest proto, long deadline, long tryBy, int number, CompletableFuture<AcquireResult> result) {

    /** The next attempt at the same request, to be answered by {@code tryBy} (capped at the deadline). */
    Attempt next(long tryBy) {
        return new Attempt(request, proto, deadline, Math.min(deadline, tryBy), number + 1, result);
    }

    /** Whether this attempt has its own timeout, shorter than the request's deadline. */
    boolean timesOutFirst() {
        return tryBy - deadline < 0;
    }
}
