package dev.sluice.bench.jmh;

import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.BucketState;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.LeakyBucket;
import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.algorithm.SlidingWindow;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.algorithm.TrickleWindow;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;
import java.util.concurrent.TimeUnit;

/**
 * One decision of each pure algorithm, as the partition owner runs it: read the state, decide,
 * produce the next state. {@code java -cp cluster-tests/target/sluice-bench.jar org.openjdk.jmh.Main AlgorithmBenchmarks}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AlgorithmBenchmarks {

    @Param({"token_bucket", "leaky_bucket", "fixed_window", "calendar_day", "sliding_window", "trickle_window"})
    public String algorithm;

    private Algorithm alg;
    private BucketState state;
    private long now;

    @Setup
    public void setUp() {
        alg = switch (algorithm) {
            case "token_bucket" -> new TokenBucket(1_000_000_000L, 1_000_000, Duration.ofSeconds(1));
            case "leaky_bucket" -> new LeakyBucket(1_000_000_000L, 1_000_000, Duration.ofSeconds(1));
            case "fixed_window" -> FixedWindow.ofLength(1_000_000_000L, Duration.ofMinutes(1));
            case "calendar_day" -> FixedWindow.ofCalendar(1_000_000_000L, FixedWindow.CalendarUnit.DAY, ZoneId.of("Asia/Shanghai"),
                    DayOfWeek.MONDAY);
            case "sliding_window" -> new SlidingWindow(1_000_000_000, Duration.ofMinutes(1), Duration.ofSeconds(1));
            case "trickle_window" -> new TrickleWindow(FixedWindow.ofLength(1_000_000_000L, Duration.ofMinutes(1)), 1, Duration.ofSeconds(1));
            default -> throw new IllegalArgumentException(algorithm);
        };
        now = 1_900_000_000_000_000_000L;
        state = alg.acquire(null, now, 1, true, false).next();
    }

    @Benchmark
    public Outcome decide() {
        now += 1_000;
        Outcome o = alg.acquire(state, now, 1, true, false);
        state = o.next();
        return o;
    }
}
