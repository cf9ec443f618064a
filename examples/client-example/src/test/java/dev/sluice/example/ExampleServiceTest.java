package dev.sluice.example;

import dev.sluice.client.SluiceClient;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestCertificates;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import jakarta.servlet.FilterChain;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The example service and the servlet filter, against a real node with the demo policy. */
class ExampleServiceTest {

    private static SluiceNode node;

    @BeforeAll
    static void start() {
        node = TestNodes.single(TestNodes.uniqueCluster("example"), ManualClock.fixed(), PolicyLoader.bundledDemo());
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static SluiceClient client() {
        return SluiceClient.builder().target("127.0.0.1:" + node.port()).deadline(Duration.ofSeconds(2)).build();
    }

    @Test
    void theEleventhRequestInASecondGets429WithThePolicysHeaders() throws Exception {
        try (ExampleService service = new ExampleService(0, client())) {
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + "/hello")).build();
            for (int i = 0; i < 10; i++) {
                HttpResponse<String> ok = http.send(get, HttpResponse.BodyHandlers.ofString());
                assertEquals(200, ok.statusCode());
                assertTrue(ok.headers().firstValue("RateLimit-Policy").isPresent());
            }
            HttpResponse<String> denied = http.send(get, HttpResponse.BodyHandlers.ofString());
            assertEquals(429, denied.statusCode());
            assertEquals("1", denied.headers().firstValue("Retry-After").orElseThrow());
            assertEquals("\"per-ip\";r=0;t=1", denied.headers().firstValue("RateLimit").orElseThrow());
        }
    }

    @Test
    void theFilterPassesAllowedRequestsOnAndAnswersDenialsItself() throws Exception {
        try (SluiceClient sluice = client()) {
            SluiceFilter filter = new SluiceFilter(sluice);
            AtomicInteger passed = new AtomicInteger();
            FilterChain chain = (req, res) -> passed.incrementAndGet();
            List<String> denials = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                StringWriter body = new StringWriter();
                List<String> written = new ArrayList<>();
                filter.doFilter(request("192.0.2.44"), response(written, body), chain);
                if (written.stream().anyMatch(w -> w.startsWith("status"))) {
                    denials.add(String.join(" | ", written));
                }
            }
            assertEquals(10, passed.get());
            assertEquals(2, denials.size());
            assertTrue(denials.get(0).contains("status 429") && denials.get(0).contains("Retry-After: 1"), denials.get(0));
        }
    }

    private static HttpServletRequest request(String ip) {
        return (HttpServletRequest) Proxy.newProxyInstance(ExampleServiceTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (p, m, a) -> switch (m.getName()) {
                    case "getRemoteAddr" -> ip;
                    case "getRequestURI" -> "/orders";
                    case "getMethod" -> "GET";
                    default -> null;
                });
    }

    private static HttpServletResponse response(List<String> written, StringWriter body) {
        return (HttpServletResponse) Proxy.newProxyInstance(ExampleServiceTest.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (p, m, a) -> switch (m.getName()) {
                    case "setStatus" -> {
                        written.add("status " + a[0]);
                        yield null;
                    }
                    case "addHeader" -> {
                        written.add(a[0] + ": " + a[1]);
                        yield null;
                    }
                    case "getWriter" -> new PrintWriter(body);
                    default -> null;
                });
    }

    @Test
    void theServiceSpeaksTlsWithABearerTokenWhenTheEnvironmentSaysSo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        TestCertificates certs = new TestCertificates(dir, "example-ca");
        TestCertificates.Issued server = certs.server("node");
        String hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest("example-token".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        java.nio.file.Path tokens = java.nio.file.Files.writeString(dir.resolve("tokens"), "example-service sha256:" + hash + "\n");
        SluiceNode secure = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("example-tls"), ManualClock.fixed())
                .policies(TestNodes.policies("""
                        domains:
                          demo:
                            callers: [example-service]
                            rules:
                              - name: per-ip
                                limits: [{name: per-ip, algorithm: token_bucket, capacity: 10, refill: 10, key: [ip]}]
                        """)).tls(server.certFile(), server.keyFile()).callerTokens(tokens).build());
        SluiceClient client = ExampleService.client("localhost:" + secure.port(), java.util.Map.of(
                "SLUICE_TLS_CA", certs.ca().certFile().toString(), "SLUICE_TOKEN", "example-token")).deadline(Duration.ofSeconds(5)).build();
        try (ExampleService service = new ExampleService(0, client)) {
            HttpResponse<String> ok = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + service.port() + "/hello")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode());
            assertEquals("\"per-ip\";q=10;w=1", ok.headers().firstValue("RateLimit-Policy").orElse(null), "a decision, not the failure mode");
        } finally {
            secure.close();
        }
    }
}
