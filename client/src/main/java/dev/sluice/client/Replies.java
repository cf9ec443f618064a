package dev.sluice.client;

import dev.sluice.api.v1.AcquireResponse;
import io.grpc.Status;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * What a node's answer, or the lack of one, means for the caller: an answer completes the request
 * (a denial is remembered in the {@link DenialCache}); a request the node says is wrong fails with
 * a {@link SluiceClientException}; a node that cannot decide now is tried again ({@link Retries});
 * and when there is no answer in time the {@link FailureMode} answers. Transports report here.
 */
final class Replies {

    private final DenialCache denials;
    private final Retries retries;
    private final FailureMode failureMode;
    private final LongSupplier nanoTime;
    private final long deadlineNanos;
    private final Routes routes;
    /** Where retries are sent: the client's transport, set once it is made. */
    private volatile Transport transport;

    Replies(DenialCache denials, Retries retries, FailureMode failureMode, LongSupplier nanoTime, long deadlineNanos, Routes routes) {
        this.routes = routes;
        this.denials = denials;
        this.retries = retries;
        this.failureMode = failureMode;
        this.nanoTime = nanoTime;
        this.deadlineNanos = deadlineNanos;
    }

    void retryOn(Transport transport) {
        this.transport = transport;
    }

    /** The node decided. */
    void answered(Attempt a, AcquireResponse response, long sentAt) {
        routes.learned(a.request(), response);
        AcquireResult answer = AcquireResult.from(response, a.proto().getRequestId());
        if (answer.denied() && !a.request().isDryRun()) {
            denials.remember(a.request(), answer, sentAt);
        }
        a.result().complete(answer);
    }

    /** The node could not decide ({@code status} as Acquire would have failed), or the transport broke. */
    void failed(Attempt a, Status status) {
        switch (status.getCode()) {
            // A request that is wrong, or a caller the node does not know or let in: never answered by
            // the failure mode, which would let through what the node refused.
            case INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE, FAILED_PRECONDITION, UNIMPLEMENTED, UNAUTHENTICATED,
                 PERMISSION_DENIED -> a.result().completeExceptionally(
                    new SluiceClientException(status.getCode().name(), String.valueOf(status.getDescription())));
            case UNAVAILABLE -> retry(a, status);
            // An attempt past its own timeout while the request still has time (SluiceClient.Builder.attemptTimeout).
            case DEADLINE_EXCEEDED -> {
                if (a.timesOutFirst() && a.deadline() - nanoTime.getAsLong() > 0) {
                    retry(a, status);
                } else {
                    a.result().complete(fail(describe(status)).withRequestId(a.proto().getRequestId()));
                }
            }
            default -> a.result().complete(fail(describe(status)).withRequestId(a.proto().getRequestId()));
        }
    }

    private void retry(Attempt a, Status status) {
        String noRetry = retries.retry(a, transport);
        if (noRetry != null) {
            a.result().complete(fail(describe(status) + noRetry).withRequestId(a.proto().getRequestId()));
        }
    }

    /** No answer came within the deadline. */
    void expired(Attempt a) {
        a.result().complete(fail(noAnswerInTime()).withRequestId(a.proto().getRequestId()));
    }

    /** The node closed a call without answering it. */
    void unanswered(Attempt a) {
        a.result().complete(fail("the node closed the call without an answer").withRequestId(a.proto().getRequestId()));
    }

    /** Time left before {@code a}'s deadline; when there is none, {@code a} is answered as expired and -1 returned. */
    long timeLeft(Attempt a) {
        long left = a.deadline() - nanoTime.getAsLong();
        if (left <= 0) {
            expired(a);
            return -1;
        }
        return left;
    }

    /**
     * Time left for {@code a} as an attempt: before its own timeout, if it has one, else before its
     * deadline; when the deadline has passed, {@code a} is answered as expired and -1 returned.
     */
    long attemptTimeLeft(Attempt a) {
        long now = nanoTime.getAsLong();
        if (a.deadline() - now <= 0) {
            expired(a);
            return -1;
        }
        return Math.max(1, Math.min(a.deadline(), a.tryBy()) - now);
    }

    /** The failure mode's answer, saying why. */
    AcquireResult fail(String reason) {
        return failureMode == FailureMode.FAIL_OPEN ? AcquireResult.failOpen(reason) : AcquireResult.failClosed(reason);
    }

    private String noAnswerInTime() {
        return "no answer within the " + Duration.ofNanos(deadlineNanos).toMillis() + " ms deadline";
    }

    private static String describe(Status status) {
        return status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
    }
}
