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

    /** With {@code streaming} (the client's default) requests travel on AcquireStream; without, as calls batched under load. */
    ClientTarget(List<Integer> ports, List<Long> pids, int keys, long cost, boolean streaming) {
        this.streaming = streaming;
        SluiceClient.Builder b = SluiceClient.builder().streaming(streaming);
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
            requests[k] = Acquire.domain("bench").with("k", "k" + k).cost(cost);
        }
    }

    @Override
    public String name() {
        return streaming ? "sluice-client" : "sluice-client-calls";
    }

    @Override
    public CompletableFuture<Integer> call(long key) {
        return client.acquireAsync(requests[(int) key]).thenApply(r -> {
            if (r.source() == AcquireResult.Source.FAIL_OPEN || r.source() == AcquireResult.Source.FAIL_CLOSED) {
                throw new CompletionException(new IllegalStateException(r.failure().orElse("no answer")));
            }
            return r.allowed() ? 1 : 0;
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
