package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.Scrape;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** docs/operations.md lists every metric a node exports under its own name, and no other. */
class MetricsDocumentedTest {

    @Test
    void theOperationsGuideListsExactlyTheNodesMetrics() throws Exception {
        Set<String> exported = new TreeSet<>();
        try (SluiceNode node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("documented"), ManualClock.fixed())
                .policies(PolicyLoader.bundledDemo()).metricsPort(Ports.free()).build())) {
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
            var stub = RateLimiterGrpc.newBlockingStub(channel);
            stub.acquire(AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "192.0.2.1").build());
            stub.acquire(AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "192.0.2.1").setDryRun(true).build());
            try {
                stub.acquire(AcquireRequest.newBuilder().setDomain("nowhere").build());
            } catch (RuntimeException expected) {
                // an error, so that the error counter exists
            }
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("(?m)^# TYPE (sluice_[a-z_]+) ").matcher(Scrape.fetch(node.metricsPort(), null).body());
            while (m.find()) {
                exported.add(m.group(1));
            }
        }
        Path doc = docs().resolve("operations.md");
        Set<String> documented = new TreeSet<>();
        Matcher d = Pattern.compile("(?m)^\\| `(sluice_[a-z_]+)`").matcher(Files.readString(doc));
        while (d.find()) {
            documented.add(d.group(1));
        }
        assertEquals(exported, documented, "docs/operations.md's metric tables");
    }

    private static Path docs() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("docs")) && Files.exists(dir.resolve("docs/architecture.md"))) {
                return dir.resolve("docs");
            }
        }
        throw new AssertionError("docs/ not found above " + Path.of("").toAbsolutePath());
    }
}
