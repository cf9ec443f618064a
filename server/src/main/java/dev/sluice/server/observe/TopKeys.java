package dev.sluice.server.observe;

import dev.sluice.server.engine.LimitResult;
import dev.sluice.server.engine.Verdict;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The heaviest buckets of each domain over the last minute, on this member: for every bucket a
 * decision asked (requests) and every bucket that denied (denials), a {@link SpaceSaving} sketch
 * per domain and per ten-second slot, six slots kept, so a question covers the last 50 to 60
 * seconds. Bounded memory whatever the keys: at most {@link #CAPACITY} counters per sketch, two
 * sketches per slot, six slots per domain, and domains come from the policy. Members' summaries
 * merge ({@link KeyCounts#merge}) into the cluster's; nothing scans the bucket map.
 *
 * <p>Each thread that concludes decisions counts into sketches of its own, so counting never
 * waits on another thread (one shared sketch under a lock cost the benchmark's unary and client
 * paths 4 to 5 % of their throughput, from contention); a question merges every thread's, which
 * keeps the same bound (the bound of merged sketches is their total over the capacity).
 */
public final class TopKeys {

    /** Counters per sketch: every count is within total / CAPACITY of the truth. */
    public static final int CAPACITY = 1024;

    /** Length of one slot. */
    public static final long SLOT_NANOS = 10_000_000_000L;

    /** Slots kept: the current one and the five before it. */
    public static final int SLOTS = 6;

    /** What a sketch counts. */
    public enum By { REQUESTS, DENIALS }

    /** A node that keeps none (tests and tools that do not ask). */
    public static final TopKeys OFF = new TopKeys(false);

    private final boolean on;
    private final ConcurrentHashMap<String, Threads> domains = new ConcurrentHashMap<>();

    /** One domain's sketches: a set per thread that counts into it. */
    private static final class Threads {
        final ThreadLocal<Domain> mine = new ThreadLocal<>();
        final java.util.concurrent.CopyOnWriteArrayList<Domain> all = new java.util.concurrent.CopyOnWriteArrayList<>();

        Domain forThisThread() {
            Domain d = mine.get();
            if (d == null) {
                d = new Domain();
                mine.set(d);
                all.add(d);
            }
            return d;
        }
    }

    public TopKeys() {
        this(true);
    }

    private TopKeys(boolean on) {
        this.on = on;
    }

    /** Counts a decision of {@code domain} at {@code nowNanos} on the decision clock: each of its buckets once, and again if it denied. */
    public void record(String domain, Verdict verdict, long nowNanos) {
        if (!on || verdict.results().isEmpty()) {
            return;
        }
        Threads t = domains.get(domain);
        if (t == null) {
            t = domains.computeIfAbsent(domain, k -> new Threads());
        }
        Domain d = t.forThisThread();
        long slot = Math.floorDiv(nowNanos, SLOT_NANOS);
        List<LimitResult> results = verdict.results();
        synchronized (d) {
            if (slot != d.pendingSlot) {
                d.flush();
                d.pendingSlot = slot;
            }
            for (int i = 0; i < results.size(); i++) {
                LimitResult r = results.get(i);
                d.pending(By.REQUESTS, r.limit().bucketKey());
                if (!r.allowed()) {
                    d.pending(By.DENIALS, r.limit().bucketKey());
                }
            }
        }
    }

    /** This member's summary of {@code domain} over the last minute before {@code nowNanos}: every key its sketches monitor. */
    public KeyCounts summary(String domain, By by, long nowNanos) {
        Threads t = domains.get(domain);
        if (t == null) {
            return KeyCounts.EMPTY;
        }
        long slot = Math.floorDiv(nowNanos, SLOT_NANOS);
        List<KeyCounts> parts = new ArrayList<>(SLOTS * t.all.size());
        for (Domain d : t.all) {
            collect(d, by, slot, parts);
        }
        return KeyCounts.merge(parts, Integer.MAX_VALUE);
    }

    /** The summaries of {@code d}'s sketches of {@code by} that count within the minute up to {@code slot}. */
    private static void collect(Domain d, By by, long slot, List<KeyCounts> parts) {
        synchronized (d) {
            d.flush();
            for (int i = 0; i < SLOTS; i++) {
                SpaceSaving s = d.sketches[by.ordinal()][i];
                long epoch = d.epochs[by.ordinal()][i];
                if (s == null || epoch <= slot - SLOTS || epoch > slot) {
                    continue;
                }
                List<KeyCounts.Entry> entries = new ArrayList<>();
                for (SpaceSaving.Counter c : s.counters()) {
                    entries.add(new KeyCounts.Entry(c.key(), c.count(), c.error()));
                }
                parts.add(new KeyCounts(entries, s.floor(), s.total(), s.total() / CAPACITY));
            }
        }
    }

    /** Keys held back before they are counted, per kind: counted together, the sketch stays in the CPU's caches. */
    static final int BATCH = 256;

    /**
     * One domain's slots on one thread: a ring of sketches per kind, each with the slot number it
     * counts, and the keys not yet counted, all of slot {@code pendingSlot}. Counting a key costs
     * a few cache misses when the sketch has been pushed out of the caches by the work between
     * two decisions; counting {@link #BATCH} at once pays them once.
     */
    private static final class Domain {
        final SpaceSaving[][] sketches = new SpaceSaving[By.values().length][SLOTS];
        final long[][] epochs = new long[By.values().length][SLOTS];
        final String[][] pending = new String[By.values().length][BATCH];
        final int[][] pendingHashes = new int[By.values().length][BATCH];
        final int[] pendingCount = new int[By.values().length];
        long pendingSlot = Long.MIN_VALUE;

        void pending(By by, String key) {
            int k = by.ordinal();
            // The store hashed the name already (String caches it): read now, not when the batch is counted and the name is cold.
            pendingHashes[k][pendingCount[k]] = key.hashCode();
            pending[k][pendingCount[k]++] = key;
            if (pendingCount[k] == BATCH) {
                flush(by);
            }
        }

        void flush() {
            for (By by : By.values()) {
                flush(by);
            }
        }

        private void flush(By by) {
            int k = by.ordinal();
            int n = pendingCount[k];
            if (n == 0) {
                return;
            }
            SpaceSaving s = current(by, pendingSlot);
            String[] keys = pending[k];
            int[] hashes = pendingHashes[k];
            for (int i = 0; i < n; i++) {
                s.add(keys[i], hashes[i]);
                keys[i] = null;
            }
            pendingCount[k] = 0;
        }

        SpaceSaving current(By by, long slot) {
            int at = (int) Math.floorMod(slot, (long) SLOTS);
            SpaceSaving s = sketches[by.ordinal()][at];
            if (s == null || epochs[by.ordinal()][at] != slot) {
                s = new SpaceSaving(CAPACITY);
                sketches[by.ordinal()][at] = s;
                epochs[by.ordinal()][at] = slot;
            }
            return s;
        }
    }
}
