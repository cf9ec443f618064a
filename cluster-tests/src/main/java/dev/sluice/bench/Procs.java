package dev.sluice.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts the processes a benchmark measures, each in a JVM (or program) of its own. */
final class Procs {

    private static final List<Process> STARTED = new ArrayList<>();

    private Procs() {
    }

    static Process java(String name, Path logDir, List<String> jvmFlags, String mainClass, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens", "java.management/sun.management=ALL-UNNAMED",
                "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
                "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return start(name, logDir, cmd);
    }

    static Process start(String name, Path logDir, List<String> cmd) throws IOException {
        Files.createDirectories(logDir);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logDir.resolve(name + ".log").toFile()).start();
        synchronized (STARTED) {
            STARTED.add(p);
        }
        return p;
    }

    static void awaitPort(int port, Process p, String name) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited early; see its log");
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException(name + " did not open port " + port);
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void stopAll() {
        synchronized (STARTED) {
            for (Process p : STARTED) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
            STARTED.clear();
        }
    }
}
