package dev.sluice.client;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.RateLimiterGrpc;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The client channel's load balancing over two servers on real sockets, each answering with its own name. */
class NodePickerTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private Server a;
    private Server b;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        a = named("a");
        b = named("b");
        NodePicker.register();
        List<NodesResolver.Target> targets = List.of(new NodesResolver.Target("127.0.0.1", a.getPort()),
                new NodesResolver.Target("127.0.0.1", b.getPort()));
        channel = NettyChannelBuilder.forTarget("sluice:///nodes")
                .nameResolverFactory(new NodesResolver.Factory(targets, InetAddress::getAllByName, timer, Duration.ofSeconds(1)))
                .defaultLoadBalancingPolicy(NodePicker.POLICY).usePlaintext().build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        a.shutdownNow();
        b.shutdownNow();
        timer.shutdownNow();
    }

    private static Server named(String name) throws Exception {
        return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(new RateLimiterGrpc.RateLimiterImplBase() {
            @Override
            public void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
                observer.onNext(AcquireResponse.newBuilder().setBody(name).build());
                observer.onCompleted();
            }
        }).build().start();
    }

    private String ask(SocketAddress node) {
        RateLimiterGrpc.RateLimiterBlockingStub stub = RateLimiterGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
        return (node == null ? stub : stub.withOption(NodePicker.NODE, node)).acquire(AcquireRequest.getDefaultInstance()).getBody();
    }

    private static SocketAddress of(Server s) {
        return new InetSocketAddress("127.0.0.1", s.getPort());
    }

    @Test
    void aCallGoesToTheNodeItAsksForAndOtherwiseToEachInTurn() {
        await().until(() -> readyBoth());
        for (int i = 0; i < 20; i++) {
            assertEquals("b", ask(of(b)));
            assertEquals("a", ask(of(a)));
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            seen.add(ask(null));
            seen.add(ask(new InetSocketAddress("127.0.0.1", 1))); // a node the channel does not know
        }
        assertEquals(Set.of("a", "b"), seen, "calls for no node, or an unknown one, go to each node in turn");
    }

    @Test
    void aCallForANodeThatIsDownGoesToAnotherAndAllDownFailsAtOnce() {
        await().until(() -> readyBoth());
        SocketAddress nodeA = of(a);
        SocketAddress nodeB = of(b);
        b.shutdownNow();
        await().ignoreExceptions().untilAsserted(() -> assertEquals("a", ask(nodeB)));
        for (int i = 0; i < 10; i++) {
            assertEquals("a", ask(nodeB));
        }

        a.shutdownNow();
        await().until(() -> channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ask(nodeA));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), "failed, not held until the deadline: " + e.getStatus());
    }

    /** Whether calls to each node are answered by it: both connections are up. */
    private boolean readyBoth() {
        try {
            return ask(of(a)).equals("a") && ask(of(b)).equals("b");
        } catch (StatusRuntimeException e) {
            return false;
        }
    }
}
