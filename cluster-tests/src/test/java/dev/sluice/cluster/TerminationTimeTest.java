package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.testing.TestNodes;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How long a node takes from SIGTERM to exit while it holds buckets that must move to the other
 * member: the figure Kubernetes' terminationGracePeriodSeconds has to cover (with the drain delay).
 */
class TerminationTimeTest {

    private static final int BUCKETS = 50_000;

    @RegisterExtension
    final Closer closer = new Closer();

    @Test
    void aNodeStoppedWithSigtermHandsItsBucketsOverBeforeItExits(@TempDir Path dir) throws Exception {
        Path policies = Files.writeString(dir.resolve("p.yaml"), CrashFailoverTest.POLICY);
        String cluster = TestNodes.uniqueCluster("termination");
        var a = NodeProcess.Addresses.free();
        var b = NodeProcess.Addresses.free();
        List<String> members = List.of(a.member(), b.member());
        NodeProcess leaving = closer.add(NodeProcess.start("term-leaving", a, members, cluster, policies, Path.of("target", "node-logs"), List.of()));
        NodeProcess staying = closer.add(NodeProcess.start("term-staying", b, members, cluster, policies, Path.of("target", "node-logs"), List.of()));
        leaving.awaitServing();
        staying.awaitServing();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                .until(() -> leaving.output().contains("cluster of 2") || staying.output().contains("cluster of 2"));

        var stub = RateLimiterGrpc.newStub(staying.channel());
        Semaphore outstanding = new Semaphore(500);
        AtomicInteger failures = new AtomicInteger();
        for (int i = 0; i < BUCKETS; i++) {
            outstanding.acquire();
            stub.acquire(AcquireRequest.newBuilder().setDomain("crash").putDescriptors("kind", "spent")
                    .putDescriptors("k", "b" + i).setCost(20).build(), new StreamObserver<>() {
                        @Override
                        public void onNext(AcquireResponse value) {
                        }

                        @Override
                        public void onError(Throwable t) {
                            failures.incrementAndGet();
                            outstanding.release();
                        }

                        @Override
                        public void onCompleted() {
                            outstanding.release();
                        }
                    });
        }
        outstanding.acquire(500);
        assertEquals(0, failures.get());

        long started = System.nanoTime();
        leaving.stop(); // SIGTERM, and wait for the process to exit
        long exitMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        int stillSpent = 0;
        var check = RateLimiterGrpc.newBlockingStub(staying.channel());
        for (int i = 0; i < BUCKETS; i += 100) {
            var r = check.acquire(AcquireRequest.newBuilder().setDomain("crash").putDescriptors("kind", "spent")
                    .putDescriptors("k", "b" + i).build());
            stillSpent += r.getDecision() == Decision.DENIED ? 1 : 0;
        }
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("buckets", BUCKETS);
        figures.put("ms_from_sigterm_to_exit", exitMillis);
        figures.put("sampled_buckets_intact", stillSpent + " of " + BUCKETS / 100);
        Figures.report("termination-time", figures);
        assertEquals(BUCKETS / 100, stillSpent, "every sampled bucket kept its state on the remaining member");
    }
}
