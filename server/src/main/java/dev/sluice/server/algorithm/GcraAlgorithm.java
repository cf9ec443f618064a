package dev.sluice.server.algorithm;

/**
 * Token and leaky buckets share one piece of arithmetic, the generic cell rate algorithm (GCRA):
 * a bucket is described by the time at which it is back at rest, and a request of cost
 * {@code n} fits if pushing that time forward by {@code n} emission intervals stays within the
 * bucket's capacity. Everything is kept in "scaled" time, nanoseconds multiplied by the
 * (reduced) rate, so that a rate of, say, 3 per second stays exact instead of rounding 333.3 ms.
 */
abstract sealed class GcraAlgorithm implements Algorithm permits TokenBucket, LeakyBucket {

    private static final long MAX_SCALED = Long.MAX_VALUE / 4;

    /** Capacity in units. */
    final long capacity;
    /** Units replenished per {@link #period}, reduced by the greatest common divisor. */
    private final long rate;
    /** Nanoseconds per {@link #rate} units, reduced. One unit costs {@code period} in scaled time. */
    private final long period;
    /** Capacity in scaled time: {@code capacity * period}. */
    private final long full;
    /** Scaled deficit of a bucket that has just been created. */
    private final long initialDeficit;
    /** Whether a charge after the fact may take the bucket below empty, into debt later requests pay off. */
    final boolean overdraft;

    GcraAlgorithm(String what, long capacity, long amount, long periodNanos, long initialUnits, boolean overdraft) {
        if (capacity <= 0) {
            throw new IllegalArgumentException(what + " capacity must be positive, got " + capacity);
        }
        if (amount <= 0) {
            throw new IllegalArgumentException(what + " amount must be positive, got " + amount);
        }
        if (periodNanos <= 0) {
            throw new IllegalArgumentException(what + " period must be positive");
        }
        if (initialUnits < 0 || initialUnits > capacity) {
            throw new IllegalArgumentException(
                    what + " initial tokens must be between 0 and the capacity " + capacity + ", got " + initialUnits);
        }
        long gcd = gcd(amount, periodNanos);
        this.capacity = capacity;
        this.rate = amount / gcd;
        this.period = periodNanos / gcd;
        long scaledFull;
        try {
            scaledFull = Math.multiplyExact(capacity, period);
        } catch (ArithmeticException e) {
            scaledFull = Long.MAX_VALUE;
        }
        if (scaledFull > MAX_SCALED) {
            throw new IllegalArgumentException(what + " capacity " + capacity
                    + " is too large for its rate: refilling it from empty would take longer than this build can count exactly");
        }
        this.full = scaledFull;
        this.initialDeficit = (capacity - initialUnits) * period;
        this.overdraft = overdraft;
    }

    @Override
    public final boolean overdraft() {
        return overdraft;
    }

    @Override
    public final long limit() {
        return capacity;
    }

    /** Time to go from empty to full: the period over which {@link #limit()} is granted. */
    @Override
    public final long windowNanos() {
        return ceilDiv(full, rate);
    }

    @Override
    public final Outcome acquire(BucketState state, long now, long cost, boolean consume, boolean countDenied) {
        Costs.check(cost, capacity);
        long deficit = deficit(state, now);
        long after = deficit + cost * period;
        if (after <= full) {
            BucketState next = consume ? stateAt(now, after) : null;
            return new Outcome(true, (full - after) / period, ceilDiv(after, rate), 0, next, 0);
        }
        BucketState next = null;
        long resetDeficit = deficit;
        if (consume && countDenied && deficit <= full) {
            // Charged anyway: the bucket is empty (a bucket in debt stays as deep in it).
            resetDeficit = full;
            next = stateAt(now, full);
        }
        return new Outcome(false, Math.max(0, (full - resetDeficit) / period), ceilDiv(resetDeficit, rate),
                ceilDiv(after - full, rate), next, 0);
    }

    @Override
    public final BucketState charge(BucketState state, long now, long units, long marker) {
        long deficit = deficit(state, now);
        long added = units > MAX_SCALED / period ? MAX_SCALED : units * period;
        long after = Math.min(overdraft ? MAX_SCALED : full, deficit + added);
        return after <= deficit ? null : stateAt(now, after);
    }

    /** Whole units that fit now; below zero, the units owed (a bucket in debt). */
    @Override
    public final long balance(BucketState state, long now) {
        return Math.floorDiv(full - deficit(state, now), period);
    }

    @Override
    public final BucketState refund(BucketState state, long now, long cost, long marker) {
        if (state == null) {
            return null;
        }
        long deficit = deficit(state, now);
        long after = Math.max(0, deficit - cost * period);
        return after == deficit ? null : stateAt(now, after);
    }

    @Override
    public final long restAfterNanos(BucketState state, long now) {
        return ceilDiv(deficit(state, now), rate);
    }

    /**
     * Scaled time until the bucket is at rest, clamped to [0, full]; with {@link #overdraft}, beyond
     * full by the debt a charge after the fact left.
     */
    private long deficit(BucketState state, long now) {
        if (state == null) {
            return initialDeficit;
        }
        GcraState s = (GcraState) state;
        long wholeNanos = s.tatNanos() - now;
        if (wholeNanos < 0) {
            // Even with the largest fraction (rate - 1) the scaled value is below zero.
            return 0;
        }
        long most = overdraft ? MAX_SCALED : full;
        if (wholeNanos > most / rate + 1) {
            // Without overdraft only a clock that stepped backwards gets here (or numbers the policy
            // lowered since): treat the bucket as empty, never fuller.
            return most;
        }
        return Math.min(most, wholeNanos * rate + s.tatFraction());
    }

    private GcraState stateAt(long now, long deficit) {
        return new GcraState(now + deficit / rate, deficit % rate);
    }

    static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
