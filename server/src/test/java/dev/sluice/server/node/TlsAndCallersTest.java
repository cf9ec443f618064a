package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.TestCertificates;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gRPC port's TLS, mutual TLS and bearer tokens, over real sockets with certificates made in
 * the test; who a caller is, which domains it may ask, and its own request ids.
 */
class TlsAndCallersTest {

    private static final String POLICY = """
            domains:
              open:
                rules:
                  - name: r
                    limits: [{name: l, algorithm: fixed_window, limit: 10, window: 1h, key: [k]}]
              shop:
                callers: ["spiffe://test/ns/shop/*", checkout-service]
                rules:
                  - name: r
                    limits: [{name: l, algorithm: fixed_window, limit: 10, window: 1h, key: [k]}]
              billing:
                callers: [billing-service]
                rules:
                  - name: r
                    limits: [{name: l, algorithm: fixed_window, limit: 10, window: 1h, key: [k]}]
            """;

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private SluiceNode node(java.util.function.UnaryOperator<NodeSettings.Builder> settings) {
        SluiceNode n = TestNodes.start(settings.apply(TestNodes.settings(TestNodes.uniqueCluster("tls"), ManualClock.fixed())
                .policies(TestNodes.policies(POLICY)).credentialsReloadInterval(Duration.ofMillis(100))).build());
        open.add(n::close);
        return n;
    }

    private ManagedChannel channel(SluiceNode n, SslContext tls) {
        NettyChannelBuilder b = NettyChannelBuilder.forAddress("localhost", n.port());
        ManagedChannel c = (tls == null ? b.usePlaintext() : b.sslContext(tls)).build();
        open.add(() -> c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return c;
    }

    private static SslContext trusting(TestCertificates.Issued ca, TestCertificates.Issued client) throws Exception {
        SslContextBuilder b = GrpcSslContexts.forClient().trustManager(ca.certFile().toFile());
        if (client != null) {
            b.keyManager(client.certFile().toFile(), client.keyFile().toFile());
        }
        return b.build();
    }

    private static AcquireResponse acquire(ManagedChannel c, String domain, String key, String requestId, String token) {
        RateLimiterGrpc.RateLimiterBlockingStub stub = RateLimiterGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS);
        if (token != null) {
            Metadata m = new Metadata();
            m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
            stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
        }
        return stub.acquire(AcquireRequest.newBuilder().setDomain(domain).putDescriptors("k", key).setRequestId(requestId).build());
    }

