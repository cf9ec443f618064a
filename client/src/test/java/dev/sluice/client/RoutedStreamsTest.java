package dev.sluice.client;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.NodeAddress;
import dev.sluice.api.v1.PartitionsRequest;
import dev.sluice.api.v1.PartitionsResponse;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.StreamRequest;
import dev.sluice.api.v1.StreamRequests;
import dev.sluice.api.v1.StreamResponse;
import dev.sluice.api.v1.StreamResponses;
import dev.sluice.server.testing.Ports;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Routed streams over real sockets, two stand-in nodes serving a partition table the test sets: a
 * stream opened to the owner of a partition is ended once the newest table names that node no more,
 * and the requests of that partition are answered from the nodes left; one opened while its node was
 * down (so running on another node) is opened again on it once it is up.
 */
class RoutedStreamsTest {

    /** Partition of a request: its descriptor {@code k}, odd or even. */
    private static int partition(AcquireRequest r) {
        return Integer.parseInt(r.getDescriptorsOrThrow("k")) % 2;
    }

    /** A stand-in node: the shared table, each request's partition when asked, and the streams open on it. */
    private static final class Node extends StreamingTest.StreamServer {
        final AtomicReference<PartitionsResponse> table;
        /** Streams open on this node: opened by the client and not yet ended. */
        final Set<Object> open = ConcurrentHashMap.newKeySet();

        Node(AtomicReference<PartitionsResponse> table) {
            this.table = table;
        }

        @Override
        void onRequest(int n, int i, StreamRequest r, StreamObserver<StreamResponse> out) {
            AcquireResponse.Builder answer = response(r.getRequest()).toBuilder();
            if (r.getRequest().getRouteHint()) {
                answer.setPartition(partition(r.getRequest()));
            }
            out.onNext(StreamResponse.newBuilder().setId(r.getId()).setResult(BatchEntry.newBuilder().setResponse(answer)).build());
        }

        @Override
        public StreamObserver<StreamRequests> acquireStream(StreamObserver<StreamResponses> answers) {
            Object stream = new Object();
            open.add(stream);
            StreamObserver<StreamRequests> in = super.acquireStream(answers);
            return new StreamObserver<>() {
                @Override
                public void onNext(StreamRequests message) {
                    in.onNext(message);
                }

                @Override
                public void onError(Throwable t) {
                    open.remove(stream);
                    in.onError(t);
                }

                @Override
                public void onCompleted() {
                    open.remove(stream);
                    in.onCompleted();
                }
            };
        }

        @Override
        public void partitions(PartitionsRequest request, StreamObserver<PartitionsResponse> observer) {
            observer.onNext(table.get());
            observer.onCompleted();
        }
    }

    private Server a;
    private Server b;
    private SluiceClient client;

