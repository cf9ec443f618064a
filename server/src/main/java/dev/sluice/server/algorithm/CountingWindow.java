package dev.sluice.server.algorithm;

import java.time.Duration;

/**
 * A fixed window aligned to the epoch that counts hits as Envoy's reference rate-limit service
 * counts them: a request is allowed when the count after its hits is at most the limit, and with
 * {@code countDenied} (as that service does) a refused request is counted too, so the count goes
 * on growing past the limit within the window. A request of zero hits asks without counting (over
 * only when the count already exceeds the limit), a limit of zero refuses every request with a
 * hit, and a request of more hits than the limit is refused. Its state is a {@link WindowState},
 * as a fixed window's; a refund gives hits back within their window. Its windows may instead
 * follow a time zone's calendar ({@link #ofCalendar}), as a calendar {@link FixedWindow}'s do.
 */
public final class CountingWindow implements Algorithm {

    private final long limit;
    private final long lengthNanos;
    /** Where windows end when they follow a calendar, or {@code null} for windows aligned to the epoch. */
    private final FixedWindow calendar;

    /** Windows of {@code length} aligned to the epoch. */
    public CountingWindow(long limit, Duration length) {
        this(limit, length, null);
    }

    /** Windows of a day, a week or a month in {@code calendar}'s zone, ending where its windows end. */
    public static CountingWindow ofCalendar(long limit, FixedWindow calendar) {
        if (calendar.calendar() == null) {
            throw new IllegalArgumentException("a calendar window is needed, got " + calendar);
        }
        return new CountingWindow(limit, Duration.ofNanos(calendar.windowNanos()), calendar);
    }

    private CountingWindow(long limit, Duration length, FixedWindow calendar) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + limit);
        }
        if (length.isNegative() || length.isZero()) {
            throw new IllegalArgumentException("window must be positive, got " + length);
        }
        this.limit = limit;
        this.lengthNanos = length.toNanos();
        this.calendar = calendar;
    }

    /** The calendar its windows follow, or {@code null} when they are aligned to the epoch. */
    public FixedWindow calendar() {
        return calendar;
    }

    @Override
    public long limit() {
        return limit;
    }

    @Override
    public long windowNanos() {
        return lengthNanos;
    }

    /** Any number of hits from zero, beyond the limit too: callers need not check a cost against the limit. */
    @Override
    public Outcome acquire(BucketState state, long now, long cost, boolean consume, boolean countDenied) {
        if (cost < 0) {
            throw new IllegalArgumentException("hits must not be negative, got " + cost);
        }
        long end;
        long count;
        if (state instanceof WindowState w && now < w.windowEndNanos()) {
            end = w.windowEndNanos();
            count = w.count();
        } else {
            end = calendar != null ? calendar.windowEnd(now) : Math.floorDiv(now, lengthNanos) * lengthNanos + lengthNanos;
            count = 0;
        }
        long after = count + cost < count ? Long.MAX_VALUE : count + cost;
        long untilEnd = end - now;
        if (after <= limit) {
            return new Outcome(true, limit - after, untilEnd, 0, consume && cost > 0 ? new WindowState(end, after) : null, end);
        }
        return new Outcome(false, 0, untilEnd, untilEnd, consume && countDenied && cost > 0 ? new WindowState(end, after) : null, end);
    }

    /** The window's units, only until it ends: the allowing outcome's reset is the window's end. */
    @Override
    public long leaseHorizonNanos(long resetAfterNanos) {
        return resetAfterNanos;
    }

    @Override
    public BucketState refund(BucketState state, long now, long cost, long marker) {
        return WindowState.refunded(state, now, cost, marker);
    }

    @Override
    public long restAfterNanos(BucketState state, long now) {
        return WindowState.restAfterNanos(state, now);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CountingWindow c && c.limit == limit && c.lengthNanos == lengthNanos && java.util.Objects.equals(c.calendar, calendar);
    }

    @Override
    public int hashCode() {
        return (Long.hashCode(limit) * 31 + Long.hashCode(lengthNanos)) * 31 + java.util.Objects.hashCode(calendar);
    }

    @Override
    public String toString() {
        return calendar == null ? "CountingWindow[limit=" + limit + ", window=" + Duration.ofNanos(lengthNanos) + "]"
                : "CountingWindow[limit=" + limit + ", calendar=" + calendar.calendar() + ", zone=" + calendar.zone() + "]";
    }
}
