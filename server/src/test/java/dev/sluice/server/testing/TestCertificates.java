package dev.sluice.server.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificates made for a test: a CA, and leaf certificates it signs for servers (DNS localhost,
 * IP 127.0.0.1) and for callers (a SAN URI such as a SPIFFE id, or a DNS name), written as PEM
 * files with PKCS#8 keys.
 */
public final class TestCertificates {

    private static final AtomicLong SERIALS = new AtomicLong(System.nanoTime());

    /** A certificate with its key, and where they were written. */
    public record Issued(X509Certificate certificate, KeyPair keys, Path certFile, Path keyFile) {
        /** Copies this certificate and key over {@code cert} and {@code key}, as a rotation on disk does. */
        public void writeOver(Path cert, Path key) {
            try {
                Files.copy(certFile, cert, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.copy(keyFile, key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private final Path dir;
    private final Issued ca;

    /** A new CA named {@code name}, its files in {@code dir}. */
    public TestCertificates(Path dir, String name) {
        this.dir = dir;
        try {
            KeyPair keys = keys();
            X500Name subject = new X500Name("CN=" + name);
            X509v3CertificateBuilder b = builder(subject, subject, keys);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            this.ca = write(name + "-ca", sign(b, keys), keys);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public Issued ca() {
        return ca;
    }

    /** A server certificate for localhost and 127.0.0.1. */
    public Issued server(String name) {
        return leaf(name, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
    }

    /** A caller's certificate naming it by URI, such as {@code spiffe://test/ns/shop/sa/checkout}. */
    public Issued callerUri(String name, String uri) {
        return leaf(name, new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)));
    }

    /** A caller's certificate naming it by DNS name. */
    public Issued callerDns(String name, String dns) {
        return leaf(name, new GeneralNames(new GeneralName(GeneralName.dNSName, dns)));
    }

    private Issued leaf(String name, GeneralNames sans) {
        try {
            KeyPair keys = keys();
            X509v3CertificateBuilder b = builder(X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()),
                    new X500Name("CN=" + name), keys);
            b.addExtension(Extension.subjectAlternativeName, false, sans);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            return write(name, sign(b, ca.keys()), keys);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair keys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIALS.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws GeneralSecurityException {
        try {
            ContentSigner s = new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(b.build(s));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private Issued write(String name, X509Certificate cert, KeyPair keys) throws IOException, GeneralSecurityException {
        Path certFile = dir.resolve(name + ".crt");
        Path keyFile = dir.resolve(name + ".key");
        Files.writeString(certFile, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(keyFile, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
        return new Issued(cert, keys, certFile, keyFile);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