    private static Status.Code failure(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    @Test
    void callsOverTlsSucceedAndPlaintextToTheTlsPortFails() throws Exception {
        TestCertificates certs = new TestCertificates(dir, "node-ca");
        TestCertificates.Issued server = certs.server("node");
        SluiceNode n = node(b -> b.tls(server.certFile(), server.keyFile()));
        assertEquals(Decision.ALLOWED, acquire(channel(n, trusting(certs.ca(), null)), "open", "a", "", null).getDecision());
        ManagedChannel plain = channel(n, null);
        assertEquals(Status.Code.UNAVAILABLE, failure(() -> acquire(plain, "open", "a", "", null)));
    }

    @Test
    void onlyTls12And13AreOffered() throws Exception {
        TestCertificates certs = new TestCertificates(dir, "node-ca");
        TestCertificates.Issued server = certs.server("node");
        SluiceNode n = node(b -> b.tls(server.certFile(), server.keyFile()));
        SslContext tls11 = GrpcSslContexts.forClient().trustManager(certs.ca().certFile().toFile()).protocols("TLSv1.1").build();
        ManagedChannel old = channel(n, tls11);
        assertEquals(Status.Code.UNAVAILABLE, failure(() -> acquire(old, "open", "a", "", null)));
    }

    @Test
    void mutualTlsRefusesACallerWithoutACertificateAndNamesCallersByTheirSan() throws Exception {
        TestCertificates certs = new TestCertificates(dir, "mesh-ca");
        TestCertificates.Issued server = certs.server("node");
        SluiceNode n = node(b -> b.tls(server.certFile(), server.keyFile()).tlsClientCa(certs.ca().certFile()));
        ManagedChannel noCertificate = channel(n, trusting(certs.ca(), null));
        assertEquals(Status.Code.UNAVAILABLE, failure(() -> acquire(noCertificate, "open", "a", "", null)),
                "no client certificate: the handshake fails");
        TestCertificates.Issued shop = certs.callerUri("shop", "spiffe://test/ns/shop/sa/cart");
        ManagedChannel asShop = channel(n, trusting(certs.ca(), shop));
        assertEquals(Decision.ALLOWED, acquire(asShop, "shop", "a", "", null).getDecision(), "its SPIFFE id matches spiffe://test/ns/shop/*");
        StatusRuntimeException denied = assertThrows(StatusRuntimeException.class, () -> acquire(asShop, "billing", "a", "", null));
        assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
        assertTrue(denied.getStatus().getDescription().contains("\"billing\""), denied.getStatus().getDescription());
        assertTrue(denied.getStatus().getDescription().contains("spiffe://test/ns/shop/sa/cart"), "names the caller");
        assertFalse(denied.getStatus().getDescription().contains("billing-service"), "does not tell who may ask");
        TestCertificates.Issued byDns = certs.callerDns("checkout", "checkout-service");
        assertEquals(Decision.ALLOWED, acquire(channel(n, trusting(certs.ca(), byDns)), "shop", "a", "", null).getDecision(),
                "a certificate without a URI is known by its DNS name");
        TestCertificates other = new TestCertificates(dir, "other-ca");
        TestCertificates.Issued stranger = other.callerUri("stranger", "spiffe://test/ns/shop/sa/evil");
        ManagedChannel asStranger = channel(n, trusting(certs.ca(), stranger));
        assertEquals(Status.Code.UNAVAILABLE, failure(() -> acquire(asStranger, "shop", "a", "", null)),
                "a certificate another CA signed is refused in the handshake");
    }

    @Test
    void aCertificateRotatedOnDiskIsUsedByNewConnectionsWhileOpenOnesGoOn() throws Exception {
        TestCertificates certs = new TestCertificates(dir, "rotating-ca");
        TestCertificates.Issued first = certs.server("node-1");
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        first.writeOver(cert, key);
        SluiceNode n = node(b -> b.tls(cert, key));
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        ManagedChannel before = channel(n, recording(certs, seen));
        acquire(before, "open", "rot-1", "", null);
        assertEquals(first.certificate(), seen.get());

        TestCertificates.Issued second = certs.server("node-2");
        second.writeOver(cert, key);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            AtomicReference<X509Certificate> fresh = new AtomicReference<>();
            acquire(channel(n, recording(certs, fresh)), "open", "rot-2", "", null);
            assertEquals(second.certificate(), fresh.get(), "a new connection is served the new certificate");
        });
        assertEquals(Decision.ALLOWED, acquire(before, "open", "rot-3", "", null).getDecision(), "the open connection goes on");

        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
        Thread.sleep(500); // several reload intervals: the bad key is read, refused, and nothing changes
        AtomicReference<X509Certificate> after = new AtomicReference<>();
        assertEquals(Decision.ALLOWED, acquire(channel(n, recording(certs, after)), "open", "rot-4", "", null).getDecision());
        assertEquals(second.certificate(), after.get(), "a key that cannot be used is refused and the one in use stays");
    }

    /** A client context that trusts the CA and records the certificate each handshake is served. */
    private static SslContext recording(TestCertificates certs, AtomicReference<X509Certificate> seen) throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", certs.ca().certificate());
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        X509TrustManager trust = (X509TrustManager) f.getTrustManagers()[0];
        X509TrustManager recorder = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
                trust.checkClientTrusted(chain, authType);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
                seen.set(chain[0]);
                trust.checkServerTrusted(chain, authType);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return trust.getAcceptedIssuers();
            }
        };
        return GrpcSslContexts.forClient().trustManager(recorder).build();
    }

    @Test
    void bearerTokensIdentifyCallersAndUnknownOrMissingOnesAreRefused() throws Exception {
        Path tokens = Files.writeString(dir.resolve("tokens"), "# caller  hashed token\ncheckout-service sha256:"
                + CallerTokens.sha256("s3cret-checkout") + "\nbilling-service sha256:" + CallerTokens.sha256("s3cret-billing") + "\n");
        TestCertificates certs = new TestCertificates(dir, "node-ca");
        TestCertificates.Issued server = certs.server("node");
        SluiceNode n = node(b -> b.tls(server.certFile(), server.keyFile()).callerTokens(tokens));
        ManagedChannel c = channel(n, trusting(certs.ca(), null));
        assertEquals(Status.Code.UNAUTHENTICATED, failure(() -> acquire(c, "open", "t", "", null)), "no token");
        StatusRuntimeException wrong = assertThrows(StatusRuntimeException.class, () -> acquire(c, "open", "t", "", "guess"));
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode());
        assertFalse(wrong.getStatus().getDescription().contains("checkout"), "the refusal names no caller");
        assertEquals(Decision.ALLOWED, acquire(c, "shop", "t", "", "s3cret-checkout").getDecision());
        assertEquals(Status.Code.PERMISSION_DENIED, failure(() -> acquire(c, "shop", "t", "", "s3cret-billing")));
        assertEquals(Decision.ALLOWED, acquire(c, "billing", "t", "", "s3cret-billing").getDecision());

        Files.writeString(tokens, "checkout-service sha256:" + CallerTokens.sha256("rotated") + "\n");
        await().atMost(Duration.ofSeconds(20)).until(() -> acquire(c, "shop", "t2", "", "rotated").getDecision() == Decision.ALLOWED);
        assertEquals(Status.Code.UNAUTHENTICATED, failure(() -> acquire(c, "shop", "t", "", "s3cret-checkout")), "the old token is gone");
        Files.writeString(tokens, "this is not a token file\n");
        Thread.sleep(500);
        assertEquals(Decision.ALLOWED, acquire(c, "shop", "t3", "", "rotated").getDecision(), "an invalid file is refused; the tokens in use stay");
    }

    @Test
    void anAnonymousCallerIsRefusedByADomainThatNamesItsCallersAndServedByOneThatDoesNot() {
        SluiceNode n = node(b -> b);
        ManagedChannel c = channel(n, null);
        assertEquals(Decision.ALLOWED, acquire(c, "open", "anon", "", null).getDecision());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> acquire(c, "shop", "anon", "", null));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("\"shop\""), e.getStatus().getDescription());
    }

    @Test
    void twoCallersUsingTheSameRequestIdAreCountedApart() throws Exception {
        Path tokens = Files.writeString(dir.resolve("tokens"), "checkout-service sha256:" + CallerTokens.sha256("a-token")
                + "\nother-service sha256:" + CallerTokens.sha256("b-token") + "\n");
        SluiceNode n = node(b -> b.callerTokens(tokens));
        ManagedChannel c = channel(n, null);
        assertEquals(9, acquire(c, "open", "shared", "request-1", "a-token").getLimits(0).getRemaining());
        assertEquals(8, acquire(c, "open", "shared", "request-1", "b-token").getLimits(0).getRemaining(),
                "another caller's id is not this caller's: counted");
        assertEquals(8, acquire(c, "open", "shared", "request-1", "a-token").getLimits(0).getRemaining(),
                "the same caller repeating its id is answered without counting");
    }

    @Test
    void healthCanBeServedInPlaintextOnAPortOfItsOwnBesideTls() throws Exception {
        TestCertificates certs = new TestCertificates(dir, "node-ca");
        TestCertificates.Issued server = certs.server("node");
        SluiceNode n = node(b -> b.tls(server.certFile(), server.keyFile()).healthPort(Ports.free()));
        ManagedChannel probe = NettyChannelBuilder.forAddress("127.0.0.1", n.healthPort()).usePlaintext().build();
        open.add(() -> probe.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(probe).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance()).getStatus());
        assertEquals(Status.Code.UNIMPLEMENTED, failure(() -> RateLimiterGrpc.newBlockingStub(probe)
                .acquire(AcquireRequest.newBuilder().setDomain("open").build())), "health alone: no decisions in plaintext");
    }
}
