package dev.sluice.server.api;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.StreamResponse;
import dev.sluice.api.v1.StreamResponses;
import dev.sluice.server.observe.RpcMetrics;
import dev.sluice.server.path.Caller;
import dev.sluice.server.path.Answer;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.path.Refusal;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One AcquireStream call. Requests are decided as they arrive, exactly as unary ones are (those
 * read in one turn of the event loop together); each answer is written, from the event loop, as
 * soon as its decision is made, with the others made by then in one message. The node reads no
 * further message while {@link #WINDOW} or more of the requests it has read are unanswered, nor
 * while the transport says the caller is not taking answers: a caller that stops reading stops
 * being read.
 */
final class DecisionStream implements StreamObserver<List<WireRequests.StreamEntry>> {

    private static final Logger LOG = Logger.getLogger(DecisionStream.class.getName());

    /** Unanswered requests one stream may have before the node stops reading it. */
    static final int WINDOW = 1000;

    /** Most requests one message may carry; those beyond are refused on their ids. */
    static final int MAX_PER_MESSAGE = 1000;

    private final DecisionPath path;
    private final TurnBatcher batcher;
    /** Who opened the stream: every request on it is theirs. */
    private final Caller caller;
    private final ServerCallStreamObserver<StreamResponses> responses;
    private final Executor home;
    /** The streams not yet ended, which this one leaves when it ends. */
    private final Set<DecisionStream> open;
    /** Guards the fields below and every call on {@code responses}; uncontended on an event loop. */
    private final Object lock = new Object();
    private int unanswered;
    /** Whether a message has been asked of the transport and not yet delivered. */
    private boolean reading;
    private boolean halfClosed;
    private boolean done;
    /** Answers made and not yet written, and whether a task to write them is queued. */
    private StreamResponses.Builder outgoing;
    private boolean writeQueued;

    private final RpcMetrics metrics;
    private final io.opentelemetry.context.Context trace;

    DecisionStream(DecisionPath path, TurnBatcher batcher, ServerCallStreamObserver<StreamResponses> responses, Executor home,
                   Set<DecisionStream> open, RpcMetrics metrics) {
        this.path = path;
        this.metrics = metrics;
        this.trace = TraceContext.current();
        this.batcher = batcher;
        this.caller = CallerIdentity.current();
        this.responses = responses;
        this.home = home;
        this.open = open;
        responses.disableAutoRequest();
        responses.setOnCancelHandler(() -> {
            synchronized (lock) {
                done = true;
                open.remove(this);
            }
        });
        responses.setOnReadyHandler(this::readMore);
        reading = true;
        responses.request(1);
    }

    @Override
    public void onNext(List<WireRequests.StreamEntry> message) {
        long started = metrics.start();
        int n = 0;
        for (WireRequests.StreamEntry e : message) {
            n += e.hasId() ? 1 : 0;
        }
        boolean ended;
        synchronized (lock) {
            reading = false;
            if (done) {
                return; // the stream is over: nothing decided, nothing to answer
            }
            ended = halfClosed;
            unanswered += n;
        }
        int index = 0;
        for (WireRequests.StreamEntry entry : message) {
            if (entry.hasId() && ++index > MAX_PER_MESSAGE) {
                long id = entry.id();
                path.refuseUnreadable("requests: " + n + " in one message; send at most " + MAX_PER_MESSAGE,
                        (response, refusal) -> home.execute(() -> answer(id, response, refusal, started)));
                continue;
            }
            if (!entry.hasId()) {
                // Nothing to answer it under: the caller's deadline answers it.
                path.refuseUnreadable(entry.request().problem(), (response, refusal) -> { });
                continue;
            }
            long id = entry.id();
            if (ended) {
                // Read after the node began shutting down, before it stopped reading: not decided.
                home.execute(() -> answer(id, null, new Refusal(Refusal.Code.UNAVAILABLE, "node shutting down; send it to another node"),
                        started));
                continue;
            }
            Answer answer = (response, refusal) -> home.execute(() -> answer(id, response, refusal, started));
            if (entry.request().problem() != null) {
                path.refuseUnreadable(entry.request().problem(), answer);
                continue;
            }
            DecisionPath.Admitted a = path.admit(caller, trace, entry.request().message(), false, answer);
            if (a != null) {
                batcher.decideSoon(a, home);
            }
        }
        readMore();
    }

    /**
     * Adds one answer to the next message, and has that message written once the answers made by
     * now are in it; its time, from the message read ({@code started}), ends here.
     */
    private void answer(long id, AcquireResponse response, Refusal refusal, long started) {
        StreamResponse r = StreamResponse.newBuilder().setId(id).setResult(Statuses.entry(response, refusal)).build();
        metrics.answered(RpcMetrics.Rpc.ACQUIRE_STREAM, started, refusal == null ? null : refusal.code().name());
        synchronized (lock) {
            unanswered--;
            if (done) {
                return;
            }
            if (outgoing == null) {
                outgoing = StreamResponses.newBuilder();
            }
            outgoing.addResponses(r);
            if (writeQueued) {
                return;
            }
            writeQueued = true;
        }
        home.execute(this::write);
    }

    private void write() {
        synchronized (lock) {
            writeQueued = false;
            if (done || outgoing == null) {
                return;
            }
            StreamResponses message = outgoing.build();
            outgoing = null;
            try {
                responses.onNext(message);
            } catch (RuntimeException e) {
                done = true;
                open.remove(this);
                LOG.log(Level.FINE, "could not send answers on a stream (call cancelled?)", e);
                return;
            }
            finishIfAnswered();
            if (done) {
                return;
            }
        }
        readMore();
    }

    /** Stops reading; completes the stream once every request read has been answered. */
    void end() {
        synchronized (lock) {
            halfClosed = true;
            finishIfAnswered();
        }
    }

    /** Completes the stream when it is half-closed (by the caller, or by {@link #end}) and nothing is left to answer or write. */
    private void finishIfAnswered() {
        if (halfClosed && unanswered == 0 && outgoing == null && !done) {
            done = true;
            open.remove(this);
            try {
                responses.onCompleted();
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "could not complete a stream (call cancelled?)", e);
            }
        }
    }

    /** Reads the next message, when none is on its way, the window has room and the caller is taking answers. */
    private void readMore() {
        synchronized (lock) {
            if (done || halfClosed || reading || unanswered >= WINDOW || !responses.isReady()) {
                return;
            }
            reading = true;
            responses.request(1);
        }
    }

    @Override
    public void onError(Throwable t) {
        synchronized (lock) {
            done = true;
            open.remove(this);
        }
    }

    @Override
    public void onCompleted() {
        end();
    }
}
