package dev.sluice.server.store;

import com.hazelcast.config.Config;
import com.hazelcast.internal.serialization.InternalSerializationService;
import com.hazelcast.internal.serialization.impl.DefaultSerializationServiceBuilder;
import dev.sluice.server.algorithm.BucketState;
import dev.sluice.server.algorithm.GcraState;
import dev.sluice.server.algorithm.SlidingWindowState;
import dev.sluice.server.algorithm.WindowState;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The forms a bucket's record takes, and that each travels between members unchanged. */
class BucketRecordTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long NOW = 1_900_000_000L * SECOND;

    private static final InternalSerializationService SERIALIZATION = serialization();

    private static InternalSerializationService serialization() {
        Config config = new Config();
        BucketStore.prepare(config, new StoreContext(ManualClock.fixed(), Duration.ZERO, Duration.ofSeconds(10)));
        return new DefaultSerializationServiceBuilder().setConfig(config.getSerializationConfig()).build();
    }

    @Test
    void aTwoNumberStateWithoutRequestsIsHeldCompactlyAndKeptUntilItRests() {
        BucketRecord gcra = BucketRecord.holding(null, new GcraState(NOW + 3 * SECOND, 2), false);
        assertInstanceOf(BucketRecord.Gcra.class, gcra);
        assertEquals(new GcraState(NOW + 3 * SECOND, 2), gcra.state());
        assertEquals(NOW + 3 * SECOND + 1, gcra.keepUntil(), "a fraction of a nanosecond rounds up");
        assertSame(gcra, BucketRecord.holding(gcra, new GcraState(NOW + 4 * SECOND, 0), false), "changed in place");
        assertEquals(NOW + 4 * SECOND, gcra.keepUntil());

        BucketRecord window = BucketRecord.holding(null, new WindowState(NOW + 60 * SECOND, 7), false);
        assertInstanceOf(BucketRecord.Window.class, window);
        assertEquals(new WindowState(NOW + 60 * SECOND, 7), window.state());
        assertEquals(NOW + 60 * SECOND, window.keepUntil());
    }

    @Test
    void numbersTooLargeForTheCompactFormAreHeldWhole() {
        GcraState wideFraction = new GcraState(NOW, 1L << 40);
        BucketRecord gcra = BucketRecord.holding(null, wideFraction, false);
        assertInstanceOf(BucketRecord.General.class, gcra);
        assertEquals(wideFraction, gcra.state());

        WindowState manyCounted = new WindowState(NOW, 3_000_000_000L);
        BucketRecord window = BucketRecord.holding(null, manyCounted, false);
        assertInstanceOf(BucketRecord.General.class, window);
        assertEquals(manyCounted, window.state());
    }

    @Test
    void rememberingARequestMakesAGeneralRecordThatKeepsItsRestTime() {
        BucketRecord compact = BucketRecord.holding(null, new GcraState(NOW + 3 * SECOND, 0), false);
        BucketRecord general = BucketRecord.holding(compact, new GcraState(NOW + 4 * SECOND, 0), true);
        assertInstanceOf(BucketRecord.General.class, general);
        assertEquals(NOW + 3 * SECOND, general.keepUntil(), "the compact record's rest time is carried over");
        ((BucketRecord.General) general).recentOrNew().record(42, NOW, NOW + 10 * SECOND, RecentRequests.ALLOWED, 0, 1);
        general.keptUntil(NOW + 10 * SECOND);

        BucketRecord still = BucketRecord.holding(general, new GcraState(NOW + 5 * SECOND, 0), false);
        assertSame(general, still, "a record remembering a request stays general");
        assertEquals(0, still.recent().find(42));
        assertEquals(NOW + 10 * SECOND, still.keepUntil());
    }

    @Test
    void aGeneralRecordWhoseRequestsAreForgottenBecomesCompactAgain() {
        BucketRecord general = BucketRecord.holding(null, new GcraState(NOW, 0), true);
        RecentRequests recent = ((BucketRecord.General) general).recentOrNew();
        recent.record(42, NOW, NOW + SECOND, RecentRequests.ALLOWED, 0, 1);
        recent.prune(NOW + 2 * SECOND);

        BucketRecord next = BucketRecord.holding(general, new GcraState(NOW + 3 * SECOND, 0), false);
        assertInstanceOf(BucketRecord.Gcra.class, next);
        assertNull(next.recent());
    }

    @Test
    void aSlidingWindowIsHeldWhole() {
        SlidingWindowState sliding = slidingState();
        BucketRecord record = BucketRecord.holding(null, sliding, false);
        assertInstanceOf(BucketRecord.General.class, record);
        assertSame(sliding, record.state());
    }

    @Test
    void everyFormTravelsBetweenMembersUnchanged() {
        BucketRecord gcra = BucketRecord.holding(null, new GcraState(NOW + 3 * SECOND, 5), false);
        BucketRecord window = BucketRecord.holding(null, new WindowState(NOW + 60 * SECOND, 7), false);
        BucketRecord general = BucketRecord.holding(null, new GcraState(NOW + SECOND, 1), true);
        ((BucketRecord.General) general).recentOrNew().record(42, NOW, NOW + 10 * SECOND, RecentRequests.ALLOWED, 9, 1);
        general.keptUntil(NOW + 10 * SECOND);

        for (BucketRecord r : new BucketRecord[] {gcra, window, general}) {
            BucketRecord copy = SERIALIZATION.toObject(SERIALIZATION.toData(r));
            assertEquals(r.getClass(), copy.getClass());
            assertEquals(r.state(), copy.state());
            assertEquals(r.keepUntil(), copy.keepUntil());
        }
        BucketRecord copy = SERIALIZATION.toObject(SERIALIZATION.toData(general));
        int at = copy.recent().find(42);
        assertEquals(RecentRequests.ALLOWED, copy.recent().flags(at));
        assertEquals(9, copy.recent().marker(at));
    }

    @Test
    void aKeyIsSixteenBytesOnTheWireWhateverItsNameAndTheSameForTheSameName() {
        String longName = "shop\u001fper-key\u001fper-key\u001ftb\u001fapi_key=" + "k".repeat(500);
        BucketKey key = BucketKey.of(longName);
        assertEquals(16, SERIALIZATION.toData(key).dataSize());
        assertEquals(key, SERIALIZATION.toObject(SERIALIZATION.toData(key)));
        assertEquals(key, BucketKey.of(new String(longName.toCharArray())));
        assertEquals(key.hashCode(), BucketKey.of(new String(longName.toCharArray())).hashCode());
        assertNotEquals(key, BucketKey.of(longName + "k"));
        assertEquals(32, key.toString().length());
    }

    private static SlidingWindowState slidingState() {
        BucketState s = new dev.sluice.server.algorithm.SlidingWindow(10, Duration.ofSeconds(10), Duration.ofSeconds(1))
                .acquire(null, NOW, 1, true, false).next();
        return (SlidingWindowState) s;
    }
}
