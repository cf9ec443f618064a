package dev.sluice.server.algorithm;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.Objects;

/**
 * A fixed window: at most {@code limit} units per window; the count starts again at zero when a
 * window ends. Windows either have a fixed length aligned to the Unix epoch (a 10-second window
 * starts at every multiple of 10 s), or follow the calendar of a time zone: a day from midnight
 * to midnight, a week from its first day, a month from its first day, whatever their length.
 */
public final class FixedWindow implements Algorithm {

    /** Calendar periods a window can follow. */
    public enum CalendarUnit {
        DAY, WEEK, MONTH
    }

    private final long limit;
    private final long lengthNanos;
    private final CalendarUnit calendar;
    private final ZoneId zone;
    private final DayOfWeek weekStart;
    /** Whether a charge after the fact may count past the limit, the excess carried into the windows that follow. */
    private final boolean overdraft;

    /** Windows a debt is carried through, at most, when windows follow a calendar and each is found in turn. */
    private static final int MOST_CARRIED_WINDOWS = 10_000;

    private FixedWindow(long limit, long lengthNanos, CalendarUnit calendar, ZoneId zone, DayOfWeek weekStart, boolean overdraft) {
        if (limit <= 0) {
            throw new IllegalArgumentException("fixed window limit must be positive, got " + limit);
        }
        this.limit = limit;
        this.lengthNanos = lengthNanos;
        this.calendar = calendar;
        this.zone = zone;
        this.weekStart = weekStart;
        this.overdraft = overdraft;
    }

    /** Windows of {@code length}, aligned to the Unix epoch. */
    public static FixedWindow ofLength(long limit, Duration length) {
        if (length.isNegative() || length.isZero()) {
            throw new IllegalArgumentException("fixed window length must be positive, got " + length);
        }
        return new FixedWindow(limit, length.toNanos(), null, null, null, false);
    }

    /** Calendar windows in {@code zone}; weeks start on {@code weekStart}. */
    public static FixedWindow ofCalendar(long limit, CalendarUnit unit, ZoneId zone, DayOfWeek weekStart) {
        Objects.requireNonNull(unit, "unit");
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(weekStart, "weekStart");
        long nominal = switch (unit) {
            case DAY -> Duration.ofDays(1).toNanos();
            case WEEK -> Duration.ofDays(7).toNanos();
            case MONTH -> Duration.ofDays(30).toNanos();
        };
        return new FixedWindow(limit, nominal, unit, zone, weekStart, false);
    }

    /**
     * These windows, but a charge after the fact may count past the limit: the excess is a debt
     * carried into the next window (and on, while it exceeds a whole window's limit), so it is paid
     * off by later windows rather than forgotten when this one ends.
     */
    @Override
    public FixedWindow overdrawn() {
        return new FixedWindow(limit, lengthNanos, calendar, zone, weekStart, true);
    }

    @Override
    public boolean overdraft() {
        return overdraft;
    }

    @Override
    public long limit() {
        return limit;
    }

    /** The window's length; for calendar windows the nominal length (a month counts 30 days). */
    @Override
    public long windowNanos() {
        return lengthNanos;
    }

    public CalendarUnit calendar() {
        return calendar;
    }

    public ZoneId zone() {
        return zone;
    }

    public DayOfWeek weekStart() {
        return weekStart;
    }

