package dev.sluice.server.node;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret the members of a cluster share. Hazelcast's open-source edition authenticates
 * nothing but the cluster name a joining member presents, so the name members present is derived
 * from the secret: a member (or a client) that does not know the secret presents another name and
 * is refused. The derived name still crosses the member network in the clear, which is why member
 * traffic must stay on a network only members reach (see docs/security.md).
 */
final class ClusterSecret {

    /** The shortest secret accepted, in characters. */
    static final int MIN_LENGTH = 16;

    /** How the shipped Kubernetes Secret marks a value still to be replaced. */
    static final String PLACEHOLDER = "REPLACE-ME";

    static final String HOW_TO_MAKE_ONE = "make one with `openssl rand -hex 32 > cluster-secret` and give every member the same"
            + " file (on Kubernetes: kubectl create secret generic sluice-cluster-secret --from-literal=secret=$(openssl rand -hex 32))";

    private ClusterSecret() {
    }

    /** What is wrong with the secret in {@code file}, or {@code null} when it may be used. */
    static String problem(Path file) {
        String secret;
        try {
            secret = read(file);
        } catch (IOException e) {
            return "cannot be read: " + e.getMessage();
        }
        if (secret.startsWith(PLACEHOLDER)) {
            return "still holds the placeholder; " + HOW_TO_MAKE_ONE;
        }
        if (secret.length() < MIN_LENGTH) {
            return "holds a secret of " + secret.length() + " characters, at least " + MIN_LENGTH + " needed; " + HOW_TO_MAKE_ONE;
        }
        return null;
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8).strip();
    }

    /** The cluster name members with this secret present: the configured name and a keyed digest of it. */
    static String clusterName(String name, Path file) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(read(file).getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] digest = mac.doFinal(name.getBytes(StandardCharsets.UTF_8));
            return name + "-" + HexFormat.of().formatHex(digest, 0, 16);
        } catch (IOException e) {
            throw new IllegalStateException("the cluster secret file " + file + " cannot be read: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /**
     * Whether the member port can be reached from beyond this host: its address is not loopback,
     * it is chosen by Hazelcast, another member's address is not loopback, or members are found
     * through Kubernetes. Such a member needs the secret.
     */
    static boolean needed(String memberHost, List<String> members, boolean kubernetes) {
        if (kubernetes) {
            return true;
        }
        String host = memberHost != null ? memberHost : members.isEmpty() ? "127.0.0.1" : null;
        if (host == null || !loopback(host)) {
            return true;
        }
        for (String m : members) {
            if (!loopback(m.substring(0, m.lastIndexOf(':')))) {
                return true;
            }
        }
        return false;
    }

    private static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
