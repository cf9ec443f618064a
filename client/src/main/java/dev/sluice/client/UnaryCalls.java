package dev.sluice.client;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.RateLimiterGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Each attempt as an {@code Acquire} call of its own, with the time left before its deadline as the
 * call's deadline, on the node owning its bucket where {@link Routes} knows it.
 */
final class UnaryCalls implements Transport {

    private final RateLimiterGrpc.RateLimiterStub stub;
    private final Replies replies;
    private final LongSupplier nanoTime;
    private final Routes routes;

    UnaryCalls(RateLimiterGrpc.RateLimiterStub stub, Replies replies, LongSupplier nanoTime, Routes routes) {
        this.routes = routes;
        this.stub = stub;
        this.replies = replies;
        this.nanoTime = nanoTime;
    }

    @Override
    public void send(Attempt a) {
        send(a, () -> { });
    }

    /** Sends {@code a}; {@code done} runs once the call is over, whatever its end. */
    void send(Attempt a, Runnable done) {
        long left = replies.attemptTimeLeft(a);
        if (left < 0) {
            done.run();
            return;
        }
        long sentAt = nanoTime.getAsLong();
        SocketAddress node = routes.nodeFor(a);
        (node == null ? stub : stub.withOption(NodePicker.NODE, node)).withDeadlineAfter(left, TimeUnit.NANOSECONDS).acquire(a.proto(), new StreamObserver<>() {
            @Override
            public void onNext(AcquireResponse response) {
                replies.answered(a, response, sentAt);
            }

            @Override
            public void onError(Throwable t) {
                done.run();
                replies.failed(a, Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                done.run();
                if (!a.result().isDone()) {
                    replies.unanswered(a);
                }
            }
        });
    }
}
