package dev.sluice.bench;

import dev.sluice.client.Acquire;
import dev.sluice.client.AcquireResult;
import dev.sluice.client.SluiceClient;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The Java client's everyday path, {@code acquireAsync}, with its defaults: a 50 ms deadline,
 * retries, request ids, the denial cache. An answer the failure mode gave instead of a node
 * counts as an error.
 */
final class ClientTarget implements Target {

    private final SluiceClient client;
    /** For the limit check only: a cold JVM's first calls can miss the 50 ms deadline, which would fail open. */
    private final SluiceClient checker;
    private final List<Long> pids;
    private final Acquire[] requests;

    private final boolean streaming;
    /** Whether the client leases hot keys' units ({@code client-hot}): then every call asks for one hot key of a day's window. */
    private final boolean leased;
    private final java.util.concurrent.atomic.LongAdder allowed = new java.util.concurrent.atomic.LongAdder();

    /** With {@code streaming} (the client's default) requests travel on AcquireStream; without, as calls batched under load. */
    ClientTarget(List<Integer> ports, List<Long> pids, int keys, long cost, boolean streaming) {
        this(ports, pids, keys, cost, streaming, false);
    }

    /** With {@code leased}, the client with hot-key leases on, every call for the one key of {@link #LEASED_RULE}. */
    ClientTarget(List<Integer> ports, List<Long> pids, int keys, long cost, boolean streaming, boolean leased) {
        this.streaming = streaming;
        this.leased = leased;
        SluiceClient.Builder b = SluiceClient.builder().streaming(streaming).routing(50_000); // as measured in docs/performance.md
        if (leased) {
            b.hotKeyLeases(1000);
        }
        ports.forEach(p -> b.target("127.0.0.1:" + p));
        String batching = System.getProperty("sluice.bench.clientBatching");
        if (batching != null) {
            String[] callsAndSize = batching.split(",");
            b.batching(Integer.parseInt(callsAndSize[0]), Integer.parseInt(callsAndSize[1]));
        }
        this.client = b.build();
        SluiceClient.Builder c = SluiceClient.builder().deadline(java.time.Duration.ofSeconds(5));
        ports.forEach(p -> c.target("127.0.0.1:" + p));
        this.checker = c.build();
        this.pids = pids;
        requests = new Acquire[keys];
        for (int k = 0; k < keys; k++) {
            requests[k] = leased ? HOT : Acquire.domain("bench").with("k", "k" + k).cost(cost);
        }
    }

    /** The rule {@code client-hot} asks: a day's window too large to run out in a run, so every answer is counted. */
    static final String LEASED_RULE = """
                  - name: leased
                    match: {kind: leased}
                    limits: [{name: leased, algorithm: fixed_window, limit: 1000000000000, window: 1d, key: [k]}]
            """;
    static final long LEASED_LIMIT = 1_000_000_000_000L;
    private static final Acquire HOT = Acquire.domain("bench").with("kind", "leased").with("k", "hot");

    /**
     * After a {@code client-hot} run: closes the leased client (it gives back what its leases did
     * not use), then compares what the window counted with what the client admitted. A line for the
     * run's checks: over-admission is a count the window never took.
     */
    String overAdmissionCheck() {
        long before = windowEndSeconds();
        client.close();
        long admitted = allowed.sum();
        AcquireResult left = checker.acquire(HOT.dryRun());
        long counted = LEASED_LIMIT - (left.limits().get(0).remaining() + 1);
        if (windowEndSeconds() != before) {
            return name() + ": the day's window ended during the run; over-admission not checked";
        }
        return name() + ": admitted " + admitted + ", the window counted " + counted + ", over-admitted " + Math.max(0, admitted - counted)
                + (admitted > counted ? "  <-- WRONG" : "") + "; leases granted " + client.leasesGranted() + ", units not given back "
                + client.leaseUnitsNotGivenBack() + ", answers decided from leases " + client.decidedFromLeases();
    }

    private long windowEndSeconds() {
        AcquireResult r = checker.acquire(HOT.dryRun());
        return (System.currentTimeMillis() + r.limits().get(0).resetAfter().toMillis() + 500) / 1000;
    }

    @Override
    public String name() {
        return leased ? "sluice-client-hot" : streaming ? "sluice-client" : "sluice-client-calls";
    }

    @Override
    public CompletableFuture<Integer> call(long key) {
        return client.acquireAsync(requests[(int) key]).thenApply(r -> {
            if (r.source() == AcquireResult.Source.FAIL_OPEN || r.source() == AcquireResult.Source.FAIL_CLOSED) {
                throw new CompletionException(new IllegalStateException(r.failure().orElse("no answer")));
            }
            if (r.allowed()) {
                allowed.increment();
                return 1;
            }
            return 0;
        });
    }

    @Override
    public int limitCheck(String key, int capacity, int attempts) {
        int allowed = 0;
        for (int i = 0; i < attempts; i++) {
            AcquireResult r = checker.acquire(Acquire.domain("bench").with("kind", "check").with("k", key));
            if (r.failure().isPresent()) {
                throw new IllegalStateException("sluice-client: the limit check got no answer: " + r.failure().get());
            }
            allowed += r.allowed() ? 1 : 0;
        }
        return allowed;
    }

    @Override
    public List<Long> pids() {
        return pids;
    }

    @Override
    public void close() {
        checker.close();
        client.close();
    }
}
