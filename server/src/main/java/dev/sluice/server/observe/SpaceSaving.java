package dev.sluice.server.observe;

import java.util.ArrayList;
import java.util.List;

/**
 * The space-saving heavy-hitter sketch (Metwally, Agrawal and El Abbadi, 2005): at most
 * {@code capacity} counters, each a key with a count that never undercounts and an error, the most
 * the count may overcount. A key not monitored is counted as the smallest counter plus one, taking
 * that counter over. Every key whose true count exceeds {@code total / capacity} is monitored, and
 * every count is within {@code total / capacity} of the truth, in fixed memory however many keys
 * arrive.
 *
 * <p>Laid out for the CPU's caches, since every decision counts its buckets: counters live in
 * arrays indexed by counter number, found through an open-addressing table of counter numbers
 * (linear probing, at most half full), ordered by a binary min-heap of counter numbers. An update
 * allocates nothing; O(log capacity). Not thread-safe; {@link TopKeys} gives each thread its own.
 */
final class SpaceSaving {

    /** One monitored key: its count (an upper bound) and how much of it may be someone else's. */
    record Counter(String key, long count, long error) {
    }

    private final int capacity;
    private final String[] keys;
    private final int[] hashes;
    private final long[] counts;
    private final long[] errors;
    /** Where each counter sits in the heap. */
    private final int[] heapAt;
    /** Counter numbers, the smallest count first. */
    private final int[] heap;
    /** Counter number + 1 for each slot; 0 is empty. */
    private final int[] table;
    private final int mask;
    private int size;
    private long total;

    SpaceSaving(int capacity) {
        this.capacity = capacity;
        this.keys = new String[capacity];
        this.hashes = new int[capacity];
        this.counts = new long[capacity];
        this.errors = new long[capacity];
        this.heapAt = new int[capacity];
        this.heap = new int[capacity];
        int slots = Integer.highestOneBit(Math.max(2, capacity) * 2 - 1) * 2;
        this.table = new int[slots];
        this.mask = slots - 1;
    }

    void add(String key) {
        add(key, key.hashCode());
    }

    /** {@link #add(String)} with the key's {@link String#hashCode()}, read while the key was still in the CPU's caches. */
    void add(String key, int hashCode) {
        total++;
        int h = spread(hashCode);
        int slot = find(key, h);
        if (table[slot] != 0) {
            int c = table[slot] - 1;
            counts[c]++;
            down(heapAt[c]);
            return;
        }
        int c;
        boolean replaced = size == capacity;
        if (!replaced) {
            c = size++;
            counts[c] = 1;
            errors[c] = 0;
            heap[c] = c;
            heapAt[c] = c;
        } else {
            // Take the smallest counter over: the new key may have been counted in it all along.
            c = heap[0];
            delete(c);
            slot = find(key, h);
            errors[c] = counts[c];
            counts[c]++;
        }
        keys[c] = key;
        hashes[c] = h;
        table[slot] = c + 1;
        if (replaced) {
            down(0);
        } else {
            up(heapAt[c]);
        }
    }

    /** Keys counted, with repeats. */
    long total() {
        return total;
    }

    /** The most any key that is not monitored can have been counted: the smallest counter once all are in use, else 0. */
    long floor() {
        return size < capacity ? 0 : counts[heap[0]];
    }

    /** Every monitored key, in no order. */
    List<Counter> counters() {
        List<Counter> out = new ArrayList<>(size);
        for (int c = 0; c < size; c++) {
            out.add(new Counter(keys[c], counts[c], errors[c]));
        }
        return out;
    }

    private static int spread(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** The slot holding {@code key}, or the empty slot where it would go. */
    private int find(String key, int h) {
        int i = h & mask;
        while (true) {
            int t = table[i];
            if (t == 0) {
                return i;
            }
            int c = t - 1;
            if (hashes[c] == h && keys[c].equals(key)) {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /**
     * Removes counter {@code c} from the table, shifting back the entries after it so that every one
     * stays reachable. It is found by its number, from its key's home slot: its key is not read.
     */
    private void delete(int c) {
        int i = hashes[c] & mask;
        while (table[i] != c + 1) {
            i = (i + 1) & mask;
        }
        table[i] = 0;
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            int t = table[j];
            if (t == 0) {
                return;
            }
            int home = hashes[t - 1] & mask;
            // The entry at j may move to the hole at i when its home is not within (i, j].
            boolean between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!between) {
                table[i] = t;
                table[j] = 0;
                i = j;
            }
        }
    }

    private void up(int at) {
        int c = heap[at];
        while (at > 0) {
            int parent = (at - 1) >>> 1;
            if (counts[heap[parent]] <= counts[c]) {
                break;
            }
            place(heap[parent], at);
            at = parent;
        }
        place(c, at);
    }

    private void down(int at) {
        int c = heap[at];
        while (true) {
            int child = 2 * at + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && counts[heap[child + 1]] < counts[heap[child]]) {
                child++;
            }
            if (counts[c] <= counts[heap[child]]) {
                break;
            }
            place(heap[child], at);
            at = child;
        }
        place(c, at);
    }

    private void place(int c, int at) {
        heap[at] = c;
        heapAt[c] = at;
    }
}
