package dev.sluice.server.observe;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The heaviest keys of a stream as a sketch summarised them: each listed key with a count that
 * never undercounts and an error (its true count is in {@code [count - error, count]}), the most
 * any key not listed may have been counted ({@code floor}), how many were counted in all, and the
 * error the sketches guarantee for every key ({@code bound}). Summaries of disjoint streams (one
 * member's requests and another's, one time slot and the next) merge into a summary of the whole
 * with the same guarantees: a key missing from one summary may have up to that summary's floor
 * there, which the merged count adds and the merged error allows for.
 */
public record KeyCounts(List<Entry> entries, long floor, long total, long bound) {

    /** One key, with its count (an upper bound) and how much of that count may be other keys'. */
    public record Entry(String key, long count, long error) {

        /** The least its true count can be. */
        public long guaranteed() {
            return count - error;
        }
    }

    public static final KeyCounts EMPTY = new KeyCounts(List.of(), 0, 0, 0);

    /** Merges summaries of disjoint streams, keeping the {@code n} keys with the highest counts. */
    public static KeyCounts merge(List<KeyCounts> parts, int n) {
        Map<String, long[]> upperLower = new HashMap<>();
        long floors = 0;
        long total = 0;
        long bound = 0;
        for (KeyCounts p : parts) {
            floors += p.floor;
            total += p.total;
            bound += p.bound;
        }
        for (KeyCounts p : parts) {
            for (Entry e : p.entries) {
                // Start from every summary's floor, then replace this summary's with what it counted.
                long start = floors;
                long[] ul = upperLower.computeIfAbsent(e.key, k -> new long[] {start, 0});
                ul[0] += e.count - p.floor;
                ul[1] += e.guaranteed();
            }
        }
        List<Entry> merged = new ArrayList<>(upperLower.size());
        upperLower.forEach((key, ul) -> merged.add(new Entry(key, ul[0], ul[0] - ul[1])));
        merged.sort(Comparator.comparingLong(Entry::count).reversed().thenComparing(Entry::key));
        long floor = floors;
        if (merged.size() > n) {
            // A key cut from the list may have been counted as much as the highest one cut.
            floor = Math.max(floor, merged.get(n).count);
        }
        return new KeyCounts(List.copyOf(merged.subList(0, Math.min(n, merged.size()))), floor, total, bound);
    }
}
