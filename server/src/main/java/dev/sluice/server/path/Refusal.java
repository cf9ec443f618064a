package dev.sluice.server.path;

/**
 * Why a request was not decided: a code, as gRPC names it, and a message for the caller that names
 * what is wrong (the field, the limit, the domain) without telling what the caller may not see.
 * Each adapter turns it into its protocol's error.
 */
public record Refusal(Code code, String message) {

    /** The kinds of refusal; each adapter maps them to its protocol's status of the same name. */
    public enum Code {
        /** The request is malformed, or asks for more than a limit can ever give. */
        INVALID_ARGUMENT,
        /** The domain has no policies here. */
        NOT_FOUND,
        /** The node cannot decide now (overloaded, leaving, too few members, outcome unknown): try another. */
        UNAVAILABLE,
        /** The call's deadline passed before a decision was asked for. */
        DEADLINE_EXCEEDED,
        /** The caller's identity is needed and was not given, or could not be verified. */
        UNAUTHENTICATED,
        /** The caller is known and may not ask this. */
        PERMISSION_DENIED,
        /** What the request refers to is no longer there to act on (a settle of a request its buckets forgot). */
        FAILED_PRECONDITION,
        /** The node has no room to track what the request asks (a new bucket past its budget). */
        RESOURCE_EXHAUSTED,
        /** A defect: logged where it happened. */
        INTERNAL
    }

    static Refusal invalid(String message) {
        return new Refusal(Code.INVALID_ARGUMENT, message);
    }

    static Refusal unavailable(String message) {
        return new Refusal(Code.UNAVAILABLE, message);
    }
}
