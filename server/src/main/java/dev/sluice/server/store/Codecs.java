package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.BucketState;
import dev.sluice.server.algorithm.ConcurrencyLimit;
import dev.sluice.server.algorithm.CountingWindow;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.GcraState;
import dev.sluice.server.algorithm.LeaseState;
import dev.sluice.server.algorithm.LeakyBucket;
import dev.sluice.server.algorithm.SlidingWindow;
import dev.sluice.server.algorithm.SlidingWindowState;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.algorithm.TrickleState;
import dev.sluice.server.algorithm.TrickleWindow;
import dev.sluice.server.algorithm.WindowState;

import java.io.IOException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;

/**
 * Wire forms of the pure algorithm types, which know nothing of Hazelcast. Each starts with a
 * one-byte tag; fields follow in a fixed order.
 */
final class Codecs {

    private static final byte TOKEN_BUCKET = 1;
    private static final byte LEAKY_BUCKET = 2;
    private static final byte FIXED_WINDOW = 3;
    private static final byte CALENDAR_WINDOW = 4;
    private static final byte SLIDING_WINDOW = 5;
    private static final byte TRICKLE_WINDOW = 6;
    private static final byte COUNTING_WINDOW = 7;
    private static final byte COUNTING_CALENDAR_WINDOW = 8;
    private static final byte CONCURRENCY = 9;
    /** Set in an algorithm's tag when it allows overdraft; the fields that follow are the same. */
    private static final byte OVERDRAFT = 0x40;

    private static final byte NO_STATE = 0;
    private static final byte GCRA_STATE = 1;
    private static final byte WINDOW_STATE = 2;
    private static final byte SLIDING_STATE = 3;
    private static final byte TRICKLE_STATE = 4;
    private static final byte LEASE_STATE = 5;

    private Codecs() {
    }

    static void writeAlgorithm(ObjectDataOutput out, Algorithm algorithm) throws IOException {
        int debt = algorithm.overdraft() ? OVERDRAFT : 0;
        if (algorithm instanceof TokenBucket t) {
            out.writeByte(TOKEN_BUCKET | debt);
            out.writeLong(t.capacity());
            out.writeLong(t.refillAmount());
            out.writeLong(t.refillPeriodNanos());
            out.writeLong(t.initialTokens());
        } else if (algorithm instanceof LeakyBucket l) {
            out.writeByte(LEAKY_BUCKET | debt);
            out.writeLong(l.capacity());
            out.writeLong(l.leakAmount());
            out.writeLong(l.leakPeriodNanos());
        } else if (algorithm instanceof FixedWindow f && f.calendar() == null) {
            out.writeByte(FIXED_WINDOW | debt);
            out.writeLong(f.limit());
            out.writeLong(f.windowNanos());
        } else if (algorithm instanceof FixedWindow f) {
            out.writeByte(CALENDAR_WINDOW | debt);
            out.writeLong(f.limit());
            out.writeByte(f.calendar().ordinal());
            out.writeString(f.zone().getId());
            out.writeByte(f.weekStart().getValue());
        } else if (algorithm instanceof TrickleWindow t) {
            out.writeByte(TRICKLE_WINDOW);
            out.writeLong(t.trickleAmount());
            out.writeLong(t.tricklePeriodNanos());
            writeAlgorithm(out, t.window());
        } else if (algorithm instanceof CountingWindow c && c.calendar() != null) {
            out.writeByte(COUNTING_CALENDAR_WINDOW);
            out.writeLong(c.limit());
            writeAlgorithm(out, c.calendar());
        } else if (algorithm instanceof CountingWindow c) {
            out.writeByte(COUNTING_WINDOW);
            out.writeLong(c.limit());
            out.writeLong(c.windowNanos());
        } else if (algorithm instanceof ConcurrencyLimit c) {
            out.writeByte(CONCURRENCY);
            out.writeLong(c.limit());
            out.writeLong(c.leaseNanos());
        } else if (algorithm instanceof SlidingWindow s) {
            out.writeByte(SLIDING_WINDOW | debt);
            out.writeLong(s.limit());
            out.writeLong(s.windowNanos());
            out.writeLong(s.granularityNanos());
        } else {
            throw new IOException("no wire form for " + algorithm);
        }
    }

    static Algorithm readAlgorithm(ObjectDataInput in) throws IOException {
        byte read = in.readByte();
        Algorithm algorithm = readAlgorithm(in, (byte) (read & ~OVERDRAFT));
        return (read & OVERDRAFT) != 0 ? algorithm.overdrawn() : algorithm;
    }

