package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.sluice.server.algorithm.BucketState;
import dev.sluice.server.algorithm.GcraState;
import dev.sluice.server.algorithm.WindowState;

import java.io.IOException;

/**
 * The value stored for a bucket key: the algorithm's state, the requests applied recently, and
 * until when the bucket must be kept (on the decision clock): until it is back at rest and its
 * remembered requests are forgotten. After that, removing it changes no answer; the
 * {@link RestedSweeper} does. Held in object form and changed in place by entry processors on the
 * partition's thread.
 *
 * <p>Laid out for the heap, since there is one per bucket on the owner and one on the backup. Most
 * buckets hold a GCRA or fixed-window state and remember no request: such a bucket is one 24-byte
 * object holding its state's numbers, its kind told by its class ({@link Gcra}, {@link Window}),
 * and kept until its state says it is at rest (the GCRA's theoretical arrival time, the window's
 * end), which is what the deciding algorithm computes for it. A bucket that remembers requests,
 * holds a sliding window, or has a number too large for the compact form is a {@link General}
 * record, which points at its state and its requests and holds its keep-until time. {@link #holding}
 * picks the form, so callers store what it returns: the same record changed in place when its form
 * still fits, else a new one carrying over the keep-until time and the remembered requests.
 */
abstract sealed class BucketRecord implements IdentifiedDataSerializable permits BucketRecord.Gcra, BucketRecord.Window,
        BucketRecord.General {

    /** The algorithm's state, or {@code null} when none was stored yet. */
    abstract BucketState state();

    /** The recent requests, or {@code null} when none were ever remembered. */
    RecentRequests recent() {
        return null;
    }

    /** Decision-clock nanos before which this bucket must not be removed. */
    abstract long keepUntil();

    /**
     * The record to store to keep the bucket at least until {@code nanos}; never shortens what was
     * promised before. A compact record is kept until its state is at rest, which is mostly the time
     * the deciding algorithm gives, so it answers itself; asked to keep longer (a window carrying a
     * debt past its end), it answers a {@link General} record holding its state.
     */
    BucketRecord keptUntil(long nanos) {
        if (nanos <= keepUntil()) {
            return this;
        }
        General r = new General();
        r.state = state();
        r.keepUntil(nanos);
        return r;
    }

    /**
     * The record to store for a bucket now holding {@code next}: {@code current} changed in place
     * when its form fits, else a new record with {@code current}'s keep-until time and remembered
     * requests. With {@code remember}, the result is a {@link General} record, so that a request can
     * be recorded in its {@link General#recentOrNew()}.
     */
    static BucketRecord holding(BucketRecord current, BucketState next, boolean remember) {
        RecentRequests recent = current == null ? null : current.recent();
        if (!remember && (recent == null || recent.size() == 0)) {
            if (next instanceof GcraState g && fitsInt(g.tatFraction())) {
                Gcra r = current instanceof Gcra same ? same : new Gcra();
                r.tatNanos = g.tatNanos();
                r.tatFraction = (int) g.tatFraction();
                return r;
            }
            if (next instanceof WindowState w && fitsInt(w.count())) {
                Window r = current instanceof Window same ? same : new Window();
                r.windowEndNanos = w.windowEndNanos();
                r.count = (int) w.count();
                return r;
            }
        }
        General r;
        if (current instanceof General same) {
            r = same;
        } else {
            r = new General();
            if (current != null) {
                r.keepUntil(current.keepUntil());
            }
        }
        r.state = next;
        return r;
    }

    /**
     * The record to store for a bucket now holding {@code next} after applying request
     * {@code requestId} (0: a request without an id, remembered by nobody): as {@link #holding},
     * with the request recorded as its owner applied it, until {@code rememberedUntil}.
     */
    static BucketRecord applied(BucketRecord current, BucketState next, long requestId, long now, long rememberedUntil, int flags,
                                long marker, long cost) {
        if (requestId == 0) {
            return holding(current, next, false);
        }
        General record = (General) holding(current, next, true);
        record.recentOrNew().record(requestId, now, rememberedUntil, flags, marker, cost);
        return record;
    }

    private static boolean fitsInt(long v) {
        return v >= 0 && v <= Integer.MAX_VALUE;
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    /** A GCRA state (token and leaky buckets) and no remembered request: 24 bytes. */
    static final class Gcra extends BucketRecord {

        private long tatNanos;
        private int tatFraction;

        @Override
        BucketState state() {
            return new GcraState(tatNanos, tatFraction);
        }

        /** At rest from the theoretical arrival time on (a fraction of a nanosecond rounds up). */
        @Override
        long keepUntil() {
            return tatFraction == 0 ? tatNanos : tatNanos + 1;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(tatNanos);
            out.writeInt(tatFraction);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            tatNanos = in.readLong();
            tatFraction = in.readInt();
        }

        @Override
        public int getClassId() {
            return StoreSerialization.GCRA_RECORD;
        }
    }

    /** A fixed-window state and no remembered request: 24 bytes. */
    static final class Window extends BucketRecord {

        private long windowEndNanos;
        private int count;

        @Override
        BucketState state() {
            return new WindowState(windowEndNanos, count);
        }

        /** At rest when the window ends. */
        @Override
        long keepUntil() {
            return windowEndNanos;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(windowEndNanos);
            out.writeInt(count);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            windowEndNanos = in.readLong();
            count = in.readInt();
        }

        @Override
        public int getClassId() {
            return StoreSerialization.WINDOW_RECORD;
        }
    }

    /** Any state, with or without remembered requests, and the time it must be kept until. */
    static final class General extends BucketRecord {

        /** Keep-until seconds count from here (2020-01-01T00:00:00Z), so an int reaches past 2088. */
        static final long EPOCH_NANOS = 1_577_836_800L * 1_000_000_000L;

        private BucketState state;
        private RecentRequests recent;
        /** Seconds after {@link #EPOCH_NANOS}; never less than the time given, rounded up. */
        private int keepUntilSeconds = Integer.MIN_VALUE;

        @Override
        BucketState state() {
            return state;
        }

        @Override
        RecentRequests recent() {
            return recent;
        }

        RecentRequests recentOrNew() {
            if (recent == null) {
                recent = new RecentRequests();
            }
            return recent;
        }

        /** A whole second, rounded up. */
        @Override
        long keepUntil() {
            return EPOCH_NANOS + keepUntilSeconds * 1_000_000_000L;
        }

        @Override
        BucketRecord keptUntil(long nanos) {
            keepUntil(nanos);
            return this;
        }

        void keepUntil(long nanos) {
            long seconds = -Math.floorDiv(EPOCH_NANOS - nanos, 1_000_000_000L);
            int clamped = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, seconds));
            if (clamped > keepUntilSeconds) {
                keepUntilSeconds = clamped;
            }
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeInt(keepUntilSeconds);
            Codecs.writeState(out, state);
            boolean none = recent == null || recent.size() == 0;
            out.writeLongArray(none ? null : recent.toArray());
            out.writeLongArray(none ? null : recent.costsToArray());
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            keepUntilSeconds = in.readInt();
            state = Codecs.readState(in);
            long[] triples = in.readLongArray();
            long[] costs = in.readLongArray();
            recent = triples == null ? null : RecentRequests.fromArray(triples, costs);
        }

        @Override
        public int getClassId() {
            return StoreSerialization.BUCKET_RECORD;
        }
    }
}
