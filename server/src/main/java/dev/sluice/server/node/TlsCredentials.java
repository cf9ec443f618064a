package dev.sluice.server.node;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.logging.Logger;
import javax.net.ssl.SSLException;

/**
 * The gRPC port's TLS: its certificate chain and key and, for mutual TLS, the CA certificates
 * callers' certificates must chain to, read from PEM files and looked at again every interval.
 * New files are checked first (they parse, the key matches the certificate) and then used by new
 * connections, without a restart and without touching connections already open; files that
 * cannot be used are refused with a warning, once per content, and the ones in use stay.
 * Only TLS 1.2 and 1.3 are offered.
 */
final class TlsCredentials {

    private static final Logger LOG = Logger.getLogger(TlsCredentials.class.getName());

    private final Path certFile;
    private final Path keyFile;
    private final Path caFile;
    private final AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    private final AdvancedTlsX509TrustManager trust;
    private final SslContext context;
    private byte[] loaded = new byte[0];
    private byte[] refused = new byte[0];

    /** Reads the files now; a file that cannot be used stops start-up with a message naming it. */
    TlsCredentials(Path certFile, Path keyFile, Path caFile) throws SettingsException {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.caFile = caFile;
        try {
            this.trust = caFile == null ? null : AdvancedTlsX509TrustManager.newBuilder()
                    .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build();
        } catch (GeneralSecurityException e) {
            throw new SettingsException("TLS: cannot make a trust manager: " + e.getMessage());
        }
        byte[] contents = contents();
        String problem = apply(contents);
        if (problem != null) {
            throw new SettingsException(problem);
        }
        loaded = contents;
        SslContextBuilder b = GrpcSslContexts.configure(SslContextBuilder.forServer(keys)).protocols("TLSv1.3", "TLSv1.2");
        if (trust != null) {
            b.trustManager(trust).clientAuth(ClientAuth.REQUIRE);
        }
        try {
            this.context = b.build();
        } catch (SSLException e) {
            throw new SettingsException("TLS: " + e.getMessage());
        }
    }

    SslContext serverContext() {
        return context;
    }

    /** Whether callers must present certificates (mutual TLS). */
    boolean mutual() {
        return trust != null;
    }

    /** Looks at the files again; uses them when they changed and can be used. */
    synchronized void reload() {
        byte[] contents;
        try {
            contents = contents();
        } catch (SettingsException e) {
            // Mid-swap, or the volume is gone for a moment: keep what is in use, look again later.
            return;
        }
        if (Arrays.equals(contents, loaded) || Arrays.equals(contents, refused)) {
            return;
        }
        String problem = apply(contents);
        if (problem != null) {
            refused = contents;
            LOG.warning(problem + "; the certificate and key in use stay");
            return;
        }
        loaded = contents;
        refused = new byte[0];
        LOG.info(() -> "TLS certificate from " + certFile + " in use for new connections");
    }

    private byte[] contents() throws SettingsException {
        try {
            byte[] cert = Files.readAllBytes(certFile);
            byte[] key = Files.readAllBytes(keyFile);
            byte[] ca = caFile == null ? new byte[0] : Files.readAllBytes(caFile);
            byte[] all = Arrays.copyOf(cert, cert.length + key.length + ca.length + 2);
            System.arraycopy(key, 0, all, cert.length + 1, key.length);
            System.arraycopy(ca, 0, all, cert.length + key.length + 2, ca.length);
            return all;
        } catch (IOException e) {
            throw new SettingsException("TLS: cannot read " + e.getMessage());
        }
    }

    /** Parses and checks the files' current contents and puts them in use; the problem, or {@code null}. */
    private String apply(byte[] contents) {
        X509Certificate[] chain;
        PrivateKey key;
        X509Certificate[] cas = null;
        try {
            chain = CertificateUtils.getX509Certificates(Files.newInputStream(certFile));
        } catch (IOException | GeneralSecurityException e) {
            return "TLS: " + certFile + " holds no PEM certificate: " + e.getMessage();
        }
        if (chain.length == 0) {
            return "TLS: " + certFile + " holds no PEM certificate";
        }
        try {
            String text = Files.readString(keyFile, StandardCharsets.US_ASCII);
            if (text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY")) {
                return "TLS: " + keyFile + " holds a PKCS#1 or SEC1 key; Sluice reads PKCS#8 keys (BEGIN PRIVATE KEY): convert it with"
                        + " `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY8`, or set privateKey.encoding: PKCS8 on a cert-manager Certificate";
            }
            key = CertificateUtils.getPrivateKey(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return "TLS: " + keyFile + " holds no PEM private key: " + e.getMessage();
        }
        if (!matches(key, chain[0])) {
            return "TLS: the key in " + keyFile + " is not the key of the certificate in " + certFile;
        }
        if (caFile != null) {
            try {
                cas = CertificateUtils.getX509Certificates(Files.newInputStream(caFile));
            } catch (IOException | GeneralSecurityException e) {
                return "TLS: " + caFile + " holds no PEM CA certificate: " + e.getMessage();
            }
            if (cas.length == 0) {
                return "TLS: " + caFile + " holds no PEM CA certificate";
            }
        }
        keys.updateIdentityCredentials(chain, key);
        if (cas != null) {
            try {
                trust.updateTrustCredentials(cas);
            } catch (IOException | GeneralSecurityException e) {
                return "TLS: the CA certificates in " + caFile + " cannot be used: " + e.getMessage();
            }
        }
        return null;
    }

    /** Whether {@code key} signs what {@code cert}'s public key verifies. */
    private static boolean matches(PrivateKey key, X509Certificate cert) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return true; // an unusual key type: the handshake will tell
        }
        try {
            byte[] probe = "sluice".getBytes(StandardCharsets.US_ASCII);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(cert.getPublicKey());
            verify.update(probe);
            return verify.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
