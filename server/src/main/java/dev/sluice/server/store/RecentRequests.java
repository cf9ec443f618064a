package dev.sluice.server.store;

/**
 * The requests a bucket has applied recently, so that a retry of one of them (after a member
 * crashed mid-operation, or a client resent it) is answered without being applied twice.
 *
 * <p>A ring of {@code (request id hash, expiry | flags, marker)} triples in the order they were
 * applied, pruned by expiry and capped at {@link #MAX} entries. What bounds the number that
 * matter is concurrency, not rate: a retry races only the operations that were in flight when
 * its attempt failed. Mutable; owned by one {@link BucketRecord} and touched only on its
 * partition's thread.
 */
final class RecentRequests {

    /** At most this many requests are remembered per bucket; the oldest are forgotten first. */
    static final int MAX = 4096;

    /** The decision that was applied was to allow. */
    static final int ALLOWED = 1;
    /** The units were given back afterwards (another limit of the request denied it). */
    static final int REFUNDED = 2;
    private static final long FLAG_BITS = 3;

    private long[] slots;
    private int head;
    private int size;

    RecentRequests() {
        this.slots = new long[3 * 2];
    }

    int size() {
        return size;
    }

    /** Forgets every request whose memory ended before {@code now}. */
    void prune(long now) {
        while (size > 0 && expiry(head) <= now) {
            head = (head + 1) % capacity();
            size--;
        }
        if (size == 0) {
            head = 0;
        }
    }

    /** Position of {@code id}, or -1. */
    int find(long id) {
        int cap = capacity();
        for (int i = size - 1; i >= 0; i--) {
            int p = (head + i) % cap;
            if (slots[3 * p] == id) {
                return p;
            }
        }
        return -1;
    }

    int flags(int position) {
        return (int) (slots[3 * position + 1] & FLAG_BITS);
    }

    long marker(int position) {
        return slots[3 * position + 2];
    }

    void update(int position, int flags, long marker) {
        slots[3 * position + 1] = (slots[3 * position + 1] & ~FLAG_BITS) | flags;
        slots[3 * position + 2] = marker;
    }

    /** Remembers {@code id} until {@code expiresAt}; forgets the oldest when full. */
    void add(long id, long expiresAt, int flags, long marker) {
        if (size == capacity()) {
            if (capacity() < MAX) {
                grow();
            } else {
                head = (head + 1) % capacity();
                size--;
            }
        }
        int p = (head + size) % capacity();
        slots[3 * p] = id;
        slots[3 * p + 1] = (expiresAt & ~FLAG_BITS) | flags;
        slots[3 * p + 2] = marker;
        size++;
    }

    /** Applies what the owner did for {@code id}: a new entry, or new flags for a known one. */
    void record(long id, long now, long expiresAt, int flags, long marker) {
        prune(now);
        int p = find(id);
        if (p >= 0) {
            update(p, flags, marker);
        } else {
            add(id, expiresAt, flags, marker);
        }
    }

    private long expiry(int position) {
        return slots[3 * position + 1] & ~FLAG_BITS;
    }

    private int capacity() {
        return slots.length / 3;
    }

    private void grow() {
        int cap = capacity();
        long[] bigger = new long[3 * Math.min(MAX, cap * 2)];
        for (int i = 0; i < size; i++) {
            System.arraycopy(slots, 3 * ((head + i) % cap), bigger, 3 * i, 3);
        }
        slots = bigger;
        head = 0;
    }

    /** The entries oldest first, as triples, for the wire. */
    long[] toArray() {
        long[] out = new long[3 * size];
        int cap = capacity();
        for (int i = 0; i < size; i++) {
            System.arraycopy(slots, 3 * ((head + i) % cap), out, 3 * i, 3);
        }
        return out;
    }

    static RecentRequests fromArray(long[] triples) {
        RecentRequests r = new RecentRequests();
        int n = triples.length / 3;
        int cap = 2;
        while (cap < n) {
            cap *= 2;
        }
        r.slots = new long[3 * Math.min(MAX, Math.max(cap, 2))];
        System.arraycopy(triples, 0, r.slots, 0, Math.min(triples.length, r.slots.length));
        r.size = Math.min(n, MAX);
        return r;
    }
}
