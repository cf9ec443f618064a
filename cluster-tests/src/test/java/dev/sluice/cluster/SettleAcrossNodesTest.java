package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.SettleOutcome;
import dev.sluice.api.v1.SettleResponse;
import dev.sluice.api.v1.SettleStatus;
import dev.sluice.client.Acquire;
import dev.sluice.client.AcquireResult;
import dev.sluice.client.FailureMode;
import dev.sluice.client.RetryPolicy;
import dev.sluice.client.SluiceClient;
import io.grpc.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Costs settled after the fact on three nodes in JVMs of their own: 8 clients acquire an
 * estimate through every node and settle a different actual cost (more, less, or nothing) for
 * 4 orgs, and one node is killed with SIGKILL mid-run. Afterwards each org's buckets hold exactly
 * the sum of the actual costs: every difference given back or charged once, none lost with the
 * member (the backup holds the request and whether it was settled), none applied twice by a retry.
 */
class SettleAcrossNodesTest {

    static final long CAPACITY = 2_000_000;
    static final String POLICY = """
            domains:
              llm:
                rules:
                  - name: tokens
                    limits:
                      - {name: owed, algorithm: token_bucket, capacity: %d, refill: 1, refill_period: 1000s, key: [org],
                         overdraft: allow, settle_within: 5m}
                      - {name: hourly, algorithm: sliding_window, limit: %d, window: 1h, granularity: 1m, key: [org],
                         settle_within: 5m}
            """.formatted(CAPACITY, CAPACITY);
    static final int ORGS = 4;

    @RegisterExtension
    final Closer closer = new Closer();

    @Test
    void theBucketsHoldExactlyTheActualCostsWithAMemberKilledMidRun(@TempDir Path dir) throws Exception {
        Path policies = Files.writeString(dir.resolve("llm.yaml"), POLICY);
        List<NodeProcess> nodes = NodeProcess.cluster(closer, 3, "settle", policies);
        List<String> targets = nodes.stream().map(NodeProcess::target).toList();

        AtomicLongArray actual = new AtomicLongArray(ORGS);
        LongAdder settled = new LongAdder();
        LongAdder retriedSettles = new LongAdder();
        LongAdder charged = new LongAdder();
        LongAdder givenBack = new LongAdder();
        LongAdder unanswered = new LongAdder();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            SluiceClient client = SluiceClient.builder().targets(targets).streaming(false).batching(0, 1).denialCache(false)
                    .deadline(Duration.ofMillis(1500)).failureMode(FailureMode.FAIL_CLOSED)
                    .retryPolicy(new RetryPolicy(4, Duration.ofMillis(20), Duration.ofMillis(200), 2.0)).build();
            closer.add(client::close);
            int seed = w;
            Thread t = new Thread(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                while (running.get()) {
                    int org = random.nextInt(ORGS);
                    long estimate = 50 + random.nextInt(100);
                    // A third cost more than estimated, a third less, a few nothing at all (the call failed).
                    long cost = switch (random.nextInt(7)) {
                        case 0 -> 0;
                        case 1, 2 -> estimate + 1 + random.nextInt(400);
                        default -> random.nextInt((int) estimate);
                    };
                    Acquire request = Acquire.domain("llm").with("org", "org-" + org).cost(estimate);
                    AcquireResult answer = client.acquire(request);
                    if (answer.source() != AcquireResult.Source.SERVER) {
                        // No node answered in time: it may have been applied. Settling at 0 gives back
                        // whatever it took, or is refused because it never landed; either way it costs 0.
                        unanswered.increment();
                        cost = 0;
                    } else if (!answer.allowed()) {
                        failures.add(new AssertionError("denied with " + CAPACITY + " to spend: " + answer));
                        continue;
                    }
                    try {
                        if (settleUntilAnswered(client, request, answer, cost, retriedSettles, charged, givenBack)) {
                            actual.addAndGet(org, cost);
                            settled.increment();
                        }
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            }, "settle-worker-" + w);
            t.start();
            workers.add(t);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> settled.sum() >= 400);
        nodes.get(2).kill();
        long settledAtKill = settled.sum();
        await().atMost(Duration.ofSeconds(90)).until(() -> settled.sum() >= settledAtKill + 600);
        running.set(false);
        for (Thread t : workers) {
            t.join(30_000);
        }
        assertTrue(failures.isEmpty(), "workers failed: " + failures);

        var stub = RateLimiterGrpc.newBlockingStub(nodes.get(0).channel());
        List<String> held = new ArrayList<>();
        for (int org = 0; org < ORGS; org++) {
            var r = stub.acquire(AcquireRequest.newBuilder().setDomain("llm").putDescriptors("org", "org-" + org).setDryRun(true).build());
            long owed = CAPACITY - (r.getLimits(0).getRemaining() + 1);
            long hourly = CAPACITY - (r.getLimits(1).getRemaining() + 1);
            held.add("org-" + org + ": actual " + actual.get(org) + ", token bucket " + owed + ", sliding window " + hourly);
            assertEquals(actual.get(org), owed, "the token bucket holds the sum of the actual costs: " + held);
            assertEquals(actual.get(org), hourly, "the sliding window holds the sum of the actual costs: " + held);
        }
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("settled", settled.sum());
        figures.put("settled_after_kill", settled.sum() - settledAtKill);
        figures.put("units_charged_after_the_fact", charged.sum());
        figures.put("units_given_back", givenBack.sum());
        figures.put("acquires_unanswered", unanswered.sum());
        figures.put("settles_answered_already_settled", retriedSettles.sum());
        figures.put("buckets", held);
        Figures.report("settle-across-nodes", figures);
    }

    /**
     * Settles until a node answers for the request: true once settled (now or by an earlier try whose
     * answer was lost), false when the buckets never took it (the request did not land).
     */
    private static boolean settleUntilAnswered(SluiceClient client, Acquire request, AcquireResult answer, long cost,
                                               LongAdder retried, LongAdder charged, LongAdder givenBack) {
        for (int attempt = 0; ; attempt++) {
            try {
                SettleResponse s = client.settleAsync(request, answer, cost).join();
                for (SettleStatus l : s.getLimitsList()) {
                    if (l.getOutcome() == SettleOutcome.ALREADY_SETTLED) {
                        retried.increment();
                    } else if (l.getOutcome() != SettleOutcome.SETTLED) {
                        throw new AssertionError("settle of " + answer.requestId() + " answered " + s);
                    }
                }
                long adjusted = s.getLimits(0).getAdjusted();
                (adjusted > 0 ? charged : givenBack).add(Math.abs(adjusted));
                return true;
            } catch (CompletionException e) {
                Status status = Status.fromThrowable(e.getCause());
                if (status.getCode() == Status.Code.FAILED_PRECONDITION && answer.source() != AcquireResult.Source.SERVER) {
                    return false;
                }
                if (status.getCode() != Status.Code.UNAVAILABLE && status.getCode() != Status.Code.DEADLINE_EXCEEDED || attempt > 20) {
                    throw new AssertionError("settle of " + answer.requestId() + " failed: " + status, e.getCause());
                }
            }
        }
    }
}
