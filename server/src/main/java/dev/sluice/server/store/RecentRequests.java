package dev.sluice.server.store;

/**
 * The requests a bucket has applied recently, so that a retry of one of them (after a member
 * crashed mid-operation, or a client resent it) is answered without being applied twice.
 *
 * <p>A ring of {@code (request id hash, expiry | flags, marker)} triples in the order they were
 * applied, forgotten when their memory time ends. The bound is time, not count: a retry can come
 * seconds after its first attempt (Hazelcast reports a missing backup acknowledgement only after
 * its backup timeout, {@link BucketStore#BACKUP_TIMEOUT_MILLIS}), and a hot bucket applies thousands of requests in that
 * time, so a ring capped by count forgets exactly the requests a retry needs. Memory therefore
 * follows the bucket's rate: about {@value #BYTES_PER_ENTRY} bytes per request applied within
 * the memory time, with {@link #MAX} entries as a last guard. Small rings are searched in order;
 * larger ones keep an open-addressing index from id to position, so a lookup stays O(1) on a hot
 * bucket. The arrays shrink again when the rate drops.
 *
 * <p>The units each request was charged are kept beside the triples for a cost settled after the
 * fact ({@link BucketUpdate#settle}): in an array made only once a request of a cost other than 1
 * is remembered, so buckets of unit costs pay nothing for it.
 *
 * <p>Mutable; owned by one {@link BucketRecord} and touched only on its partition's thread.
 */
final class RecentRequests {

    /** A guard, not a policy: a bucket forgets its oldest requests beyond this many. */
    static final int MAX = 1 << 22;

    /** Heap per remembered request once the ring is indexed: the triple, and two index slots. */
    static final int BYTES_PER_ENTRY = 32;

    /** The decision that was applied was to allow. */
    static final int ALLOWED = 1;
    /** The units were given back afterwards (another limit of the request denied it). */
    static final int REFUNDED = 2;
    /** Its cost was settled after the fact ({@link BucketUpdate#settle}): a second settle changes nothing. */
    static final int SETTLED = 4;
    private static final long FLAG_BITS = 7;

    /** Rings up to this capacity are searched in order and carry no index. */
    private static final int INDEX_FROM = 16;
    private static final int MIN_CAPACITY = 2;

    private long[] slots;
    private int head;
    private int size;
    /** Position + 1 of each entry, open addressing with linear probing; 0 is empty. Null while small. */
    private int[] index;
    /** Units charged to each entry, by position; {@code null} while every entry's is 1. */
    private long[] costs;

    RecentRequests() {
        this.slots = new long[3 * MIN_CAPACITY];
    }

    int size() {
        return size;
    }

    /** Forgets every request whose memory ended at or before {@code now}; gives back space a quieter bucket no longer needs. */
    void prune(long now) {
        while (size > 0 && expiry(head) <= now) {
            dropOldest();
        }
        if (size == 0) {
            head = 0;
        }
        int cap = capacity();
        if (cap > INDEX_FROM && size < cap / 4) {
            resize(Math.max(MIN_CAPACITY, cap / 2));
        }
    }

    /** Requests still remembered at {@code now}, counted without forgetting any. */
    int rememberedAt(long now) {
        int live = 0;
        for (int i = 0; i < size; i++) {
            if (expiry((head + i) & (capacity() - 1)) > now) {
                live++;
            }
        }
        return live;
    }

