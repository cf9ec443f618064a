package dev.sluice.server.observe;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The space-saving heavy-hitter sketch (Metwally, Agrawal and El Abbadi, 2005): at most
 * {@code capacity} counters, each a key with a count that never undercounts and an error, the most
 * the count may overcount. A key not monitored is counted as the smallest counter plus one, taking
 * that counter over. Every key whose true count exceeds {@code total / capacity} is monitored, and
 * every count is within {@code total / capacity} of the truth, in fixed memory however many keys
 * arrive. Counters sit in a binary min-heap indexed by key: O(log capacity) per update. Not
 * thread-safe; {@link TopKeys} guards it.
 */
final class SpaceSaving {

    /** One monitored key: its count (an upper bound) and how much of it may be someone else's. */
    static final class Counter {
        String key;
        long count;
        long error;
        int at;

        Counter(String key, long count, long error) {
            this.key = key;
            this.count = count;
            this.error = error;
        }
    }

    private final int capacity;
    private final Counter[] heap;
    private final Map<String, Counter> byKey;
    private int size;
    private long total;

    SpaceSaving(int capacity) {
        this.capacity = capacity;
        this.heap = new Counter[capacity];
        this.byKey = new HashMap<>();
    }

    void add(String key) {
        total++;
        Counter c = byKey.get(key);
        if (c != null) {
            c.count++;
            down(c.at);
            return;
        }
        if (size < capacity) {
            c = new Counter(key, 1, 0);
            c.at = size;
            heap[size++] = c;
            byKey.put(key, c);
            up(c.at);
            return;
        }
        // Take the smallest counter over: the new key may have been counted in it all along.
        Counter min = heap[0];
        byKey.remove(min.key);
        min.key = key;
        min.error = min.count;
        min.count++;
        byKey.put(key, min);
        down(0);
    }

    /** Keys counted, with repeats. */
    long total() {
        return total;
    }

    /** The most any key that is not monitored can have been counted: the smallest counter once all are in use, else 0. */
    long floor() {
        return size < capacity ? 0 : heap[0].count;
    }

    /** Every monitored key, in no order. */
    List<Counter> counters() {
        List<Counter> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            Counter c = heap[i];
            out.add(new Counter(c.key, c.count, c.error));
        }
        return out;
    }

    private void up(int i) {
        Counter c = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent].count <= c.count) {
                break;
            }
            place(heap[parent], i);
            i = parent;
        }
        place(c, i);
    }

    private void down(int i) {
        Counter c = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1].count < heap[child].count) {
                child++;
            }
            if (c.count <= heap[child].count) {
                break;
            }
            place(heap[child], i);
            i = child;
        }
        place(c, i);
    }

    private void place(Counter c, int i) {
        heap[i] = c;
        c.at = i;
    }
}
