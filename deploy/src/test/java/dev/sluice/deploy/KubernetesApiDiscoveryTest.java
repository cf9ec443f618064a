package dev.sluice.deploy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.node.NodeSettings;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Members find each other through Hazelcast's Kubernetes API discovery, against a stub API
 * server that serves the member service's endpoints the way the Kubernetes API does.
 */
class KubernetesApiDiscoveryTest {

    private HttpServer api;
    private final List<SluiceNode> nodes = new ArrayList<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(SluiceNode::close);
        if (api != null) {
            api.stop(0);
        }
    }

    private static String endpoints(int... memberPorts) {
        StringBuilder subsets = new StringBuilder();
        for (int i = 0; i < memberPorts.length; i++) {
            if (i > 0) {
                subsets.append(',');
            }
            subsets.append("""
                    {"addresses": [{"ip": "127.0.0.1", "targetRef": {"kind": "Pod", "name": "sluice-%d", "namespace": "limits"}}],
                     "ports": [{"name": "hazelcast", "port": %d, "protocol": "TCP"}]}""".formatted(i, memberPorts[i]));
        }
        return """
                {"kind": "Endpoints", "apiVersion": "v1",
                 "metadata": {"name": "sluice-members", "namespace": "limits"},
                 "subsets": [%s]}""".formatted(subsets);
    }

    /** A self-signed certificate made for these tests (public part only). */
    private static String testCa() throws IOException {
        try (var in = KubernetesApiDiscoveryTest.class.getResourceAsStream("/test-ca.pem")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Test
    void membersFindEachOtherThroughTheEndpointsOfTheMemberService() throws Exception {
        int first = Ports.free();
        int second = Ports.free();
        api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        api.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            requests.add(exchange.getRequestMethod() + " " + path + " " + exchange.getRequestHeaders().getFirst("Authorization"));
            if (path.equals("/api/v1/namespaces/limits/endpoints/sluice-members")) {
                answer(exchange, 200, endpoints(first, second));
            } else {
                answer(exchange, 404, "{\"kind\": \"Status\", \"status\": \"Failure\", \"reason\": \"NotFound\", \"code\": 404}");
            }
        });
        api.start();
        String apiUrl = "http://127.0.0.1:" + api.getAddress().getPort();
        String cluster = TestNodes.uniqueCluster("k8s");
        // Members found through Kubernetes share a secret, as the pods of one Deployment do.
        java.nio.file.Path secret = java.nio.file.Files.createTempFile("cluster-secret", "");
        java.nio.file.Files.writeString(secret, "k8s-discovery-test-secret-0123456789");
        secret.toFile().deleteOnExit();
        // Started together, as a Deployment's pods are: each finds the other in the endpoints.
        List<java.util.concurrent.CompletableFuture<SluiceNode>> starting = new ArrayList<>();
        for (int port : new int[] {first, second}) {
            NodeSettings settings = TestNodes.settings(cluster, ManualClock.fixed()).memberPort(port)
                    .policies(PolicyLoader.bundledDemo())
                    .kubernetesServiceName("sluice-members").kubernetesNamespace("limits").clusterSecretFile(secret)
                    .kubernetesApiUrl(apiUrl).kubernetesApiToken("token-for-tests")
                    // Plain HTTP here, so the CA is never used; without one Hazelcast reads the pod's.
                    .kubernetesCaCertificate(testCa()).build();
            starting.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> TestNodes.start(settings)));
        }
        for (var s : starting) {
            nodes.add(s.get(2, TimeUnit.MINUTES));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream()
                .allMatch(n -> n.hazelcast().getCluster().getMembers().size() == 2));

        assertTrue(requests.stream().anyMatch(r -> r.equals("GET /api/v1/namespaces/limits/endpoints/sluice-members Bearer token-for-tests")),
                "discovery asked the API for the service's endpoints with the token: " + requests);

        // One cluster: a bucket is shared whichever node is asked.
        List<ManagedChannel> channels = nodes.stream()
                .map(n -> ManagedChannelBuilder.forAddress("127.0.0.1", n.port()).usePlaintext().build()).toList();
        try {
            int allowed = 0;
            for (int i = 0; i < 20; i++) {
                var r = RateLimiterGrpc.newBlockingStub(channels.get(i % 2)).acquire(AcquireRequest.newBuilder()
                        .setDomain("demo").putDescriptors("ip", "203.0.113.77").build());
                allowed += r.getDecision() == Decision.ALLOWED ? 1 : 0;
            }
            assertEquals(10, allowed);
        } finally {
            for (ManagedChannel c : channels) {
                c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