    private static Algorithm readAlgorithm(ObjectDataInput in, byte tag) throws IOException {
        return switch (tag) {
            case TOKEN_BUCKET -> new TokenBucket(in.readLong(), in.readLong(), Duration.ofNanos(in.readLong()), in.readLong());
            case LEAKY_BUCKET -> new LeakyBucket(in.readLong(), in.readLong(), Duration.ofNanos(in.readLong()));
            case FIXED_WINDOW -> FixedWindow.ofLength(in.readLong(), Duration.ofNanos(in.readLong()));
            case CALENDAR_WINDOW -> FixedWindow.ofCalendar(in.readLong(), FixedWindow.CalendarUnit.values()[in.readByte()],
                    ZoneId.of(in.readString()), DayOfWeek.of(in.readByte()));
            case COUNTING_WINDOW -> new CountingWindow(in.readLong(), Duration.ofNanos(in.readLong()));
            case COUNTING_CALENDAR_WINDOW -> {
                long limit = in.readLong();
                if (!(readAlgorithm(in) instanceof FixedWindow calendar) || calendar.calendar() == null) {
                    throw new IOException("a counting calendar window without its calendar");
                }
                yield CountingWindow.ofCalendar(limit, calendar);
            }
            case SLIDING_WINDOW -> new SlidingWindow(in.readLong(), Duration.ofNanos(in.readLong()), Duration.ofNanos(in.readLong()));
            case CONCURRENCY -> new ConcurrencyLimit(in.readLong(), Duration.ofNanos(in.readLong()));
            case TRICKLE_WINDOW -> {
                long amount = in.readLong();
                Duration period = Duration.ofNanos(in.readLong());
                if (!(readAlgorithm(in) instanceof FixedWindow window)) {
                    throw new IOException("a trickle window's quota must be a fixed window");
                }
                yield new TrickleWindow(window, amount, period);
            }
            default -> throw new IOException("unknown algorithm tag " + tag);
        };
    }

    static void writeState(ObjectDataOutput out, BucketState state) throws IOException {
        if (state == null) {
            out.writeByte(NO_STATE);
        } else if (state instanceof GcraState g) {
            out.writeByte(GCRA_STATE);
            out.writeLong(g.tatNanos());
            out.writeLong(g.tatFraction());
        } else if (state instanceof WindowState w) {
            out.writeByte(WINDOW_STATE);
            out.writeLong(w.windowEndNanos());
            out.writeLong(w.count());
        } else if (state instanceof TrickleState t) {
            out.writeByte(TRICKLE_STATE);
            out.writeLong(t.windowEndNanos());
            out.writeLong(t.count());
            out.writeLong(t.trickleTatNanos());
            out.writeLong(t.trickleTatFraction());
        } else if (state instanceof SlidingWindowState s) {
            out.writeByte(SLIDING_STATE);
            out.writeLong(s.granularityNanos());
            out.writeLong(s.headSlot());
            out.writeLong(s.total());
            out.writeIntArray(s.counts());
        } else if (state instanceof LeaseState l) {
            out.writeByte(LEASE_STATE);
            int n = l.leases();
            long[] triples = new long[3 * n];
            for (int i = 0; i < n; i++) {
                triples[3 * i] = l.id(i);
                triples[3 * i + 1] = l.expiry(i);
                triples[3 * i + 2] = l.slots(i);
            }
            out.writeLongArray(triples);
        } else {
            throw new IOException("no wire form for " + state);
        }
    }

    static BucketState readState(ObjectDataInput in) throws IOException {
        byte tag = in.readByte();
        return switch (tag) {
            case NO_STATE -> null;
            case GCRA_STATE -> new GcraState(in.readLong(), in.readLong());
            case WINDOW_STATE -> new WindowState(in.readLong(), in.readLong());
            case SLIDING_STATE -> new SlidingWindowState(in.readLong(), in.readLong(), in.readLong(), in.readIntArray());
            case TRICKLE_STATE -> new TrickleState(in.readLong(), in.readLong(), in.readLong(), in.readLong());
            case LEASE_STATE -> {
                long[] triples = in.readLongArray();
                if (triples.length % 3 != 0) {
                    throw new IOException("a lease state of " + triples.length + " numbers, not id, expiry and slots for each lease");
                }
                int n = triples.length / 3;
                long[] ids = new long[n];
                long[] expiries = new long[n];
                long[] slots = new long[n];
                for (int i = 0; i < n; i++) {
                    ids[i] = triples[3 * i];
                    expiries[i] = triples[3 * i + 1];
                    slots[i] = triples[3 * i + 2];
                }
                yield new LeaseState(ids, expiries, slots);
            }
            default -> throw new IOException("unknown state tag " + tag);
        };
    }
}
