package dev.sluice.client;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Denials remembered for the time the server said to wait, so a caller hammering a limit is
 * turned away without a call. An entry expires at the moment the request was sent plus the
 * retry-after the server gave: the server decided after that moment, so the cache never denies
 * for longer than the server said. Bounded: when full, expired entries go first, and a new
 * denial that finds it still full is simply not cached.
 */
final class DenialCache {

    private record Entry(AcquireResult denial, long expiresAtNanos) {
    }

    private final Map<Acquire, Entry> entries = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;
    private final int maxEntries;

    DenialCache(LongSupplier nanoTime, int maxEntries) {
        this.nanoTime = nanoTime;
        this.maxEntries = maxEntries;
    }

    /** The cached denial for {@code request}, or {@code null}. */
    AcquireResult lookup(Acquire request) {
        Entry e = entries.get(request);
        if (e == null) {
            return null;
        }
        long left = e.expiresAtNanos - nanoTime.getAsLong();
        if (left <= 0) {
            entries.remove(request, e);
            return null;
        }
        return e.denial.cachedWith(java.time.Duration.ofNanos(left));
    }

    /** Remembers a server's denial of {@code request}, sent at {@code sentAtNanos}. */
    void remember(Acquire request, AcquireResult denial, long sentAtNanos) {
        long retry = denial.retryAfter().toNanos();
        // A concurrency limit's slot can come back before its retry-after, when its holder releases it.
        if (retry <= 0 || maxEntries == 0 || denial.countsInFlight()) {
            return;
        }
        if (entries.size() >= maxEntries) {
            long now = nanoTime.getAsLong();
            for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
                if (it.next().expiresAtNanos <= now) {
                    it.remove();
                }
            }
            if (entries.size() >= maxEntries) {
                return;
            }
        }
        entries.put(request, new Entry(denial, sentAtNanos + retry));
    }

    int size() {
        return entries.size();
    }
}
