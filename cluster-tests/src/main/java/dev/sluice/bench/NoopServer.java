package dev.sluice.bench;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import io.grpc.Server;
import dev.sluice.server.node.LeakDetection;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;

import java.net.InetSocketAddress;

/**
 * A RateLimiter whose Acquire decides nothing and always allows: what any gRPC limiter costs
 * before it does any limiting on this machine. Built like a Sluice node's server (Netty, direct
 * executor) so the difference is the limiting.
 */
public final class NoopServer {

    private NoopServer() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        AcquireResponse allowed = AcquireResponse.newBuilder().setDecision(Decision.ALLOWED).setHttpStatus(200).build();
        LeakDetection.offUnlessAsked();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .directExecutor()
                .addService(new RateLimiterGrpc.RateLimiterImplBase() {
                    @Override
                    public void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
                        observer.onNext(allowed);
                        observer.onCompleted();
                    }
                })
                .build().start();
        System.out.println("noop server on " + port);
        server.awaitTermination();
    }
}
