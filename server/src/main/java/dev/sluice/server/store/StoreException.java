package dev.sluice.server.store;

/**
 * Why a store could not apply a command, in Sluice's terms: the one kind of failure a store's
 * futures complete with, whatever the store is built on.
 */
public final class StoreException extends RuntimeException {

    /** What went wrong, as far as a caller needs to know. */
    public enum Kind {
        /**
         * Whether the command was applied is unknown (a member left while applying it, or its
         * backup did not confirm in time). A retry with the same request id is answered without
         * being applied twice.
         */
        OUTCOME_UNKNOWN,
        /** The store cannot apply commands now (stopping, members changing, a call timed out); nothing was applied. */
        UNAVAILABLE,
        /** This member's side of the cluster is below the minimum size it may decide with; nothing was applied. */
        BELOW_MINIMUM_SIZE,
        /** The store is shedding load; nothing was applied. */
        OVERLOADED,
        /** The command would create a bucket and its member holds all the buckets it may; nothing was applied. */
        FULL,
        /** Anything else: a defect, logged where it is reported. */
        FAILED
    }

    private final Kind kind;

    public StoreException(Kind kind, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
    }

    public StoreException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public String toString() {
        return kind + ": " + getMessage();
    }
}