    @Override
    public Outcome acquire(BucketState state, long now, long cost, boolean consume, boolean countDenied) {
        Costs.check(cost, limit);
        long end;
        long count;
        if (state instanceof WindowState w && now < w.windowEndNanos()) {
            // Also covers a clock that stepped back into an earlier window: it stays in this one.
            end = w.windowEndNanos();
            count = w.count();
        } else if (state instanceof TrickleState t && now < t.windowEndNanos()) {
            // A window that had a trickle (the policy dropped it): its quota spent so far stays spent.
            end = t.windowEndNanos();
            count = t.count();
        } else {
            end = windowEnd(now);
            count = carried(state, end);
        }
        long untilEnd = end - now;
        if (count + cost <= limit) {
            BucketState next = consume ? new WindowState(end, count + cost) : null;
            return new Outcome(true, limit - count - cost, untilEnd, 0, next, end);
        }
        BucketState next = consume && countDenied ? new WindowState(end, saturatedAdd(count, cost)) : null;
        return new Outcome(false, Math.max(0, limit - count), untilEnd, untilEnd, next, end);
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

    /** Counts {@code units} more in the window of {@code now}: up to the limit, or past it with {@link #overdraft()}. */
    @Override
    public BucketState charge(BucketState state, long now, long units, long marker) {
        WindowState w = current(state, now);
        long after = overdraft ? saturatedAdd(w.count(), units) : Math.min(limit, saturatedAdd(w.count(), units));
        return after <= w.count() ? null : new WindowState(w.windowEndNanos(), after);
    }

    @Override
    public long balance(BucketState state, long now) {
        return limit - current(state, now).count();
    }

    /** At the window's end; a window in debt, at the end of the window that pays the debt off. */
    @Override
    public long restAfterNanos(BucketState state, long now) {
        if (overdraft && state instanceof WindowState w && w.count() > limit) {
            long owed = w.count() - limit;
            return Math.max(0, endAfter(w.windowEndNanos(), (owed - 1) / limit + 1) - now);
        }
        return WindowState.restAfterNanos(state, now);
    }

    /** The window of {@code now} as a state: its end and the units counted in it (a debt carried in included). */
    private WindowState current(BucketState state, long now) {
        if (state instanceof WindowState w && now < w.windowEndNanos()) {
            return w;
        }
        if (state instanceof TrickleState t && now < t.windowEndNanos()) {
            return t.window();
        }
        long end = windowEnd(now);
        return new WindowState(end, carried(state, end));
    }

    /**
     * What a window ending at {@code end} starts with: with {@link #overdraft()}, what the earlier
     * window in {@code state} counted past its limit, less a whole limit for every window between
     * them (each paid that much off); otherwise nothing.
     */
    private long carried(BucketState state, long end) {
        if (!overdraft || !(state instanceof WindowState w) || w.count() <= limit || w.windowEndNanos() >= end) {
            return 0;
        }
        long owed = w.count() - limit;
        long between;
        if (calendar == null) {
            between = (end - w.windowEndNanos()) / lengthNanos - 1;
        } else {
            between = 0;
            for (long e = windowEnd(w.windowEndNanos()); e < end && between * limit < owed && between < MOST_CARRIED_WINDOWS; e = windowEnd(e)) {
                between++;
            }
            if (between == MOST_CARRIED_WINDOWS) {
                return 0;
            }
        }
        return between >= owed / limit + 1 ? 0 : Math.max(0, owed - between * limit);
    }

    /** The end of the window {@code windows} after the one ending at {@code end}. */
    private long endAfter(long end, long windows) {
        if (calendar == null) {
            long span = windows > (Long.MAX_VALUE - end) / lengthNanos ? Long.MAX_VALUE - end : windows * lengthNanos;
            return end + span;
        }
        long e = end;
        for (long i = 0; i < Math.min(windows, MOST_CARRIED_WINDOWS); i++) {
            e = windowEnd(e);
        }
        return e;
    }

    /** The end of the window containing {@code now}. */
    long windowEnd(long now) {
        if (calendar == null) {
            return Math.floorDiv(now, lengthNanos) * lengthNanos + lengthNanos;
        }
        Instant instant = Instant.ofEpochSecond(Math.floorDiv(now, 1_000_000_000L), Math.floorMod(now, 1_000_000_000L));
        ZonedDateTime start = instant.atZone(zone).truncatedTo(ChronoUnit.DAYS);
        ZonedDateTime end = switch (calendar) {
            case DAY -> start.plusDays(1);
            case WEEK -> start.with(TemporalAdjusters.previousOrSame(weekStart)).plusWeeks(1);
            case MONTH -> start.withDayOfMonth(1).plusMonths(1);
        };
        // Re-resolve midnight: a zone may skip it on a daylight-saving change.
        Instant endInstant = end.toLocalDate().atStartOfDay(zone).toInstant();
        return endInstant.getEpochSecond() * 1_000_000_000L + endInstant.getNano();
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return r < a ? Long.MAX_VALUE : r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FixedWindow f && f.limit == limit && f.lengthNanos == lengthNanos
                && f.calendar == calendar && Objects.equals(f.zone, zone) && f.weekStart == weekStart && f.overdraft == overdraft;
    }

    @Override
    public int hashCode() {
        return Objects.hash(limit, lengthNanos, calendar, zone, weekStart);
    }

    @Override
    public String toString() {
        String debt = overdraft ? ", overdraft" : "";
        return calendar == null
                ? "fixed_window(limit=" + limit + ", window=" + Duration.ofNanos(lengthNanos) + debt + ")"
                : "fixed_window(limit=" + limit + ", calendar=" + calendar + ", zone=" + zone + debt + ")";
    }
}
