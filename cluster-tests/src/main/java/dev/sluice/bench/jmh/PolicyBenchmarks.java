package dev.sluice.bench.jmh;

import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.policy.Domain;
import dev.sluice.server.policy.PolicyLoader;
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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Matching a request against a shipped seed policy and building its bucket keys: the work a
 * node does per request before it asks the cluster.
 * {@code java -cp cluster-tests/target/sluice-bench.jar org.openjdk.jmh.Main PolicyBenchmarks}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PolicyBenchmarks {

    @Param({"demo", "seed-002", "seed-003"})
    public String policy;

    private Domain domain;
    private Map<String, String> descriptors;

    @Setup
    public void setUp() throws Exception {
        switch (policy) {
            case "demo" -> {
                domain = PolicyLoader.bundledDemo().domain("demo");
                descriptors = Map.of("ip", "203.0.113.9");
            }
            case "seed-002" -> {
                domain = PolicyLoader.parse(Files.readString(example("seed-002-tiered-token-buckets.yaml")), "002").domain("payments");
                descriptors = domain.withDefaults(Map.of("org", "acme", "api_key", "k1", "tier", "TIER_2", "type", "PAYMENTS",
                        "resource", "invoices"));
            }
            default -> {
                domain = PolicyLoader.parse(Files.readString(example("seed-003-commerce-api.yaml")), "003").domain("commerce");
                descriptors = Map.of("ip", "198.51.100.4", "env", "live", "method", "GET", "endpoint", "/api/skus");
            }
        }
    }

    private static Path example(String file) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("examples/policies").resolve(file);
            if (Files.exists(p)) {
                return p;
            }
        }
        throw new IllegalStateException("run from the repository: examples/policies/" + file + " not found");
    }

    @Benchmark
    public List<AppliedLimit> resolve() {
        return domain.resolve(descriptors);
    }
}
