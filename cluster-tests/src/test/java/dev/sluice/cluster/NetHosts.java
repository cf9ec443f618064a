package dev.sluice.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Hosts of their own on this machine, made by a test and removed afterwards: a network namespace
 * per member and one for the load client, each with its own address on a private bridge, and the
 * faults a real network has: a link taken down, traffic between two groups of members dropped
 * both ways (nftables in each member's namespace; the client still reaches every member), or
 * one way only. Needs root, iproute2 and nftables. Names carry this JVM's process id, so that a
 * run killed before its clean-up leaves names the next run recognises and removes.
 */
final class NetHosts implements AutoCloseable {

    private static final String PREFIX = "slc";
    private final String id = Long.toString(ProcessHandle.current().pid());
    private final String subnet;
    private final int members;
    private final List<String> namespaces = new ArrayList<>();
    private boolean bridgeMade;
    private final Thread onExit = new Thread(this::removeQuietly, "net-hosts-clean-up");

    /** Why hosts cannot be made here, or {@code null} when they can. */
    static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network namespaces need root (running as " + System.getProperty("user.name") + ")";
        }
        for (String tool : List.of("ip", "nft")) {
            if (!onPath(tool)) {
                return "'" + tool + "' is not installed (iproute2, nftables)";
            }
        }
        String probe = PREFIX + "-probe-" + ProcessHandle.current().pid();
        try {
            run("ip", "netns", "add", probe);
            run("ip", "netns", "delete", probe);
            return null;
        } catch (IllegalStateException e) {
            return "cannot make a network namespace: " + e.getMessage();
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** {@code members} member hosts and a client host on a bridge of their own. */
    NetHosts(int members) {
        this.members = members;
        removeLeftovers();
        long pid = ProcessHandle.current().pid();
        this.subnet = "10.213." + (1 + pid % 250);
        Runtime.getRuntime().addShutdownHook(onExit);
        try {
            run("ip", "link", "add", "name", bridge(), "type", "bridge");
            bridgeMade = true;
            run("ip", "link", "set", bridge(), "up");
            for (int i = 0; i <= members; i++) {
                String ns = namespace(i);
                run("ip", "netns", "add", ns);
                namespaces.add(ns);
                run("ip", "link", "add", hostLink(i), "type", "veth", "peer", "name", hostLink(i) + "p");
                run("ip", "link", "set", hostLink(i) + "p", "netns", ns);
                run("ip", "netns", "exec", ns, "ip", "link", "set", hostLink(i) + "p", "name", "eth0");
                run("ip", "netns", "exec", ns, "ip", "addr", "add", address(i) + "/24", "dev", "eth0");
                run("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up");
                run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
                run("ip", "link", "set", hostLink(i), "master", bridge());
                run("ip", "link", "set", hostLink(i), "up");
                if (i > 0) {
                    nft(i, "add table inet " + PREFIX + "\n"
                            + "add chain inet " + PREFIX + " in { type filter hook input priority 0; }\n"
                            + "add chain inet " + PREFIX + " out { type filter hook output priority 0; }\n");
                }
            }
        } catch (RuntimeException e) {
            removeQuietly();
            throw e;
        }
    }

    /** Member {@code i}'s address (1 to members), or the client's (0). */
    String address(int i) {
        return subnet + "." + (i == 0 ? 100 : 10 + i);
    }

    /** The command prefix that runs a program on host {@code i}. */
    List<String> on(int i) {
        return List.of("ip", "netns", "exec", namespace(i));
    }

    /** Takes host {@code i}'s link down: nothing reaches it, nothing leaves it. */
    void isolate(int i) {
        run("ip", "link", "set", hostLink(i), "down");
    }

    void rejoin(int i) {
        run("ip", "link", "set", hostLink(i), "up");
    }

    /** Drops all traffic between the members of {@code a} and those of {@code b}, both ways. */
    void split(List<Integer> a, List<Integer> b) {
        for (int x : a) {
            drop(x, b, true, true);
        }
        for (int y : b) {
            drop(y, a, true, true);
        }
    }

    /** {@code from} reaches {@code to}; {@code to} does not reach {@code from}: what {@code to} sends {@code from} is dropped on arrival. */
    void oneWay(int from, int to) {
        drop(from, List.of(to), true, false);
    }

    /** Every rule gone: the members reach each other again. */
    void heal() {
        for (int i = 1; i <= members; i++) {
            nft(i, "flush chain inet " + PREFIX + " in\nflush chain inet " + PREFIX + " out\n");
        }
    }

    private void drop(int host, List<Integer> others, boolean incoming, boolean outgoing) {
        String set = others.stream().map(this::address).collect(Collectors.joining(", ", "{ ", " }"));
        StringBuilder script = new StringBuilder();
        if (incoming) {
            script.append("add rule inet ").append(PREFIX).append(" in ip saddr ").append(set).append(" drop\n");
        }
        if (outgoing) {
            script.append("add rule inet ").append(PREFIX).append(" out ip daddr ").append(set).append(" drop\n");
        }
        nft(host, script.toString());
    }

    private void nft(int host, String script) {
        List<String> command = new ArrayList<>(on(host));
        command.addAll(List.of("nft", "-f", "-"));
        feed(script, command.toArray(String[]::new));
    }

    private String namespace(int i) {
        return PREFIX + "-" + id + "-" + (i == 0 ? "client" : "m" + i);
    }

    private String hostLink(int i) {
        return PREFIX + id + (i == 0 ? "c" : "m" + i);
    }

    private String bridge() {
        return PREFIX + "b" + id;
    }

    /** Namespaces and bridges an earlier run's JVM, now gone, did not remove. */
    private static void removeLeftovers() {
        String listed = output("ip", "netns", "list");
        for (String line : listed.split("\n")) {
            String name = line.split(" ")[0];
            if (name.startsWith(PREFIX + "-") && !name.startsWith(PREFIX + "-probe")) {
                String pid = name.split("-")[1];
                if (ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    runQuietly("ip", "netns", "delete", name);
                    runQuietly("ip", "link", "delete", PREFIX + "b" + pid);
                }
            }
        }
    }

    private void removeQuietly() {
        for (int i = 0; i < namespaces.size(); i++) {
            // Deleting the host's end of a veth pair deletes both ends now; a deleted namespace's
            // would go too, but only once the kernel gets round to freeing the namespace.
            runQuietly("ip", "link", "delete", hostLink(i));
            runQuietly("ip", "netns", "delete", namespaces.get(i));
        }
        namespaces.clear();
        if (bridgeMade) {
            runQuietly("ip", "link", "delete", bridge());
            bridgeMade = false;
        }
    }

    /** What is left of this run's hosts: namespaces and links named for it. Empty after {@link #close}. */
    String leftovers() {
        List<String> left = new ArrayList<>();
        for (String line : output("ip", "netns", "list").split("\n")) {
            if (line.startsWith(PREFIX + "-" + id + "-")) {
                left.add(line.split(" ")[0]);
            }
        }
        for (String line : output("ip", "-o", "link", "show").split("\n")) {
            String[] f = line.split(": ");
            if (f.length > 1 && (f[1].startsWith(PREFIX + id) || f[1].startsWith(bridge()))) {
                left.add(f[1]);
            }
        }
        return String.join(", ", left);
    }

    @Override
    public void close() {
        removeQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // Already shutting down (the hook is running this), or closed before.
        }
    }

    private static void run(String... command) {
        feed(null, command);
    }

    /** Runs {@code command} with {@code input} on its standard input; fails with its output when it fails. */
    private static void feed(String input, String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (input != null) {
                p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out.trim());
            }
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void runQuietly(String... command) {
        try {
            run(command);
        } catch (IllegalStateException e) {
            // Best effort: already gone.
        }
    }

    private static String output(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }
}
