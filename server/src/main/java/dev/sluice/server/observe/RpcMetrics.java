package dev.sluice.server.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Per RPC: a histogram of the time from a request read to its answer written (buckets from 50 µs
 * to 1 s), and errors by status code, a batch's and a stream's entries each counted.
 */
public final class RpcMetrics {

    /** Records nothing. */
    public static final RpcMetrics OFF = new RpcMetrics(null);

    /** The histogram's bucket bounds. */
    static final Duration[] BUCKETS = {
        Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
        Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1)};

    /** The RPCs, by their gRPC method names. */
    public enum Rpc {
        ACQUIRE("Acquire"), ACQUIRE_BATCH("AcquireBatch"), ACQUIRE_STREAM("AcquireStream"), SHOULD_RATE_LIMIT("ShouldRateLimit"),
        RELEASE("Release"), RENEW("Renew"), SETTLE("Settle"), LEASE("Lease");

        private final String method;

        Rpc(String method) {
            this.method = method;
        }

        public String method() {
            return method;
        }
    }

    private final MeterRegistry registry;
    private final Timer[] timers;
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();

    public RpcMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.timers = new Timer[Rpc.values().length];
        if (registry != null) {
            for (Rpc rpc : Rpc.values()) {
                timers[rpc.ordinal()] = Timer.builder("sluice.rpc.duration")
                        .description("from a request read to its answer written")
                        .tag("rpc", rpc.method()).serviceLevelObjectives(BUCKETS).register(registry);
            }
        }
    }

    /** The time a request was read, to give {@link #answered}; 0 when nothing is recorded. */
    public long start() {
        return registry == null ? 0 : System.nanoTime();
    }

    /** A request of {@code rpc} read at {@code started} is answered: with an error of {@code code}, or with none when it is {@code null}. */
    public void answered(Rpc rpc, long started, String code) {
        if (registry == null) {
            return;
        }
        timers[rpc.ordinal()].record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        if (code != null) {
            failed(rpc, code);
        }
    }

    /** One error of {@code code} on {@code rpc}, without a time (an entry of a batch). */
    public void failed(Rpc rpc, String code) {
        if (registry == null) {
            return;
        }
        errors.computeIfAbsent(rpc.method() + "/" + code, k -> Counter.builder("sluice.rpc.errors")
                .description("requests answered with an error, by RPC and gRPC status code")
                .tag("rpc", rpc.method()).tag("code", code).register(registry)).increment();
    }
}
