package dev.sluice.client;

import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireBatchResponse;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.RateLimiterGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Calls, gathered under load: while fewer than {@code callsBeforeBatching} calls are on the wire,
 * each attempt is sent at once as a call of its own; beyond that, attempts wait for the next call
 * to finish and then go together, up to {@code maxBatch} in one {@code AcquireBatch} call, each
 * with its own answer and its own deadline (natural batching: no timer, no added delay when the
 * client is not busy). A node without AcquireBatch is asked one call at a time from then on.
 */
final class BatchedCalls implements Transport {

    private final RateLimiterGrpc.RateLimiterStub stub;
    private final UnaryCalls unary;
    private final Replies replies;
    private final LongSupplier nanoTime;
    private final int callsBeforeBatching;
    private final int maxBatch;
    private final AtomicInteger callsInFlight = new AtomicInteger();
    private final ConcurrentLinkedQueue<Attempt> waiting = new ConcurrentLinkedQueue<>();
    private volatile boolean batchUnsupported;

    BatchedCalls(RateLimiterGrpc.RateLimiterStub stub, UnaryCalls unary, Replies replies, LongSupplier nanoTime,
                 int callsBeforeBatching, int maxBatch) {
        this.stub = stub;
        this.unary = unary;
        this.replies = replies;
        this.nanoTime = nanoTime;
        this.callsBeforeBatching = callsBeforeBatching;
        this.maxBatch = maxBatch;
    }

    @Override
    public void send(Attempt a) {
        if (batchUnsupported) {
            unary.send(a);
            return;
        }
        waiting.add(a);
        drain();
    }

    /** Starts calls for waiting attempts while there is room on the wire. */
    private void drain() {
        while (!waiting.isEmpty()) {
            int n = callsInFlight.get();
            if (n >= callsBeforeBatching) {
                return;
            }
            if (!callsInFlight.compareAndSet(n, n + 1)) {
                continue;
            }
            List<Attempt> batch = new ArrayList<>();
            for (Attempt a; batch.size() < maxBatch && (a = waiting.poll()) != null; ) {
                batch.add(a);
            }
            if (batch.isEmpty()) {
                callDone();
            } else if (batch.size() == 1) {
                unary.send(batch.get(0), this::callDone);
            } else {
                sendBatch(batch);
            }
        }
    }

    private void callDone() {
        callsInFlight.decrementAndGet();
        if (!waiting.isEmpty()) {
            drain();
        }
    }

    private void sendBatch(List<Attempt> batch) {
        long left = Long.MAX_VALUE;
        List<Attempt> live = new ArrayList<>(batch.size());
        AcquireBatchRequest.Builder request = AcquireBatchRequest.newBuilder();
        for (Attempt a : batch) {
            long l = replies.attemptTimeLeft(a);
            if (l >= 0) {
                left = Math.min(left, l);
                live.add(a);
                request.addRequests(a.proto());
            }
        }
        if (live.isEmpty()) {
            callDone();
            return;
        }
        long sentAt = nanoTime.getAsLong();
        stub.withDeadlineAfter(left, TimeUnit.NANOSECONDS).acquireBatch(request.build(), new StreamObserver<>() {
            private boolean answered;

            @Override
            public void onNext(AcquireBatchResponse response) {
                answered = true;
                for (int i = 0; i < live.size(); i++) {
                    Attempt a = live.get(i);
                    BatchEntry entry = i < response.getResultsCount() ? response.getResults(i) : null;
                    if (entry == null) {
                        a.result().complete(replies.fail("the node answered " + response.getResultsCount() + " of " + live.size()
                                + " requests of a batch"));
                    } else if (entry.hasResponse()) {
                        replies.answered(a, entry.getResponse(), sentAt);
                    } else {
                        replies.failed(a, Status.fromCodeValue(entry.getError().getCode()).withDescription(entry.getError().getMessage()));
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                callDone();
                Status status = Status.fromThrowable(t);
                if (status.getCode() == Status.Code.UNIMPLEMENTED) {
                    // A node without AcquireBatch: ask one request at a time from now on.
                    batchUnsupported = true;
                    live.forEach(BatchedCalls.this::send);
                    return;
                }
                live.forEach(a -> replies.failed(a, status));
            }

            @Override
            public void onCompleted() {
                callDone();
                if (!answered) {
                    // Attempts being retried are answered later; only a call that never answered fails them.
                    live.forEach(replies::unanswered);
                }
            }
        });
    }
}