    @AfterEach
    void stop() throws InterruptedException {
        if (client != null) {
            client.close();
        }
        for (Server s : new Server[] {a, b}) {
            if (s != null) {
                s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static PartitionsResponse table(List<Integer> ports, int... owners) {
        PartitionsResponse.Builder t = PartitionsResponse.newBuilder();
        ports.forEach(p -> t.addNodes(NodeAddress.newBuilder().setHost("127.0.0.1").setPort(p)));
        for (int o : owners) {
            t.addOwners(o);
        }
        return t.build();
    }

    private static Server serve(Node node) throws Exception {
        return serve(node, 0);
    }

    private static Server serve(Node node, int port) throws Exception {
        return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(node).build().start();
    }

    private AcquireResult ask(int k) throws Exception {
        return client.acquireAsync(Acquire.domain("d").with("k", Integer.toString(k))).get(10, TimeUnit.SECONDS);
    }

    /** A client of both nodes on streams, routing, asking for the table every 100 ms. */
    private static SluiceClient routingClient(List<Integer> ports) {
        return SluiceClient.builder().targets(ports.stream().map(p -> "127.0.0.1:" + p).toList()).streaming(true).routing(1000)
                .refreshInterval(Duration.ofMillis(100)).deadline(Duration.ofSeconds(10)).denialCache(false).build();
    }

    /** Asks request 1 until the client holds a routed stream to {@code node} alone. */
    private void awaitRoutedTo(InetSocketAddress node) {
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertEquals(AcquireResult.Source.SERVER, ask(1).source());
            assertEquals(Set.of(node), client.routedStreamNodes());
        });
    }

    /** Asks request 1 twenty times: each answered by a stand-in node (which answers remaining = k, 1). */
    private void askRequestOneTwentyTimes() throws Exception {
        for (int i = 0; i < 20; i++) {
            AcquireResult r = ask(1);
            assertEquals(AcquireResult.Source.SERVER, r.source(), r.toString());
            assertEquals(1, r.limits().get(0).remaining());
        }
    }

    @Test
    void theStreamToANodeNoLongerInTheTableIsEndedAndItsRequestsGoToTheNodesLeft() throws Exception {
        AtomicReference<PartitionsResponse> shared = new AtomicReference<>();
        Node nodeA = new Node(shared);
        Node nodeB = new Node(shared);
        a = serve(nodeA);
        b = serve(nodeB);
        List<Integer> ports = List.of(a.getPort(), b.getPort());
        InetSocketAddress addressA = new InetSocketAddress("127.0.0.1", a.getPort());
        InetSocketAddress addressB = new InetSocketAddress("127.0.0.1", b.getPort());
        shared.set(table(ports, 0, 1)); // even requests' partition on A, odd on B
        client = routingClient(ports);

        // Once the client has the table and request 1's partition, request 1 goes to B on a stream of its own.
        awaitRoutedTo(addressB);
        int openOnB = nodeB.open.size();
        long onA = nodeA.seen.size();
        for (int i = 0; i < 20; i++) {
            ask(1);
        }
        assertEquals(onA, nodeA.seen.size(), "routed, request 1 goes to B alone");

        // B leaves the table (it owns nothing now): the client ends the stream it opened to B for
        // routing, and routes request 1 to A; B's other streams (the round-robin ones) stay.
        shared.set(table(ports, 0, 0));
        awaitRoutedTo(addressA);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(openOnB - 1, nodeB.open.size(), "streams open on B"));
        long onB = nodeB.seen.size();
        askRequestOneTwentyTimes();
        assertEquals(onB, nodeB.seen.size(), "routed, request 1 goes to A alone");
        assertEquals(openOnB - 1, nodeB.open.size(), "streams open on B");
    }

    @Test
    void aStreamRoutedToANodeNotReadyWhenItOpenedIsOpenedAgainOnItOnceItIs() throws Exception {
        AtomicReference<PartitionsResponse> shared = new AtomicReference<>();
        Node nodeA = new Node(shared);
        Node nodeB = new Node(shared);
        a = serve(nodeA);
        int portB = Ports.free(); // B is not up yet
        List<Integer> ports = List.of(a.getPort(), portB);
        InetSocketAddress addressB = new InetSocketAddress("127.0.0.1", portB);
        shared.set(table(ports, 0, 1)); // even requests' partition on A, odd on B
        client = routingClient(ports);

        // Request 1 is routed to B, whose connection is not ready: its stream opens on A instead.
        awaitRoutedTo(addressB);
        long onA = nodeA.seen.size();
        ask(1);
        assertEquals(onA + 1, nodeA.seen.size(), "request 1 answered by A while B is down");

        // B comes up: its requests reach it, on a stream opened again, and A sees them no more.
        b = serve(nodeB, portB);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            long onB = nodeB.seen.size();
            assertEquals(AcquireResult.Source.SERVER, ask(1).source());
            assertEquals(onB + 1, nodeB.seen.size(), "request 1 reaches B");
        });
        onA = nodeA.seen.size();
        askRequestOneTwentyTimes();
        assertEquals(onA, nodeA.seen.size(), "request 1 goes to B alone");
    }
}
