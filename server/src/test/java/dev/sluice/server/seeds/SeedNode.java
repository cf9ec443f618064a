package dev.sluice.server.seeds;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Header;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.Examples;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real node (gRPC over a socket, a Hazelcast member over TCP) serving one of the shipped seed
 * policies from {@code examples/policies/}, with time driven through the clock seam.
 */
final class SeedNode implements AutoCloseable {

    final ManualClock clock;
    private final SluiceNode node;
    private final ManagedChannel channel;
    private final RateLimiterGrpc.RateLimiterBlockingStub stub;
    private final String domain;

    SeedNode(String file, String domain, Instant start) {
        this(file, domain, start, Map.of());
    }

    /**
     * A node serving the seed's example policy with some of its text replaced: the same policy
     * with other numbers, so that a test of a sentence holds for the sentence, not for one file's
     * numbers. Each text to replace must occur in the file.
     */
    SeedNode(String file, String domain, Instant start, Map<String, String> replacements) {
        this.clock = new ManualClock(start);
        this.domain = domain;
        try {
            Path path = examples().resolve(file);
            String text = Files.readString(path);
            for (Map.Entry<String, String> r : replacements.entrySet()) {
                if (!text.contains(r.getKey())) {
                    throw new AssertionError(file + " no longer contains '" + r.getKey() + "', which the test replaces");
                }
                text = text.replace(r.getKey(), r.getValue());
            }
            node = TestNodes.single(TestNodes.uniqueCluster("seed"), clock, PolicyLoader.parse(text, path.toString()));
        } catch (IOException | PolicyException e) {
            throw new AssertionError("cannot load " + file + ": " + e.getMessage(), e);
        }
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        stub = RateLimiterGrpc.newBlockingStub(channel);
    }

    static Path examples() {
        return Examples.policies();
    }

    AcquireResponse acquire(Map<String, String> descriptors) {
        return acquire(descriptors, 1);
    }

    AcquireResponse acquire(Map<String, String> descriptors, long cost) {
        return stub.withDeadlineAfter(10, TimeUnit.SECONDS).acquire(AcquireRequest.newBuilder()
                .setDomain(domain).putAllDescriptors(descriptors).setCost(cost).build());
    }

    /** How many calls pass, one after another at this instant, before the first denial. */
    int burst(Map<String, String> descriptors) {
        int allowed = 0;
        while (acquire(descriptors).getDecision() == dev.sluice.api.v1.Decision.ALLOWED) {
            allowed++;
        }
        return allowed;
    }

    /**
     * Sends one request every {@code step} for {@code total}, moving the clock between them, and
     * returns the clock's nanos of those allowed.
     */
    java.util.List<Long> sendEvery(Map<String, String> descriptors, Duration step, Duration total) {
        java.util.List<Long> allowed = new java.util.ArrayList<>();
        for (long t = 0; t < total.toNanos(); t += step.toNanos()) {
            if (acquire(descriptors).getDecision() == dev.sluice.api.v1.Decision.ALLOWED) {
                allowed.add(clock.nanos());
            }
            advance(step);
        }
        return allowed;
    }

    /** The most of {@code times} (sorted) within any interval of {@code window}, its end excluded. */
    static int mostWithinAny(java.util.List<Long> times, Duration window) {
        int most = 0;
        int from = 0;
        for (int i = 0; i < times.size(); i++) {
            while (times.get(i) - times.get(from) >= window.toNanos()) {
                from++;
            }
            most = Math.max(most, i - from + 1);
        }
        return most;
    }

    /** Descriptors from alternating names and values. */
    static Map<String, String> descriptors(String... pairs) {
        Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    void advance(Duration d) {
        clock.advance(d);
    }

    /** Moves the clock to the next multiple of {@code unit} since the epoch (a whole second, a whole minute). */
    void alignTo(Duration unit) {
        long u = unit.toNanos();
        clock.advance(Duration.ofNanos(Math.floorMod(-clock.nanos(), u)));
    }

    static String header(AcquireResponse r, String name) {
        return r.getHeadersList().stream().filter(h -> h.getName().equals(name)).map(Header::getValue).findFirst().orElse(null);
    }

    static Duration retryAfter(AcquireResponse r) {
        return Duration.ofSeconds(r.getRetryAfter().getSeconds(), r.getRetryAfter().getNanos());
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }
}
