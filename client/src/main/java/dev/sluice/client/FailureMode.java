package dev.sluice.client;

/**
 * What {@link SluiceClient#acquire} answers when Sluice cannot: no node reachable, or no answer
 * within the deadline. Either way the call returns in time and does not throw; the result says
 * which happened ({@link AcquireResult#source()}).
 */
public enum FailureMode {

    /** Allow the request: the limiter's outage does not become the service's outage. The default. */
    FAIL_OPEN,

    /** Deny the request with HTTP 503: nothing passes that the limiter has not allowed. */
    FAIL_CLOSED
}
