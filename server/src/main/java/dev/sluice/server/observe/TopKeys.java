package dev.sluice.server.observe;

import dev.sluice.server.engine.LimitResult;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.engine.Verdict;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The heaviest buckets of each domain over the last minute, on this member's monotonic clock: for
 * every bucket an admitted request asks (requests) and every bucket that denied one (denials), a {@link SpaceSaving} sketch
 * per domain and per ten-second slot, six slots kept, so a question covers the last 50 to 60
 * seconds. Bounded memory whatever the keys: at most {@link #CAPACITY} counters per sketch, two
 * sketches per slot, six slots per domain, and domains come from the policy. Members' summaries
 * merge ({@link KeyCounts#merge}) into the cluster's; nothing scans the bucket map.
 *
 * <p>Each thread that admits or concludes decisions counts into sketches of its own, so counting never
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

    /**
     * Counts a request of {@code domain} as it is admitted: each of the buckets its limits name,
     * once. Counted here, on the thread that just built the names, rather than when the decision
     * completes: the names are still in the CPU's caches, and their hashes, computed here, are the
     * ones the store's lookup then finds cached.
     */
    public void requested(String domain, List<AppliedLimit> limits) {
        if (on && !limits.isEmpty()) {
            requested(domain, limits, System.nanoTime());
        }
    }

    /** {@link #requested(String, List)} at {@code nowNanos} (this member's monotonic clock, as {@link System#nanoTime()}). */
    public void requested(String domain, List<AppliedLimit> limits, long nowNanos) {
        if (!on || limits.isEmpty()) {
            return;
        }
        Domain d = domain(domain);
        synchronized (d) {
            d.at(Math.floorDiv(nowNanos, SLOT_NANOS));
            for (int i = 0; i < limits.size(); i++) {
                d.pending(By.REQUESTS, limits.get(i).bucketKey());
            }
        }
    }

    /** Counts the buckets that denied a decided request of {@code domain}, shadow limits' included; nothing when none did. */
    public void decided(String domain, Verdict verdict) {
        if (on && denies(verdict)) {
            decided(domain, verdict, System.nanoTime());
        }
    }

    /** {@link #decided(String, Verdict)} at {@code nowNanos}. */
    public void decided(String domain, Verdict verdict, long nowNanos) {
        if (!on || !denies(verdict)) {
            return;
        }
        Domain d = domain(domain);
        List<LimitResult> results = verdict.results();
        synchronized (d) {
            d.at(Math.floorDiv(nowNanos, SLOT_NANOS));
            for (int i = 0; i < results.size(); i++) {
                if (!results.get(i).allowed()) {
                    d.pending(By.DENIALS, results.get(i).limit().bucketKey());
                }
            }
        }
    }

    /** Both at once, as a test counts a decision: its buckets as requested, and those that denied. */
    public void record(String domain, Verdict verdict, long nowNanos) {
        List<AppliedLimit> limits = new ArrayList<>(verdict.results().size());
        verdict.results().forEach(r -> limits.add(r.limit()));
        requested(domain, limits, nowNanos);
        decided(domain, verdict, nowNanos);
    }

    private static boolean denies(Verdict verdict) {
        List<LimitResult> results = verdict.results();
        for (int i = 0; i < results.size(); i++) {
            if (!results.get(i).allowed()) {
                return true;
            }
        }
        return false;
    }

    /** This thread's sketches of {@code domain}. */
    private Domain domain(String domain) {
        Threads t = domains.get(domain);
        if (t == null) {
            t = domains.computeIfAbsent(domain, k -> new Threads());
        }
        return t.forThisThread();
    }

    /** This member's summary of {@code domain} over the last minute, now. */
    public KeyCounts summary(String domain, By by) {
        return summary(domain, by, System.nanoTime());
    }

    /** This member's summary of {@code domain} over the last minute before {@code nowNanos} (its monotonic clock): every key its sketches monitor. */
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

        /** Moves to {@code slot}, counting what is pending in the slot it was in. */
        void at(long slot) {
            if (slot != pendingSlot) {
                flush();
                pendingSlot = slot;
            }
        }

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
