package dev.sluice.client;

import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.TestCertificates;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client over TLS to a real node: trust roots, a bearer token, a client certificate, and what a refusal does. */
class ClientTlsTest {

    private static final String POLICY = """
            domains:
              checkout:
                callers: [checkout-service, "spiffe://test/ns/shop/sa/checkout"]
                rules:
                  - name: r
                    limits: [{name: l, algorithm: fixed_window, limit: 5, window: 1h, key: [k]}]
            """;

    @TempDir
    Path dir;

    private SluiceNode node;

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static String sha256(String token) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    }

    private SluiceClient.Builder client(TestCertificates certs) {
        return SluiceClient.builder().target("localhost:" + node.port()).deadline(Duration.ofSeconds(5))
                .failureMode(FailureMode.FAIL_OPEN);
    }

    @Test
    void aBearerTokenOverTlsIdentifiesTheServiceAndAnUnknownOneThrowsInsteadOfFailingOpen() throws Exception {
        TestCertificates certs = new TestCertificates(dir, "ca");
        TestCertificates.Issued server = certs.server("node");
        Path tokens = Files.writeString(dir.resolve("tokens"), "checkout-service sha256:" + sha256("t0ken") + "\n");
        node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("client-tls"), ManualClock.fixed())
                .policies(TestNodes.policies(POLICY)).tls(server.certFile(), server.keyFile()).callerTokens(tokens).build());
        try (SluiceClient sluice = client(certs).tls(certs.ca().certFile()).bearerToken("t0ken").build()) {
            AcquireResult r = sluice.acquire(Acquire.domain("checkout").with("k", "a"));
            assertEquals(AcquireResult.Source.SERVER, r.source());
            assertEquals(4, r.limits().get(0).remaining());
        }
        try (SluiceClient stranger = client(certs).tls(certs.ca().certFile()).bearerToken("guess").streaming(false).build()) {
            SluiceClientException e = assertThrows(SluiceClientException.class, () -> stranger.acquire(Acquire.domain("checkout").with("k", "a")));
            assertEquals("UNAUTHENTICATED", e.code(), "a refused caller is never answered by the failure mode");
        }
    }

    @Test
    void mutualTlsPresentsTheServicesCertificate() throws Exception {
        TestCertificates certs = new TestCertificates(dir, "mesh");
        TestCertificates.Issued server = certs.server("node");
        TestCertificates.Issued checkout = certs.callerUri("checkout", "spiffe://test/ns/shop/sa/checkout");
        TestCertificates.Issued other = certs.callerUri("other", "spiffe://test/ns/shop/sa/other");
        node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("client-mtls"), ManualClock.fixed())
                .policies(TestNodes.policies(POLICY)).tls(server.certFile(), server.keyFile()).tlsClientCa(certs.ca().certFile()).build());
        try (SluiceClient sluice = client(certs).tls(certs.ca().certFile(), checkout.certFile(), checkout.keyFile()).build()) {
            assertEquals(AcquireResult.Source.SERVER, sluice.acquire(Acquire.domain("checkout").with("k", "m")).source());
        }
        try (SluiceClient denied = client(certs).tls(certs.ca().certFile(), other.certFile(), other.keyFile()).build()) {
            SluiceClientException e = assertThrows(SluiceClientException.class, () -> denied.acquire(Acquire.domain("checkout").with("k", "m")));
            assertEquals("PERMISSION_DENIED", e.code());
            assertTrue(e.getMessage().contains("checkout"), e.getMessage());
        }
    }

    @Test
    void aBearerTokenIsNeverConfiguredWithoutTls() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SluiceClient.builder().target("localhost:8081").bearerToken("t").build());
        assertTrue(e.getMessage().contains("only over TLS"), e.getMessage());
    }
}
