package dev.sluice.client;

import dev.sluice.api.v1.AcquireRequest;

import java.util.concurrent.CompletableFuture;

/**
 * One request on its way to a node: what to send, by when it must be answered, which attempt this
 * is (1 for the first), and where its answer goes. A retry is a new attempt with the same request,
 * the same request id and the same deadline.
 */
record Attempt(Acquire request, AcquireRequest proto, long deadline, int number, CompletableFuture<AcquireResult> result) {

    /** The next attempt at the same request. */
    Attempt next() {
        return new Attempt(request, proto, deadline, number + 1, result);
    }
}
