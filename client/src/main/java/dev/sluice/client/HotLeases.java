package dev.sluice.client;

import com.google.protobuf.Duration;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Header;
import dev.sluice.api.v1.LeaseRequest;
import dev.sluice.api.v1.LeaseResponse;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.api.v1.SettleRequest;
import dev.sluice.api.v1.SettleResponse;
import io.grpc.Status;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Exact token leases for hot keys: once a combination of domain and descriptors is asked for
 * more often than a threshold, the client asks a node for a lease of units ({@code Lease}),
 * taken from every bucket of the request at once and spent the moment they are taken, and
 * decides that combination's requests itself until the units run out or the lease's time ends
 * (a short time, never past the end of a window the units count in). What is left is given back
 * with {@code Settle}. A client that dies holding a lease has simply spent its units: leases never
 * admit more than the limits do; what they may cost is units held and unused, which this class
 * keeps small (a lease is sized to the combination's rate over the lease's time, and at most an
 * eighth of what the buckets had left) and reports ({@link #heldUnits()}).
 *
 * <p>An answer decided from a lease repeats the node's answer to the lease with each limit's
 * remaining units counted down: the bucket's remaining when leased, less what this client has
 * spent of the lease since.
 */
final class HotLeases {

    /** A combination tracked for its rate; at most this many, the rest are simply asked remotely. */
    static final int MAX_TRACKED = 4096;
    /** Rate is counted in slots of this length. */
    private static final long SLOT_NANOS = 100_000_000L;
    /** A lease shorter than this is given back at once: not worth deciding from. */
    private static final long SHORTEST_USEFUL_NANOS = 1_000_000L;
    /** A lease takes at most this share of what the buckets had left, so a nearly empty bucket is not locked up in one client. */
    static final int SHARE_OF_REMAINING = 8;

    /** A combination of domain and descriptors: what a lease decides for, whatever each request's cost. */
    private record Combination(String domain, Map<String, String> descriptors) {
    }

    /** How the leases reach the nodes: the client's idempotent calls. */
    interface Calls {
        void lease(LeaseRequest request, CompletableFuture<LeaseResponse> done);

        void settle(SettleRequest request, CompletableFuture<SettleResponse> done);
    }

    private final Calls calls;
    private final double threshold;
    private final long leaseNanos;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService timer;
    private final RequestIds ids;
    private final Map<Combination, Key> keys = new ConcurrentHashMap<>();
    private final AtomicLong held = new AtomicLong();
    private final LongAdder decidedLocally = new LongAdder();
    private final LongAdder leasesGranted = new LongAdder();
    private final LongAdder unitsNotGivenBack = new LongAdder();
    /** When cold combinations were last let go: at most once a rate slot, however many new ones arrive. */
    private final AtomicLong lastForgotten = new AtomicLong(Long.MIN_VALUE);
    /** Leases granted and not yet given back, with their combination's key. */
    private final Map<Lease, Key> open = new ConcurrentHashMap<>();

    HotLeases(Calls calls, double requestsPerSecond, java.time.Duration leaseFor, LongSupplier nanoTime, ScheduledExecutorService timer,
              RequestIds ids) {
        this.calls = calls;
        this.threshold = requestsPerSecond;
        this.leaseNanos = leaseFor.toNanos();
        this.nanoTime = nanoTime;
        this.timer = timer;
        this.ids = ids;
    }

    /** Units this client holds in leases now, neither used nor given back: what leases may keep from others. */
    long heldUnits() {
        return held.get();
    }

    /** Requests decided from leases, since the client was built. */
    long decidedLocally() {
        return decidedLocally.sum();
    }

    /** Leases granted, since the client was built. */
    long leasesGranted() {
        return leasesGranted.sum();
    }

    /** Units of leases whose rest could not be given back (no node answered): spent, never over-admitted. */
    long unitsNotGivenBack() {
        return unitsNotGivenBack.sum();
    }

    /** The answer for {@code request} decided from a lease, or {@code null} to ask a node; counts the request toward its combination's rate. */
    AcquireResult local(Acquire request) {
        Combination c = new Combination(request.domain(), request.descriptors());
        Key k = keys.get(c);
        if (k == null) {
            if (keys.size() >= MAX_TRACKED) {
                forgetCold();
                if (keys.size() >= MAX_TRACKED) {
                    return null;
                }
            }
            k = keys.computeIfAbsent(c, Key::new);
        }
        long now = nanoTime.getAsLong();
        Lease from = null;
        long used = 0;
        List<Lease> retired = null;
        synchronized (k) {
            k.count(now);
            while (k.lease != null) {
                Lease l = k.lease;
                if (now - l.expiresAt < 0 && l.used + request.cost() <= l.units) {
                    l.used += request.cost();
                    used = l.used;
                    from = l;
                    break;
                }
                // Spent or run out: the next lease, asked for ahead, takes over.
                k.lease = k.next;
                k.next = null;
                if (retired == null) {
                    retired = new ArrayList<>(2);
                }
                retired.add(l);
            }
            if (!k.leasing && !k.unleasable && k.rate >= threshold
                    && (k.lease == null || k.next == null && (2 * k.lease.used >= k.lease.units || now - k.lease.halfway >= 0))) {
                // Asked for before this one is spent, so the key's requests do not all go to a node while a lease is on the wire.
                startLease(k, now);
            }
        }
        if (retired != null) {
            retired.forEach(this::giveBack);
        }
        if (from == null) {
            return null;
        }
        held.addAndGet(-request.cost());
        decidedLocally.increment();
        return from.answer(used, now);
    }

    /** Learns from a node's answer to a request of a tracked combination what its buckets have left. */
    void observed(Acquire request, AcquireResult result) {
        if (result == null || result.source() != AcquireResult.Source.SERVER) {
            return;
        }
        Key k = keys.get(new Combination(request.domain(), request.descriptors()));
        if (k == null) {
            return;
        }
        long least = Long.MAX_VALUE;
        long most = Long.MAX_VALUE;
        for (LimitState l : result.limits()) {
            least = Math.min(least, l.remaining());
            most = Math.min(most, l.limit());
        }
        synchronized (k) {
            k.remaining = result.allowed() ? least : 0;
            k.most = most;
            k.unleasable |= result.countsInFlight() || result.limits().isEmpty();
        }
    }

    /** Asks for a lease for {@code k}, sized to its rate over a lease's time and what its buckets had left. Holds k's lock. */
    private void startLease(Key k, long now) {
        long want = (long) Math.ceil(k.rate * leaseNanos / 1e9 * 1.25);
        long units = Math.min(want, Math.min(k.remaining / SHARE_OF_REMAINING, k.most));
        if (units < 2) {
            return;
        }
        k.leasing = true;
        String id = ids.next();
        LeaseRequest ask = LeaseRequest.newBuilder().setDomain(k.combination.domain()).putAllDescriptors(k.combination.descriptors())
                .setUnits(units).setRequestId(id)
                .setValidFor(Duration.newBuilder().setSeconds(leaseNanos / 1_000_000_000L).setNanos((int) (leaseNanos % 1_000_000_000L)))
                .build();
        CompletableFuture<LeaseResponse> done = new CompletableFuture<>();
        done.whenComplete((r, e) -> granted(k, id, now, r, e));
        calls.lease(ask, done);
    }

    private void granted(Key k, String id, long sentAt, LeaseResponse r, Throwable e) {
        if (e != null) {
            Status.Code code = Status.fromThrowable(e).getCode();
            synchronized (k) {
                k.leasing = false;
                k.unleasable |= code == Status.Code.FAILED_PRECONDITION;
            }
            if (code == Status.Code.DEADLINE_EXCEEDED || code == Status.Code.UNAVAILABLE || code == Status.Code.CANCELLED) {
                // The node may have taken the units before the answer was lost: give them all back
                // (a request it never took is refused, harmlessly, as forgotten).
                CompletableFuture<SettleResponse> back = new CompletableFuture<>();
                calls.settle(SettleRequest.newBuilder().setDomain(k.combination.domain()).putAllDescriptors(k.combination.descriptors())
                        .setRequestId(id).setActualCost(0).build(), back);
            }
            return;
        }
        long validFor = r.getValidFor().getSeconds() * 1_000_000_000L + r.getValidFor().getNanos();
        long least = Long.MAX_VALUE;
        for (LimitStatus l : r.getAnswer().getLimitsList()) {
            least = Math.min(least, l.getRemaining());
        }
        if (!r.getGranted()) {
            synchronized (k) {
                k.leasing = false;
                k.remaining = 0;
            }
            return;
        }
        leasesGranted.increment();
        held.addAndGet(r.getUnits());
        // Counted from when the lease was asked for: the node decided after that, so the lease
        // never outlives what the node allowed (a window's end) on this client's clock either.
        Lease lease = new Lease(k, id, r.getUnits(), sentAt, sentAt + validFor, r.getAnswer());
        open.put(lease, k);
        boolean kept = validFor >= SHORTEST_USEFUL_NANOS;
        synchronized (k) {
            k.leasing = false;
            k.remaining = least;
            if (kept && k.lease == null) {
                k.lease = lease;
            } else if (kept && k.next == null) {
                k.next = lease;
            } else {
                kept = false;
            }
        }
        if (!kept) {
            giveBack(lease);
            return;
        }
        try {
            timer.schedule(() -> expire(k, lease), Math.max(0, sentAt + validFor - nanoTime.getAsLong()), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            expire(k, lease);
        }
    }

    /** Ends {@code lease} when its time is up and nobody asked since: its rest goes back. */
    private void expire(Key k, Lease lease) {
        synchronized (k) {
            if (k.lease == lease) {
                k.lease = k.next;
                k.next = null;
            } else if (k.next == lease) {
                k.next = null;
            } else {
                return;
            }
        }
        giveBack(lease);
    }

    /** Gives back what {@code lease} did not use: Settle with the units used as its actual cost. Once per lease. */
    private void giveBack(Lease lease) {
        Key k = lease.key;
        if (open.remove(lease) == null) {
            return;
        }
        long used;
        synchronized (k) {
            used = lease.used;
        }
        long rest = lease.units - used;
        held.addAndGet(-rest);
        if (rest == 0) {
            return;
        }
        CompletableFuture<SettleResponse> done = new CompletableFuture<>();
        done.whenComplete((r, e) -> {
            if (e != null) {
                unitsNotGivenBack.add(rest);
            }
        });
        lease.back = done;
        calls.settle(SettleRequest.newBuilder().setDomain(k.combination.domain()).putAllDescriptors(k.combination.descriptors())
                .setRequestId(lease.requestId).setActualCost(used).build(), done);
    }

    /** Ends every lease, giving back what each did not use; completes when the nodes have answered. */
    CompletableFuture<Void> close() {
        List<CompletableFuture<SettleResponse>> backs = new ArrayList<>();
        for (Lease l : new ArrayList<>(open.keySet())) {
            Key k = l.key;
            synchronized (k) {
                if (k.lease == l) {
                    k.lease = null;
                }
                if (k.next == l) {
                    k.next = null;
                }
            }
            giveBack(l);
            if (l.back != null) {
                backs.add(l.back);
            }
        }
        return CompletableFuture.allOf(backs.toArray(CompletableFuture[]::new)).exceptionally(t -> null);
    }

    /** Stops tracking combinations that are neither hot nor leased; at most once a rate slot (a full table is looked through each time). */
    private void forgetCold() {
        long now = nanoTime.getAsLong();
        long last = lastForgotten.get();
        if (last != Long.MIN_VALUE && now - last < SLOT_NANOS || !lastForgotten.compareAndSet(last, now)) {
            return;
        }
        keys.values().removeIf(k -> {
            synchronized (k) {
                k.count(now);
                return k.lease == null && k.next == null && !k.leasing && k.rate < threshold / 10;
            }
        });
    }

    /** A tracked combination: its rate, what its buckets had left, its lease. Guarded by itself. */
    private static final class Key {
        final Combination combination;
        long slotStart;
        int inSlot;
        /** Requests a second, from the last full slot. */
        double rate;
        /** The fewest units any of its buckets had left, as last heard; 0 until a node has answered. */
        long remaining;
        /** The smallest limit's most at once. */
        long most = Long.MAX_VALUE;
        boolean leasing;
        /** A node refused to lease it (a limit whose units cannot be leased), or a concurrency limit applies. */
        boolean unleasable;
        /** The lease decided from, and the one asked for ahead of its end. */
        Lease lease;
        Lease next;

        Key(Combination combination) {
            this.combination = combination;
        }

        void count(long now) {
            long slots = (now - slotStart) / SLOT_NANOS;
            if (slots >= 1) {
                rate = slots == 1 ? inSlot * (1e9 / SLOT_NANOS) : 0;
                slotStart = now;
                inSlot = 0;
            }
            inSlot++;
        }
    }

    /** Units taken for a combination, spent locally until they run out or their time ends. */
    private static final class Lease {
        final Key key;
        final String requestId;
        final long units;
        /** When it was asked for: the node's answer is at least this old. */
        final long sentAt;
        /** Past half its time, the next lease is asked for. */
        final long halfway;
        final long expiresAt;
        final AcquireResponse answer;
        final long[] remainingAfter;
        final long[] limit;
        /** Guarded by the lease's key. */
        long used;
        volatile CompletableFuture<SettleResponse> back;

        Lease(Key key, String requestId, long units, long sentAt, long expiresAt, AcquireResponse answer) {
            this.key = key;
            this.requestId = requestId;
            this.units = units;
            this.sentAt = sentAt;
            this.halfway = sentAt + (expiresAt - sentAt) / 2;
            this.expiresAt = expiresAt;
            this.answer = answer;
            this.remainingAfter = new long[answer.getLimitsCount()];
            this.limit = new long[answer.getLimitsCount()];
            for (int i = 0; i < remainingAfter.length; i++) {
                remainingAfter[i] = answer.getLimits(i).getRemaining();
                limit[i] = answer.getLimits(i).getLimit();
            }
        }

        /** The answer to a request decided from this lease at {@code now}, once {@code used} of its units are spent. */
        AcquireResult answer(long used, long now) {
            java.time.Duration since = java.time.Duration.ofNanos(Math.max(0, now - sentAt));
            long[] remaining = new long[remainingAfter.length];
            List<LimitState> limits = new ArrayList<>(remaining.length);
            for (int i = 0; i < remaining.length; i++) {
                LimitStatus s = answer.getLimits(i);
                remaining[i] = Math.min(limit[i], remainingAfter[i] + units - used);
                java.time.Duration reset = AcquireResult.duration(s.getResetAfter()).minus(since);
                limits.add(new LimitState(s.getName(), true, limit[i], remaining[i], reset.isNegative() ? java.time.Duration.ZERO : reset,
                        AcquireResult.duration(s.getWindow())));
            }
            List<HttpHeader> headers = new ArrayList<>(answer.getHeadersCount());
            for (Header h : answer.getHeadersList()) {
                headers.add(new HttpHeader(h.getName(), fill(h.getValue(), remaining)));
            }
            return AcquireResult.leased(limits, headers);
        }

        /** {@code value} with its placeholders (mark, r or u, a limit's index, mark) written in. */
        private String fill(String value, long[] remaining) {
            int at = value.indexOf(MARK);
            if (at < 0) {
                return value;
            }
            StringBuilder b = new StringBuilder(value.length() + 8);
            int from = 0;
            while (at >= 0) {
                int end = value.indexOf(MARK, at + 1);
                if (end < 0) {
                    break;
                }
                b.append(value, from, at);
                char which = value.charAt(at + 1);
                int i = Integer.parseInt(value, at + 2, end, 10);
                b.append(which == 'u' ? limit[i] - remaining[i] : remaining[i]);
                from = end + 1;
                at = value.indexOf(MARK, from);
            }
            return b.append(value, from, value.length()).toString();
        }
    }

    /** Opens and closes a placeholder in a lease's answer's headers. */
    private static final char MARK = '\u0001';
}
