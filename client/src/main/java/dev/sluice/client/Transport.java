package dev.sluice.client;

/**
 * How attempts reach the nodes: each as a call of its own ({@link UnaryCalls}), gathered into
 * batches under load ({@link BatchedCalls}), or as messages on long-lived streams
 * ({@link Streams}). A transport sends; what an answer means (cache, retry, failure mode) is
 * {@link Replies}'s to decide.
 */
interface Transport {

    /** Sends {@code attempt}; its answer, failure or expiry goes to the transport's {@link Replies}. */
    void send(Attempt attempt);

    /** Stops sending; attempts still waiting are answered by the client itself. */
    default void close() {
    }
}
