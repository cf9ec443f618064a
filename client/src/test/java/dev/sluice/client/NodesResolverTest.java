package dev.sluice.client;

import io.grpc.NameResolver;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A DNS name resolving to many nodes: new nodes are picked up, departed ones dropped. */
class NodesResolverTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final Map<String, InetAddress[]> dns = new ConcurrentHashMap<>();
    private final List<List<InetSocketAddress>> results = new CopyOnWriteArrayList<>();
    private final List<Status> errors = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    private static InetAddress ip(String a) throws UnknownHostException {
        return InetAddress.getByName(a);
    }

    private NodesResolver start(String... targets) {
        NodesResolver r = new NodesResolver(java.util.Arrays.stream(targets).map(NodesResolver.Target::parse).toList(),
                host -> {
                    InetAddress[] found = dns.get(host);
                    if (found == null) {
                        throw new UnknownHostException(host);
                    }
                    return found;
                }, timer, Duration.ofMillis(50));
        r.start(new NameResolver.Listener2() {
            @Override
            public void onResult(NameResolver.ResolutionResult result) {
                results.add(result.getAddressesOrError().getValue().stream()
                        .map(g -> (InetSocketAddress) g.getAddresses().get(0)).toList());
            }

            @Override
            public void onError(Status error) {
                errors.add(error);
            }
        });
        return r;
    }

    @Test
    void aHeadlessServiceNameFollowsItsNodes() throws Exception {
        dns.put("sluice.svc", new InetAddress[] {ip("10.0.0.1"), ip("10.0.0.2")});
        NodesResolver r = start("sluice.svc:8081");
        await().until(() -> results.size() == 1);
        assertEquals(List.of(new InetSocketAddress("10.0.0.1", 8081), new InetSocketAddress("10.0.0.2", 8081)), results.get(0));

        dns.put("sluice.svc", new InetAddress[] {ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")});
        await().until(() -> results.size() == 2);
        assertEquals(3, results.get(1).size(), "a new node is picked up");

        dns.put("sluice.svc", new InetAddress[] {ip("10.0.0.3")});
        await().until(() -> results.size() == 3);
        assertEquals(List.of(new InetSocketAddress("10.0.0.3", 8081)), results.get(2), "departed nodes are dropped");
        assertEquals(results.get(2), r.addresses());
        r.shutdown();
    }

    @Test
    void aStaticListResolvesOnceAndUnresolvableNamesAreErrors() throws Exception {
        dns.put("10.0.0.7", new InetAddress[] {ip("10.0.0.7")});
        dns.put("10.0.0.8", new InetAddress[] {ip("10.0.0.8")});
        NodesResolver r = start("10.0.0.7:8081", "10.0.0.8:8082");
        await().until(() -> results.size() == 1);
        assertEquals(List.of(new InetSocketAddress("10.0.0.7", 8081), new InetSocketAddress("10.0.0.8", 8082)), results.get(0));
        r.shutdown();

        NodesResolver missing = start("nowhere.invalid:8081");
        await().until(() -> !errors.isEmpty());
        assertEquals(Status.Code.UNAVAILABLE, errors.get(0).getCode());
        missing.shutdown();
    }

}
