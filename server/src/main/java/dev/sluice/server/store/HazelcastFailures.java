package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.HazelcastOverloadException;
import com.hazelcast.core.IndeterminateOperationStateException;
import com.hazelcast.core.OperationTimeoutException;
import com.hazelcast.spi.exception.RetryableException;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Hazelcast's exceptions as Sluice's own {@link StoreException}s: nothing above the store sees Hazelcast's. */
final class HazelcastFailures {

    private HazelcastFailures() {
    }

    /** The failure behind {@code error}, unwrapped from the futures that carried it, as a store exception. */
    static StoreException translate(Throwable error) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof StoreException already) {
            return already;
        }
        if (e instanceof IndeterminateOperationStateException) {
            return new StoreException(StoreException.Kind.OUTCOME_UNKNOWN, "whether the units were taken is unknown (a member left"
                    + " while deciding, or a backup did not confirm in time)", e);
        }
        if (e instanceof SplitBrainProtectionException) {
            return new StoreException(StoreException.Kind.BELOW_MINIMUM_SIZE, e.getMessage(), e);
        }
        if (e instanceof HazelcastOverloadException) {
            return new StoreException(StoreException.Kind.OVERLOADED, e.getMessage(), e);
        }
        if (e instanceof HazelcastInstanceNotActiveException || e instanceof RetryableException
                || e instanceof OperationTimeoutException) {
            return new StoreException(StoreException.Kind.UNAVAILABLE, String.valueOf(e.getMessage()), e);
        }
        return new StoreException(StoreException.Kind.FAILED, String.valueOf(e), e);
    }

    /** Whether {@code error} left the outcome unknown: a command carrying an id may then be applied again. */
    static boolean outcomeUnknown(Throwable error) {
        return translate(error).kind() == StoreException.Kind.OUTCOME_UNKNOWN;
    }
}