    /** Position of {@code id}, or -1. */
    int find(long id) {
        if (index == null) {
            int mask = capacity() - 1;
            for (int i = size - 1; i >= 0; i--) {
                int p = (head + i) & mask;
                if (slots[3 * p] == id) {
                    return p;
                }
            }
            return -1;
        }
        int mask = index.length - 1;
        for (int h = hash(id) & mask; index[h] != 0; h = (h + 1) & mask) {
            int p = index[h] - 1;
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

    /** Units the request at {@code position} was charged. */
    long cost(int position) {
        return costs == null ? 1 : costs[position];
    }

    void update(int position, int flags, long marker) {
        slots[3 * position + 1] = (slots[3 * position + 1] & ~FLAG_BITS) | flags;
        slots[3 * position + 2] = marker;
    }

    /** Remembers {@code id}, charged {@code cost}, until {@code expiresAt}; forgets the oldest only past {@link #MAX}. */
    void add(long id, long expiresAt, int flags, long marker, long cost) {
        if (size == capacity()) {
            if (capacity() < MAX) {
                resize(capacity() * 2);
            } else {
                dropOldest();
            }
        }
        int p = (head + size) & (capacity() - 1);
        slots[3 * p] = id;
        slots[3 * p + 1] = (expiresAt & ~FLAG_BITS) | flags;
        slots[3 * p + 2] = marker;
        if (cost != 1 && costs == null) {
            costs = new long[capacity()];
            java.util.Arrays.fill(costs, 1);
        }
        if (costs != null) {
            costs[p] = cost;
        }
        size++;
        if (index != null) {
            insert(p);
        }
    }

    /** Applies what the owner did for {@code id}: a new entry, or new flags for a known one. */
    void record(long id, long now, long expiresAt, int flags, long marker, long cost) {
        prune(now);
        int p = find(id);
        if (p >= 0) {
            update(p, flags, marker);
        } else {
            add(id, expiresAt, flags, marker, cost);
        }
    }

    private void dropOldest() {
        if (index != null) {
            remove(head);
        }
        head = (head + 1) & (capacity() - 1);
        size--;
    }

    private long expiry(int position) {
        return slots[3 * position + 1] & ~FLAG_BITS;
    }

    private int capacity() {
        return slots.length / 3;
    }

    /** Moves the entries, oldest first, into arrays for {@code capacity} entries (a power of two, at least size). */
    private void resize(int capacity) {
        int cap = capacity();
        long[] moved = new long[3 * capacity];
        long[] movedCosts = costs == null ? null : new long[capacity];
        for (int i = 0; i < size; i++) {
            int from = (head + i) & (cap - 1);
            System.arraycopy(slots, 3 * from, moved, 3 * i, 3);
            if (movedCosts != null) {
                movedCosts[i] = costs[from];
            }
        }
        if (movedCosts != null) {
            java.util.Arrays.fill(movedCosts, size, capacity, 1);
        }
        slots = moved;
        costs = movedCosts;
        head = 0;
        reindex();
    }

    private void reindex() {
        int cap = capacity();
        if (cap <= INDEX_FROM) {
            index = null;
            return;
        }
        index = new int[2 * cap];
        for (int i = 0; i < size; i++) {
            insert((head + i) & (cap - 1));
        }
    }

    private void insert(int position) {
        int mask = index.length - 1;
        int h = hash(slots[3 * position]) & mask;
        while (index[h] != 0) {
            h = (h + 1) & mask;
        }
        index[h] = position + 1;
    }

    /** Removes {@code position} from the index, shifting later entries of its probe run back into the gap. */
    private void remove(int position) {
        int mask = index.length - 1;
        int h = hash(slots[3 * position]) & mask;
        while (index[h] != position + 1) {
            h = (h + 1) & mask;
        }
        int gap = h;
        for (int j = (gap + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
            int home = hash(slots[3 * (index[j] - 1)]) & mask;
            // The entry at j may fill the gap only if its home is not cyclically within (gap, j].
            boolean homeAfterGap = gap <= j ? (home > gap && home <= j) : (home > gap || home <= j);
            if (!homeAfterGap) {
                index[gap] = index[j];
                gap = j;
            }
        }
        index[gap] = 0;
    }

    private static int hash(long id) {
        // Ids are already spread by RequestIds; fold the halves and mix once more for test ids.
        long h = id * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    /** The entries oldest first, as triples, for the wire. */
    long[] toArray() {
        long[] out = new long[3 * size];
        int cap = capacity();
        for (int i = 0; i < size; i++) {
            System.arraycopy(slots, 3 * ((head + i) & (cap - 1)), out, 3 * i, 3);
        }
        return out;
    }

    /** The costs of the entries oldest first, for the wire; {@code null} when every one is 1. */
    long[] costsToArray() {
        if (costs == null) {
            return null;
        }
        long[] out = new long[size];
        int cap = capacity();
        for (int i = 0; i < size; i++) {
            out[i] = costs[(head + i) & (cap - 1)];
        }
        return out;
    }

    /** The entries {@link #toArray()} and {@link #costsToArray()} wrote ({@code costs} may be {@code null}). */
    static RecentRequests fromArray(long[] triples, long[] costs) {
        RecentRequests r = new RecentRequests();
        int n = Math.min(triples.length / 3, MAX);
        int skip = triples.length / 3 - n;
        int cap = MIN_CAPACITY;
        while (cap < n) {
            cap *= 2;
        }
        r.slots = new long[3 * cap];
        System.arraycopy(triples, 3 * skip, r.slots, 0, 3 * n);
        if (costs != null && costs.length == triples.length / 3) {
            r.costs = new long[cap];
            java.util.Arrays.fill(r.costs, 1);
            System.arraycopy(costs, skip, r.costs, 0, n);
        }
        r.size = n;
        r.reindex();
        return r;
    }
}
