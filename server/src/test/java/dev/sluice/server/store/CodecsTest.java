package dev.sluice.server.store;

import com.hazelcast.internal.nio.BufferObjectDataOutput;
import com.hazelcast.internal.serialization.InternalSerializationService;
import com.hazelcast.internal.serialization.impl.DefaultSerializationServiceBuilder;
import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.CountingWindow;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.LeakyBucket;
import dev.sluice.server.algorithm.SlidingWindow;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.algorithm.TrickleWindow;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every algorithm reaches a bucket's owner as it left the caller: entry processors carry them in this form. */
class CodecsTest {

    private final InternalSerializationService serialization = new DefaultSerializationServiceBuilder().build();

    @Test
    void everyAlgorithmSurvivesTheWire() throws IOException {
        List<Algorithm> all = List.of(
                new TokenBucket(10, 1, Duration.ofSeconds(1)),
                new LeakyBucket(5, 2, Duration.ofMinutes(1)),
                FixedWindow.ofLength(100, Duration.ofSeconds(10)),
                FixedWindow.ofCalendar(1000, FixedWindow.CalendarUnit.WEEK, ZoneId.of("Asia/Shanghai"), DayOfWeek.SUNDAY),
                new SlidingWindow(60, Duration.ofMinutes(1), Duration.ofSeconds(1)),
                new TrickleWindow(FixedWindow.ofLength(360, Duration.ofMinutes(1)), 1, Duration.ofSeconds(1)),
                new CountingWindow(0, Duration.ofHours(1)),
                CountingWindow.ofCalendar(20, FixedWindow.ofCalendar(20, FixedWindow.CalendarUnit.MONTH, ZoneId.of("Europe/Berlin"),
                        DayOfWeek.MONDAY)),
                new dev.sluice.server.algorithm.ConcurrencyLimit(5, Duration.ofSeconds(30)),
                new TokenBucket(10, 1, Duration.ofSeconds(1)).overdrawn(),
                new LeakyBucket(5, 2, Duration.ofMinutes(1)).overdrawn(),
                FixedWindow.ofLength(100, Duration.ofSeconds(10)).overdrawn(),
                FixedWindow.ofCalendar(1000, FixedWindow.CalendarUnit.DAY, ZoneId.of("UTC"), DayOfWeek.MONDAY).overdrawn(),
                new SlidingWindow(60, Duration.ofMinutes(1), Duration.ofSeconds(1)).overdrawn());
        for (Algorithm a : all) {
            BufferObjectDataOutput out = serialization.createObjectDataOutput();
            Codecs.writeAlgorithm(out, a);
            Algorithm back = Codecs.readAlgorithm(serialization.createObjectDataInput(out.toByteArray()));
            assertEquals(a, back, a.toString());
            assertEquals(a.toString(), back.toString());
        }
    }

    @Test
    void aConcurrencyLimitsLeasesSurviveTheWire() throws IOException {
        var leases = new dev.sluice.server.algorithm.LeaseState(new long[] {7, -3, 0}, new long[] {100, 200, 300}, new long[] {1, 2, 1});
        BufferObjectDataOutput out = serialization.createObjectDataOutput();
        Codecs.writeState(out, leases);
        assertEquals(leases, Codecs.readState(serialization.createObjectDataInput(out.toByteArray())));
    }
}
