package dev.sluice.server.api;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.BatchError;
import dev.sluice.server.path.Refusal;
import io.grpc.Status;

/** Refusals as gRPC statuses, and answers as the entries batches and streams carry. */
final class Statuses {

    private Statuses() {
    }

    static Status of(Refusal refusal) {
        Status.Code code = switch (refusal.code()) {
            case INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.Code.NOT_FOUND;
            case UNAVAILABLE -> Status.Code.UNAVAILABLE;
            case DEADLINE_EXCEEDED -> Status.Code.DEADLINE_EXCEEDED;
            case UNAUTHENTICATED -> Status.Code.UNAUTHENTICATED;
            case PERMISSION_DENIED -> Status.Code.PERMISSION_DENIED;
            case RESOURCE_EXHAUSTED -> Status.Code.RESOURCE_EXHAUSTED;
            case FAILED_PRECONDITION -> Status.Code.FAILED_PRECONDITION;
            case INTERNAL -> Status.Code.INTERNAL;
        };
        return code.toStatus().withDescription(refusal.message());
    }

    /** One request's answer in a batch or on a stream: its response, or the error Acquire would have failed with. */
    static BatchEntry entry(AcquireResponse response, Refusal refusal) {
        return refusal == null ? BatchEntry.newBuilder().setResponse(response).build()
                : BatchEntry.newBuilder().setError(BatchError.newBuilder().setCode(of(refusal).getCode().value())
                        .setMessage(refusal.message())).build();
    }
}
