package dev.sluice.client;

/**
 * A request Sluice cannot answer because it is wrong, not because Sluice is unreachable: a
 * malformed request ({@code INVALID_ARGUMENT}, the message names the field) or an unknown domain
 * ({@code NOT_FOUND}). Retrying it cannot help; the failure mode does not apply.
 */
public final class SluiceClientException extends RuntimeException {

    private final String code;

    SluiceClientException(String code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    /** The gRPC status code name, e.g. {@code INVALID_ARGUMENT}. */
    public String code() {
        return code;
    }
}
