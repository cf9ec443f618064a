package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.sluice.server.algorithm.BucketState;
import dev.sluice.server.algorithm.GcraState;
import dev.sluice.server.algorithm.SlidingWindowState;
import dev.sluice.server.algorithm.WindowState;

import java.io.IOException;

/**
 * The value stored for a bucket key: the algorithm's state, the requests applied recently, and
 * until when the bucket must be kept (on the decision clock): until it is back at rest and its
 * remembered requests are forgotten. After that, removing it changes no answer; the
 * {@link RestedSweeper} does. Held in object form and changed in place by entry processors on the
 * partition's thread.
 *
 * <p>Laid out for the heap, since there is one per bucket on the owner and one on the backup: a
 * GCRA or fixed-window state is two numbers, kept here rather than in an object of its own
 * ({@link #state()} builds that object when asked), and the keep-until time is whole seconds. A
 * bucket is then one 40-byte object instead of two of 32.
 */
final class BucketRecord implements IdentifiedDataSerializable {

    /** What {@link #shape} holds for the two-number states; a sliding window is held as itself. */
    private static final Object GCRA = new Object();
    private static final Object WINDOW = new Object();

    /** Keep-until seconds count from here (2020-01-01T00:00:00Z), so an int reaches past 2088. */
    static final long EPOCH_NANOS = 1_577_836_800L * 1_000_000_000L;

    private long first;
    private long second;
    /** Seconds after {@link #EPOCH_NANOS}; never less than the time given, rounded up. */
    private int keepUntilSeconds = Integer.MIN_VALUE;
    /** {@code null} (no state yet), {@link #GCRA}, {@link #WINDOW} or a {@link SlidingWindowState}. */
    private Object shape;
    private RecentRequests recent;

    BucketRecord() {
    }

    BucketRecord(BucketState state) {
        state(state);
    }

    /** The algorithm's state, or {@code null} when none was stored yet. */
    BucketState state() {
        if (shape == GCRA) {
            return new GcraState(first, second);
        }
        if (shape == WINDOW) {
            return new WindowState(first, second);
        }
        return (SlidingWindowState) shape;
    }

    void state(BucketState next) {
        if (next instanceof GcraState g) {
            shape = GCRA;
            first = g.tatNanos();
            second = g.tatFraction();
        } else if (next instanceof WindowState w) {
            shape = WINDOW;
            first = w.windowEndNanos();
            second = w.count();
        } else {
            shape = next;
            first = 0;
            second = 0;
        }
    }

    /** The recent requests, or {@code null} when none were ever remembered. */
    RecentRequests recent() {
        return recent;
    }

    RecentRequests recentOrNew() {
        if (recent == null) {
            recent = new RecentRequests();
        }
        return recent;
    }

    /** Decision-clock nanos before which this bucket must not be removed (a whole second, rounded up). */
    long keepUntil() {
        return EPOCH_NANOS + keepUntilSeconds * 1_000_000_000L;
    }

    /** Keeps the bucket at least until {@code nanos}; never shortens what was promised before. */
    void keepUntil(long nanos) {
        long seconds = -Math.floorDiv(EPOCH_NANOS - nanos, 1_000_000_000L);
        int clamped = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, seconds));
        if (clamped > keepUntilSeconds) {
            keepUntilSeconds = clamped;
        }
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        Codecs.writeState(out, state());
        out.writeInt(keepUntilSeconds);
        out.writeLongArray(recent == null || recent.size() == 0 ? null : recent.toArray());
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        state(Codecs.readState(in));
        keepUntilSeconds = in.readInt();
        long[] triples = in.readLongArray();
        recent = triples == null ? null : RecentRequests.fromArray(triples);
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.BUCKET_RECORD;
    }
}
