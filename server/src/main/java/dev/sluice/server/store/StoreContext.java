package dev.sluice.server.store;

import dev.sluice.server.time.Clock;

import java.time.Duration;

/**
 * What the entry processors need from the member they run on: the clock that decides, how long
 * past its resting time an idle bucket is kept, and how long request ids are remembered.
 * Registered in the member's user context, so every member uses its own clock for the buckets
 * it owns.
 *
 * @param clock         the decision clock
 * @param expiryGrace   added to each bucket's time-to-rest before it may expire. Hazelcast expires
 *                      entries on its members' wall clocks, which may disagree with the decision
 *                      clock by a little; the grace keeps a live bucket from being evicted early
 *                      (an early eviction is a silent reset)
 * @param requestMemory how long a bucket remembers a request id it applied, so that a retry
 *                      within that time is answered without being applied again
 */
public record StoreContext(Clock clock, Duration expiryGrace, Duration requestMemory) {

    static final String USER_CONTEXT_KEY = "sluice.store-context";

    public StoreContext {
        if (expiryGrace.isNegative()) {
            throw new IllegalArgumentException("expiry grace must not be negative");
        }
        if (requestMemory.isNegative() || requestMemory.isZero()) {
            throw new IllegalArgumentException("request memory must be positive");
        }
    }

    /**
     * Entry TTL in milliseconds for a bucket that is back at rest after {@code restNanos}.
     * Hazelcast keeps TTLs and expiration times in whole seconds, truncating both, so an entry
     * may go up to two seconds before the TTL it was given: the rest time is rounded up to whole
     * seconds and one more second added, then the grace. Never 0, which would mean forever.
     */
    long ttlMillis(long restNanos) {
        long restSeconds = -Math.floorDiv(-restNanos, 1_000_000_000L);
        return (restSeconds + 1) * 1000 + expiryGrace.toMillis();
    }

    long requestMemoryNanos() {
        return requestMemory.toNanos();
    }
}
