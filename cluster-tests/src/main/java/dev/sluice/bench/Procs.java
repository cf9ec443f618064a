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

    private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT =
            new java.util.concurrent.atomic.AtomicInteger(java.util.concurrent.ThreadLocalRandom.current().nextInt(12_000));

    /**
     * A port no one listens on, from below the kernel's ephemeral range so no outgoing connection can take it
     * between this probe and the bind of the process it is meant for.
     */
    static int freePort() throws IOException {
        for (int tries = 0; tries < 12_000; tries++) {
            int port = 20_000 + Math.floorMod(NEXT_PORT.getAndIncrement(), 12_000);
            try (java.net.ServerSocket s = new java.net.ServerSocket()) {
                s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
                return port;
            } catch (IOException taken) {
                // next one
            }
        }
        throw new IOException("no free port between 20000 and 32000");
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
