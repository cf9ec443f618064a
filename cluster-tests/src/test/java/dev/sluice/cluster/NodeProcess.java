package dev.sluice.cluster;

import dev.sluice.server.testing.Ports;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import org.awaitility.Awaitility;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Sluice node in a JVM of its own, started with the real entry point, so a test can stop it
 * with SIGTERM or kill it with SIGKILL as an operator or a crash would.
 */
final class NodeProcess implements AutoCloseable {

    private final String name;
    private final Process process;
    private final int port;
    private final int memberPort;
    private final Path log;
    private final ManagedChannel channel;

    private NodeProcess(String name, Process process, int port, int memberPort, Path log) {
        this.name = name;
        this.process = process;
        this.port = port;
        this.memberPort = memberPort;
        this.log = log;
        this.channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    /** Ports for a node to be started later, so every member can be told every address up front. */
    record Addresses(int port, int memberPort, int metricsPort) {
        static Addresses free() {
            return new Addresses(Ports.free(), Ports.free(), Ports.free());
        }

        String member() {
            return "127.0.0.1:" + memberPort;
        }
    }

    /**
     * Starts {@code dev.sluice.server.node.Main} in a new JVM.
     *
     * @param prefix a command to run the JVM under (e.g. faketime), or empty
     */
    static NodeProcess start(String name, Addresses ports, List<String> members, String cluster, Path policies, Path logDir,
                             List<String> prefix) {
        return start(name, ports, members, cluster, policies, logDir, prefix, List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), List.of());
    }

    /**
     * As {@link #start(String, Addresses, List, String, Path, Path, List)}, with the JVM's heap and
     * compiler options and the node's further flags given.
     */
    static NodeProcess start(String name, Addresses ports, List<String> members, String cluster, Path policies, Path logDir,
                             List<String> prefix, List<String> jvmOptions, List<String> flags) {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(java(jvmOptions, "dev.sluice.server.node.Main"));
        command.addAll(List.of(
                "--port", Integer.toString(ports.port()), "--host", "127.0.0.1",
                "--member-port", Integer.toString(ports.memberPort()), "--member-host", "127.0.0.1",
                "--members", String.join(",", members), "--cluster-name", cluster,
                "--policies", policies.toString(), "--shutdown-grace", "5s", "--metrics-port", Integer.toString(ports.metricsPort()),
                // Warming takes seconds a node; the test of it asks for it.
                "--warm-up", "0"));
        command.addAll(flags);
        try {
            Files.createDirectories(logDir);
            Path log = logDir.resolve(name + ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
            return new NodeProcess(name, builder.start(), ports.port(), ports.memberPort(), log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This JVM's java, with {@code jvmOptions} and what Hazelcast's and the node's classes need, running {@code mainClass}. */
    static List<String> java(List<String> jvmOptions, String mainClass) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-XX:+UseSerialGC",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens", "java.management/sun.management=ALL-UNNAMED",
                "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
                "-cp", NodeClasspath.get(), mainClass));
        return command;
    }

    /**
     * Starts {@code count} nodes named {@code name-node-i} as one cluster serving {@code policies},
     * each closed by {@code closer}, and waits until every one is serving.
     */
    static List<NodeProcess> cluster(Closer closer, int count, String name, Path policies) {
        List<Addresses> addresses = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            addresses.add(Addresses.free());
        }
        List<String> members = addresses.stream().map(Addresses::member).toList();
        String cluster = dev.sluice.server.testing.TestNodes.uniqueCluster(name);
        List<NodeProcess> nodes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            nodes.add(closer.add(start(name + "-node-" + i, addresses.get(i), members, cluster, policies, Path.of("target", "node-logs"),
                    List.of())));
        }
        nodes.forEach(NodeProcess::awaitServing);
        return nodes;
    }

    /** The address a client asks this node at. */
    String target() {
        return "127.0.0.1:" + port;
    }

    void awaitServing() {
        Awaitility.await(name + " serving").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError(name + " exited early:\n" + Files.readString(log));
                    }
                    return health() == ServingStatus.SERVING;
                });
    }

    ServingStatus health() {
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } catch (RuntimeException e) {
            return ServingStatus.UNKNOWN;
        }
    }

    String name() {
        return name;
    }

    /** The node's JVM's process id. */
    long pid() {
        return jvmAndWrapper().get(0).pid();
    }

    int memberPort() {
        return memberPort;
    }

    ManagedChannel channel() {
        return channel;
    }

    boolean alive() {
        return process.isAlive();
    }

    /**
     * The JVM itself: the process, or its descendant when a wrapper such as faketime forks it
     * (signals sent to the wrapper would not reach it).
     */
    private List<ProcessHandle> jvmAndWrapper() {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        java.util.Collections.reverse(all);
        all.add(process.toHandle());
        return all;
    }

    /** SIGKILL: no shutdown hook, no migration, connections cut. */
    void kill() throws InterruptedException {
        for (ProcessHandle h : jvmAndWrapper()) {
            h.destroyForcibly();
        }
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: the node stops gracefully. */
    void stop() throws InterruptedException {
        List<ProcessHandle> all = jvmAndWrapper();
        for (ProcessHandle h : all) {
            h.destroy();
            try {
                h.onExit().get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                h.destroyForcibly();
            }
        }
        process.waitFor(10, TimeUnit.SECONDS);
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        for (ProcessHandle h : jvmAndWrapper()) {
            h.destroyForcibly();
        }
        process.waitFor(30, TimeUnit.SECONDS);
    }
}
