package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Closed-loop load the way a careful client makes it: every request has a fresh id, and a
 * request that fails (node gone, deadline, unavailable) is retried with the same id on the next
 * node until it is answered. Counts what was acknowledged as admitted, per bucket, and when
 * errors were seen.
 */
final class LoadClient implements AutoCloseable {

    private final ExecutorService workers;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Future<?>> futures = new ArrayList<>();
    private final Map<String, LongAdder> admitted = new ConcurrentHashMap<>();
    private final LongAdder requests = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder abandoned = new LongAdder();
    private final AtomicLong firstError = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastError = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong slowestNanos = new AtomicLong();
    private final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
    private final Map<String, List<String>> retried = new ConcurrentHashMap<>();

    /**
     * @param targets     the nodes to call, asked afresh for every attempt
     * @param domain      the domain of every request
     * @param descriptors the descriptor sets to cycle through; each must carry {@code k}, the
     *                    label admissions are counted under
     */
    LoadClient(int threads, Supplier<List<ManagedChannel>> targets, String domain, List<Map<String, String>> descriptors) {
        workers = Executors.newFixedThreadPool(threads);
        for (int t = 0; t < threads; t++) {
            int worker = t;
            futures.add(workers.submit(() -> {
                long n = worker;
                while (running.get()) {
                    Map<String, String> d = descriptors.get((int) (n % descriptors.size()));
                    send(targets, AcquireRequest.newBuilder().setDomain(domain).putAllDescriptors(d)
                            .setRequestId(UUID.randomUUID().toString()).build(), (int) n, d.get("k"));
                    n += threads;
                }
                return null;
            }));
        }
    }

    private void send(Supplier<List<ManagedChannel>> targets, AcquireRequest request, int start, String label) {
        requests.increment();
        long sent = System.nanoTime();
        StringBuilder history = null;
        for (int attempt = 0; attempt < 200; attempt++) {
            List<ManagedChannel> nodes = targets.get();
            ManagedChannel node = nodes.get(Math.floorMod(start + attempt, nodes.size()));
            try {
                AcquireResponse r = RateLimiterGrpc.newBlockingStub(node).withDeadlineAfter(2, TimeUnit.SECONDS).acquire(request);
                slowestNanos.accumulateAndGet(System.nanoTime() - sent, Math::max);
                if (r.getDecision() == Decision.ALLOWED) {
                    admitted.computeIfAbsent(label, k -> new LongAdder()).increment();
                }
                if (history != null) {
                    history.append(node.authority()).append(' ').append(r.getDecision());
                    retried.computeIfAbsent(label, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(history.toString());
                }
                return;
            } catch (StatusRuntimeException e) {
                long now = System.nanoTime();
                history = (history == null ? new StringBuilder(request.getRequestId()).append(" (").append(Long.toHexString(dev.sluice.server.engine.RequestIds.of(request.getRequestId()))).append("): ") : history)
                        .append(node.authority()).append(' ').append(e.getStatus().getCode()).append(", ");
                errors.increment();
                errorKinds.computeIfAbsent(e.getStatus().getCode().name(), k -> new LongAdder()).increment();
                firstError.accumulateAndGet(now, Math::min);
                lastError.accumulateAndGet(now, Math::max);
                try {
                    Thread.sleep(Math.min(100, 5L * (attempt + 1)));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        abandoned.increment();
    }

    /** Stops issuing new requests and waits for those under way to be answered. */
    void stop() throws Exception {
        running.set(false);
        for (Future<?> f : futures) {
            f.get(2, TimeUnit.MINUTES);
        }
    }

    long admitted(String label) {
        LongAdder a = admitted.get(label);
        return a == null ? 0 : a.sum();
    }

    long requests() {
        return requests.sum();
    }

    long errors() {
        return errors.sum();
    }

    /** The longest any request took to be answered, retries included, in milliseconds. */
    long slowestMillis() {
        return TimeUnit.NANOSECONDS.toMillis(slowestNanos.get());
    }

    long abandoned() {
        return abandoned.sum();
    }

    Map<String, Long> errorKinds() {
        Map<String, Long> m = new java.util.TreeMap<>();
        errorKinds.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    /** For each label, the requests that needed more than one attempt: id, then each attempt's node and result. */
    Map<String, List<String>> retried() {
        return retried;
    }

    /** Milliseconds from the first error any client saw to the last; 0 with no errors. */
    long errorWindowMillis() {
        return errors.sum() == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(lastError.get() - firstError.get());
    }

    @Override
    public void close() {
        running.set(false);
        workers.shutdownNow();
    }
}
