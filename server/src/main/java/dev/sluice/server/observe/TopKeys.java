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
    private final ConcurrentHashMap<String, Domain> domains = new ConcurrentHashMap<>();

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
        Domain d = domains.get(domain);
        if (d == null) {
            d = domains.computeIfAbsent(domain, k -> new Domain());
        }
        long slot = Math.floorDiv(nowNanos, SLOT_NANOS);
        List<LimitResult> results = verdict.results();
        synchronized (d) {
            SpaceSaving requests = d.current(By.REQUESTS, slot);
            SpaceSaving denials = null;
            for (int i = 0; i < results.size(); i++) {
                LimitResult r = results.get(i);
                requests.add(r.limit().bucketKey());
                if (!r.allowed()) {
                    if (denials == null) {
                        denials = d.current(By.DENIALS, slot);
                    }
                    denials.add(r.limit().bucketKey());
                }
            }
        }
    }

    /** This member's summary of {@code domain} over the last minute before {@code nowNanos}: every key its sketches monitor. */
    public KeyCounts summary(String domain, By by, long nowNanos) {
        Domain d = domains.get(domain);
        if (d == null) {
            return KeyCounts.EMPTY;
        }
        long slot = Math.floorDiv(nowNanos, SLOT_NANOS);
        List<KeyCounts> parts = new ArrayList<>(SLOTS);
        synchronized (d) {
            for (int i = 0; i < SLOTS; i++) {
                SpaceSaving s = d.sketches[by.ordinal()][i];
                long epoch = d.epochs[by.ordinal()][i];
                if (s == null || epoch <= slot - SLOTS || epoch > slot) {
                    continue;
                }
                List<KeyCounts.Entry> entries = new ArrayList<>();
                for (SpaceSaving.Counter c : s.counters()) {
                    entries.add(new KeyCounts.Entry(c.key, c.count, c.error));
                }
                parts.add(new KeyCounts(entries, s.floor(), s.total(), s.total() / CAPACITY));
            }
        }
        return KeyCounts.merge(parts, Integer.MAX_VALUE);
    }

    /** One domain's slots: a ring of sketches per kind, each with the slot number it counts. */
    private static final class Domain {
        final SpaceSaving[][] sketches = new SpaceSaving[By.values().length][SLOTS];
        final long[][] epochs = new long[By.values().length][SLOTS];

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
