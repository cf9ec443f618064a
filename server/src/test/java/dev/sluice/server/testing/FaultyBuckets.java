package dev.sluice.server.testing;

import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.store.Buckets;
import dev.sluice.server.store.Command;
import dev.sluice.server.store.Refund;
import dev.sluice.server.store.StoreException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store that fails or holds what a test tells it to, and passes everything else to a real one:
 * commands on buckets whose key contains a marker fail with a chosen {@link StoreException}, or
 * wait until released; give-backs fail, or never answer. What it does not touch, the real store
 * decides.
 */
public final class FaultyBuckets implements Buckets {

    private final Buckets real;
    private final Map<String, StoreException.Kind> failing = new ConcurrentHashMap<>();
    private final Map<String, List<Runnable>> held = new ConcurrentHashMap<>();
    private volatile StoreException.Kind refundFailure;
    private volatile boolean refundsHang;
    private final AtomicInteger refundsAsked = new AtomicInteger();
    private final List<CompletableFuture<Boolean>> hungRefunds = new CopyOnWriteArrayList<>();

    public FaultyBuckets(Buckets real) {
        this.real = real;
    }

    /** Commands on buckets whose key contains {@code marker} fail with {@code kind}, without reaching the real store. */
    public FaultyBuckets fail(String marker, StoreException.Kind kind) {
        failing.put(marker, kind);
        return this;
    }

    /** Commands on buckets whose key contains {@code marker} reach the real store again. */
    public FaultyBuckets heal(String marker) {
        failing.remove(marker);
        return this;
    }

    /** Commands on buckets whose key contains {@code marker} reach the real store only when {@link #release} is called. */
    public FaultyBuckets hold(String marker) {
        held.put(marker, new CopyOnWriteArrayList<>());
        return this;
    }

    /** Lets the held commands through, and stops holding. */
    public void release(String marker) {
        List<Runnable> waiting = held.remove(marker);
        if (waiting != null) {
            waiting.forEach(Runnable::run);
        }
    }

    /** Give-backs fail with {@code kind} (null: they reach the real store again). */
    public FaultyBuckets failRefunds(StoreException.Kind kind) {
        this.refundFailure = kind;
        return this;
    }

    /** Give-backs never answer (false: they reach the real store again). */
    public FaultyBuckets hangRefunds(boolean hang) {
        this.refundsHang = hang;
        return this;
    }

    /** Give-backs asked for since this store was made. */
    public int refundsAsked() {
        return refundsAsked.get();
    }

    @Override
    public List<CompletableFuture<Outcome>> acquireAll(List<Command> commands) {
        List<CompletableFuture<Outcome>> out = new ArrayList<>(commands.size());
        for (Command c : commands) {
            CompletableFuture<Outcome> result = new CompletableFuture<>();
            out.add(result);
            StoreException.Kind kind = match(failing, c.key());
            if (kind != null) {
                result.completeExceptionally(new StoreException(kind, "injected for " + c.key()));
                continue;
            }
            Runnable pass = () -> real.acquire(c).whenComplete((o, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else {
                    result.complete(o);
                }
            });
            List<Runnable> waiting = match(held, c.key());
            if (waiting != null) {
                waiting.add(pass);
            } else {
                pass.run();
            }
        }
        return out;
    }

    @Override
    public CompletableFuture<Boolean> refund(Refund refund) {
        refundsAsked.incrementAndGet();
        StoreException.Kind kind = refundFailure;
        if (kind != null) {
            return CompletableFuture.failedFuture(new StoreException(kind, "injected for the give-back to " + refund.key()));
        }
        if (refundsHang) {
            CompletableFuture<Boolean> never = new CompletableFuture<>();
            hungRefunds.add(never);
            return never;
        }
        return real.refund(refund);
    }

    private static <V> V match(Map<String, V> rules, String key) {
        for (Map.Entry<String, V> rule : rules.entrySet()) {
            if (key.contains(rule.getKey())) {
                return rule.getValue();
            }
        }
        return null;
    }

    @Override
    public CompletableFuture<dev.sluice.server.store.BucketView> inspect(String key, dev.sluice.server.algorithm.Algorithm algorithm,
                                                                         long cost) {
        return real.inspect(key, algorithm, cost);
    }

    @Override
    public CompletableFuture<Long> renew(String key, dev.sluice.server.algorithm.Algorithm algorithm, long id) {
        return real.renew(key, algorithm, id);
    }

    @Override
    public CompletableFuture<dev.sluice.server.store.Settlement> settle(String key, dev.sluice.server.algorithm.Algorithm algorithm,
                                                                        long requestId, long actual) {
        return real.settle(key, algorithm, requestId, actual);
    }

    @Override
    public CompletableFuture<Boolean> reset(String key) {
        return real.reset(key);
    }
}
