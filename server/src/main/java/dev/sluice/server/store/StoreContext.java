package dev.sluice.server.store;

import dev.sluice.server.time.Clock;

import java.time.Duration;

/**
 * What the entry processors need from the member they run on: the clock that decides, how long
 * past its resting time an idle bucket is kept, how long request ids are remembered, and how
 * often rested buckets are swept away. Registered in the member's user context, so every member
 * uses its own clock for the buckets it owns.
 *
 * @param clock         the decision clock
 * @param expiryGrace   how long past its resting time a bucket is kept before it may be removed.
 *                      The member that sweeps compares with its own clock, which may disagree
 *                      with the clock of the member that decided by a little; the grace keeps a
 *                      live bucket from being removed early (an early removal is a silent reset)
 * @param requestMemory how long a bucket remembers a request id it applied, so that a retry
 *                      within that time is answered without being applied again
 * @param sweepInterval how often each member removes, from the partitions it owns, the buckets past their time
 * @param budget        how many bucket entries the member may hold
 */
public record StoreContext(Clock clock, Duration expiryGrace, Duration requestMemory, Duration sweepInterval, BucketBudget budget,
                           StoreStats stats) {

    /** How often rested buckets are removed, unless told otherwise. */
    public static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofSeconds(30);

    public StoreContext(Clock clock, Duration expiryGrace, Duration requestMemory) {
        this(clock, expiryGrace, requestMemory, DEFAULT_SWEEP_INTERVAL, BucketBudget.unlimited());
    }

    public StoreContext(Clock clock, Duration expiryGrace, Duration requestMemory, Duration sweepInterval, BucketBudget budget) {
        this(clock, expiryGrace, requestMemory, sweepInterval, budget, new StoreStats());
    }


    static final String USER_CONTEXT_KEY = "sluice.store-context";

    public StoreContext {
        if (expiryGrace.isNegative()) {
            throw new IllegalArgumentException("expiry grace must not be negative");
        }
        if (requestMemory.isNegative() || requestMemory.isZero()) {
            throw new IllegalArgumentException("request memory must be positive");
        }
        if (sweepInterval.isNegative() || sweepInterval.isZero()) {
            throw new IllegalArgumentException("sweep interval must be positive");
        }
    }

    /** The decision-clock time before which nothing that rested at or after it may be removed. */
    long sweepCutoff() {
        return clock.nanos() - expiryGrace.toNanos();
    }

    long requestMemoryNanos() {
        return requestMemory.toNanos();
    }
}
