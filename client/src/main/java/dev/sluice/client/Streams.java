package dev.sluice.client;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.StreamRequest;
import dev.sluice.api.v1.StreamRequests;
import dev.sluice.api.v1.StreamResponse;
import dev.sluice.api.v1.StreamResponses;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * Requests carried on long-lived {@code AcquireStream} calls, each answer matched to its request
 * by id: a request whose bucket's owner {@link Routes} knows goes on a stream opened on that node
 * (one per node); any other on one of a few streams on whichever node is next (as many as there
 * are nodes, since the channel opens each new call on the next node in turn). Requests asked for on one of the
 * channel's I/O threads (from answer callbacks, which run there) go out together, in one message,
 * once that thread has finished delivering the answers it read; requests asked for on any other
 * thread go out at once, with any that are waiting. A stream that
 * fails, or that its node ends, is replaced at the next request; the requests it left unanswered
 * go back to {@link Replies}, which retries them within their deadlines. A stream has no deadline
 * of its own, so each request's deadline is kept here: a sweep every {@link #sweepNanos} answers
 * the requests past it. Where a new stream lands is the channel's choice (the next node that is
 * ready), so a stream is retired after {@link #requestsPerStream} requests and replaced: streams
 * opened while only some nodes were connected, or before a node joined, spread out again. A node
 * that does not serve AcquireStream is asked through the fallback transport (calls) from then on.
 */
final class Streams implements Transport {

    /** Most streams, however many nodes there are. */
    static final int MAX_STREAMS = 16;

    /** How long a routed stream that landed on another node than its own is kept before it is opened again. */
    static final long MISPLACED_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Most requests in one message. */
    static final int MAX_PER_MESSAGE = 256;

    private final RateLimiterGrpc.RateLimiterStub stub;
    private final Replies replies;
    private final Transport fallback;
    private final ScheduledExecutorService timer;
    private final LongSupplier nanoTime;
    private final IntSupplier nodes;
    private final long sweepNanos;
    private final int requestsPerStream;
    private final Routes routes;
    /** Streams opened on the node owning the buckets of the requests sent on them, by node. */
    private volatile Map<SocketAddress, Lane> routed = Map.of();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile List<Lane> lanes = List.of();
    /** Streams replaced while requests still wait on them: swept until those are answered. */
    private final Set<Lane> retired = ConcurrentHashMap.newKeySet();
    /** Set once a node has said it does not serve AcquireStream. */
    private volatile boolean unsupported;

    /**
     * @param nodes             how many nodes the channel currently reaches (streams to open)
     * @param sweepNanos        how often requests are checked against their deadlines while any wait
     * @param requestsPerStream requests a stream carries before it is retired and replaced
     */
    Streams(RateLimiterGrpc.RateLimiterStub stub, Replies replies, Transport fallback, ScheduledExecutorService timer,
            LongSupplier nanoTime, IntSupplier nodes, long sweepNanos, int requestsPerStream, Routes routes) {
        this.routes = routes;
        this.stub = stub.withInterceptors(NodePicker.LANDING);
        this.replies = replies;
        this.fallback = fallback;
        this.timer = timer;
        this.nanoTime = nanoTime;
        this.nodes = nodes;
        this.sweepNanos = sweepNanos;
        this.requestsPerStream = requestsPerStream;
    }

    /** Sends {@code attempt}; its answer, failure or expiry goes to the replies. */
    @Override
    public void send(Attempt attempt) {
        if (unsupported) {
            fallback.send(attempt);
            return;
        }
        if (replies.timeLeft(attempt) < 0) {
            return;
        }
        Waiting w = new Waiting(attempt, nanoTime.getAsLong());
        // A stream can fail as it opens (a node without AcquireStream answers at once): then once more, on a fresh one.
        for (int tries = 0; tries < 2; tries++) {
            if (unsupported) {
                fallback.send(attempt);
                return;
            }
            SocketAddress node = routes.nodeFor(attempt);
            if ((node == null ? lane() : lane(node)).write(ids.incrementAndGet(), w, attempt.proto())) {
                if (sweeping.compareAndSet(false, true)) {
                    scheduleSweep();
                }
                return;
            }
        }
        replies.failed(attempt, Status.UNAVAILABLE.withDescription("the stream to the node failed as it opened"));
    }

    /**
     * A working stream opened on {@code node}, opening one where there is none, where it has broken,
     * or where it landed on another node (the node's connection was not ready when it opened) at
     * least {@link #MISPLACED_NANOS} ago.
     */
    private Lane lane(SocketAddress node) {
        Lane l = routed.get(node);
        if (l != null && !l.broken && !l.misplaced()) {
            return l;
        }
        synchronized (this) {
            l = routed.get(node);
            if (l == null || l.broken || l.misplaced()) {
                if (l != null) {
                    l.end(); // a misplaced one: the node it landed on answers what it read, the rest is sent again
                    if (!l.waiting.isEmpty()) {
                        retired.add(l);
                    }
                }
                Map<SocketAddress, Lane> next = new HashMap<>(routed);
                l = new Lane(node);
                next.put(node, l);
                routed = Map.copyOf(next);
            }
            return l;
        }
    }

    /**
     * Keeps routed streams to the nodes in {@code nodes} alone: the stream to a node that no longer
     * owns a partition the client routes to (it left, or the client reaches it no more) is ended
     * and forgotten, so that a client outliving many nodes (every rolling restart gives pods new
     * addresses) neither holds their streams open nor sweeps them. The node answers what it has
     * read before the stream ends; the rest is sent again, as from a retired stream.
     */
    void routeOnlyTo(Set<SocketAddress> nodes) {
        if (nodes.containsAll(routed.keySet())) {
            return;
        }
        synchronized (this) {
            Map<SocketAddress, Lane> kept = new HashMap<>();
            for (Map.Entry<SocketAddress, Lane> e : routed.entrySet()) {
                if (nodes.contains(e.getKey())) {
                    kept.put(e.getKey(), e.getValue());
                    continue;
                }
                Lane gone = e.getValue();
                gone.end();
                if (!gone.waiting.isEmpty()) {
                    retired.add(gone);
                    if (sweeping.compareAndSet(false, true)) {
                        scheduleSweep();
                    }
                }
            }
            routed = Map.copyOf(kept);
        }
    }

    /** The nodes a routed stream is open to (or was, until it broke and nothing was sent there since). */
    Set<SocketAddress> routedNodes() {
        return routed.keySet();
    }

    /** A working stream on whichever node is next, opening one where there is none or where one has broken. */
    private Lane lane() {
        List<Lane> current = lanes;
        int wanted = Math.min(MAX_STREAMS, Math.max(1, nodes.getAsInt()));
        if (current.size() >= wanted) {
            Lane l = current.get(Math.floorMod(next.getAndIncrement(), current.size()));
            if (!l.broken) {
                return l;
            }
        }
        synchronized (this) {
            List<Lane> renewed = new ArrayList<>(lanes);
            for (int i = 0; i < renewed.size(); i++) {
                Lane old = renewed.get(i);
                if (old.broken) {
                    if (!old.waiting.isEmpty()) {
                        retired.add(old);
                    }
                    renewed.set(i, new Lane(null));
                }
            }
            while (renewed.size() < wanted) {
                renewed.add(new Lane(null));
            }
            lanes = List.copyOf(renewed);
            return renewed.get(Math.floorMod(next.getAndIncrement(), renewed.size()));
        }
    }

    private void scheduleSweep() {
        try {
            timer.schedule(this::sweep, sweepNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            sweeping.set(false); // the client is closing; it answers what is outstanding itself
        }
    }

    /** Answers every request past its deadline; keeps sweeping while any request waits. */
    private void sweep() {
        long now = nanoTime.getAsLong();
        List<Lane> live = live();
        boolean any = false;
        for (Lane lane : live) {
            any |= lane.expire(now);
        }
        for (Lane lane : retired) {
            if (lane.expire(now)) {
                any = true;
            } else {
                retired.remove(lane);
            }
        }
        if (any) {
            scheduleSweep();
            return;
        }
        sweeping.set(false);
        // A request sent while this sweep was finding nothing must still be swept.
        for (Lane lane : live) {
            if (!lane.waiting.isEmpty() && sweeping.compareAndSet(false, true)) {
                scheduleSweep();
                return;
            }
        }
        if (!retired.isEmpty() && sweeping.compareAndSet(false, true)) {
            scheduleSweep();
        }
    }

    /** The lanes in use: the round-robin ones and those routed to a node. */
    private List<Lane> live() {
        List<Lane> live = new ArrayList<>(lanes);
        live.addAll(routed.values());
        return live;
    }

    /** Whether a node has said it does not serve AcquireStream; attempts then go through the fallback. */
    boolean unsupported() {
        return unsupported;
    }

    /** Ends every stream; requests still waiting are left to the client, which answers them itself. */
    @Override
    public void close() {
        for (Lane lane : live()) {
            lane.end();
        }
    }

    private record Waiting(Attempt attempt, long sentAt) {
        long deadline() {
            return attempt.deadline();
        }
    }

    /** One stream. */
    private final class Lane implements ClientResponseObserver<StreamRequests, StreamResponses> {
        final Map<Long, Waiting> waiting = new ConcurrentHashMap<>();
        private ClientCallStreamObserver<StreamRequests> call;
        private int sent;
        /** Requests taken and not yet written, and whether a task to write them is queued; guarded by this lane. */
        private StreamRequests.Builder unsent;
        private boolean writeQueued;
        volatile boolean broken;

        /** The node a routed stream is for ({@code null} for a round-robin one), when it opened, and where it landed. */
        private final SocketAddress node;
        private final long openedAt;
        private final AtomicReference<SocketAddress> landed = new AtomicReference<>();

        /** @param node the node to open the stream on while its connection is ready; {@code null}: whichever is next */
        Lane(SocketAddress node) {
            this.node = node;
            this.openedAt = nanoTime.getAsLong();
            (node == null ? stub : stub.withOption(NodePicker.NODE, node).withOption(NodePicker.LANDED, landed)).acquireStream(this);
        }

        /** A routed stream the node's answers showed to run on another node, opened long enough ago to open again. */
        boolean misplaced() {
            SocketAddress on = landed.get();
            return node != null && on != null && !on.equals(node) && nanoTime.getAsLong() - openedAt >= MISPLACED_NANOS;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<StreamRequests> requestStream) {
            this.call = requestStream;
        }

        /** Takes one request to send; false when the stream has already failed. */
        synchronized boolean write(long id, Waiting w, AcquireRequest proto) {
            if (broken) {
                return false;
            }
            waiting.put(id, w);
            if (unsent == null) {
                unsent = StreamRequests.newBuilder();
            }
            unsent.addRequests(StreamRequest.newBuilder().setId(id).setRequest(proto));
            if (++sent >= requestsPerStream) {
                // Retired: the node answers what it has read and ends the stream; the next request opens a new one.
                end();
                return true;
            }
            if (unsent.getRequestsCount() >= MAX_PER_MESSAGE) {
                flush();
            } else if (!writeQueued) {
                Executor loop = IoThreads.currentEventLoop();
                if (loop == null) {
                    flush();
                } else {
                    // Written once this I/O thread has delivered what it read: the requests its callbacks ask for meanwhile go too.
                    writeQueued = true;
                    loop.execute(this::flushQueued);
                }
            }
            return true;
        }

        private synchronized void flushQueued() {
            writeQueued = false;
            if (!broken) {
                flush();
            }
        }

        /** Writes the requests taken so far as one message. */
        private void flush() {
            if (unsent == null) {
                return;
            }
            StreamRequests message = unsent.build();
            unsent = null;
            call.onNext(message);
        }

        @Override
        public void onNext(StreamResponses message) {
            for (StreamResponse r : message.getResponsesList()) {
                answer(r);
            }
        }

        private void answer(StreamResponse r) {
            Waiting w = waiting.remove(r.getId());
            if (w == null) {
                return; // answered by its deadline already
            }
            if (r.getResult().hasResponse()) {
                replies.answered(w.attempt(), r.getResult().getResponse(), w.sentAt());
            } else {
                replies.failed(w.attempt(), Status.fromCodeValue(r.getResult().getError().getCode())
                        .withDescription(r.getResult().getError().getMessage()));
            }
        }

        @Override
        public void onError(Throwable t) {
            Status status = Status.fromThrowable(t);
            if (status.getCode() == Status.Code.UNIMPLEMENTED) {
                unsupported = true; // before the stream counts as broken, so no request opens another
                breakOff().forEach(fallback::send);
                return;
            }
            List<Attempt> left = breakOff();
            Status unavailable = Status.UNAVAILABLE.withDescription("the stream to the node failed: " + status.getCode()
                    + (status.getDescription() == null ? "" : ": " + status.getDescription()));
            left.forEach(a -> replies.failed(a, unavailable));
        }

        @Override
        public void onCompleted() {
            // The node answers everything it has read before it ends a stream: what is left was never read.
            Status unavailable = Status.UNAVAILABLE.withDescription("the node ended the stream (shutting down?)");
            breakOff().forEach(a -> replies.failed(a, unavailable));
        }

        /** Marks the stream broken and takes back every request still waiting on it. */
        private synchronized List<Attempt> breakOff() {
            broken = true;
            unsent = null; // still in waiting: given back below
            List<Attempt> left = new ArrayList<>(waiting.size());
            for (Long id : waiting.keySet()) {
                Waiting w = waiting.remove(id);
                if (w != null) {
                    left.add(w.attempt());
                }
            }
            return left;
        }

        /**
         * Answers the requests past their deadline, and gives those past their attempt's own timeout
         * back to be tried again (this stream then takes no more: its node may have stalled); true
         * while any still waits.
         */
        boolean expire(long now) {
            for (Map.Entry<Long, Waiting> e : waiting.entrySet()) {
                Waiting w = e.getValue();
                if (w.deadline() - now <= 0) {
                    if (waiting.remove(e.getKey(), w)) {
                        replies.expired(w.attempt());
                    }
                } else if (w.attempt().tryBy() - now <= 0 && waiting.remove(e.getKey(), w)) {
                    end();
                    replies.failed(w.attempt(), Status.DEADLINE_EXCEEDED.withDescription("no answer on the stream within the attempt timeout"));
                }
            }
            return !waiting.isEmpty();
        }

        synchronized void end() {
            if (!broken) {
                broken = true;
                try {
                    flush();
                    call.onCompleted();
                } catch (RuntimeException e) {
                    // already cancelled
                }
            }
        }
    }
}
