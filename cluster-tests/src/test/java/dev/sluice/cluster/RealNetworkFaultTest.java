package dev.sluice.cluster;

import dev.sluice.cluster.NetworkLoadAgent.Operation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Faults on a real network: every member a host of its own (a network namespace with its own
 * address on a bridge), the load client on another, and the faults made the way a network makes
 * them: traffic between members dropped (nftables), a link taken down, one direction dropped, a
 * member frozen with SIGSTOP, a member killed while split. Every request the client makes is
 * recorded (sent, answered, node, request id, outcome, each attempt) and the history is checked
 * per bucket: while split, at most one extra limit per side; after the heal nothing beyond what
 * the more consumed side had left (no acknowledged consumption lost); with
 * {@code --min-cluster-size} a majority, nothing admitted by the minority, which answers
 * {@code UNAVAILABLE}. Time to detect, time to merge and the error window are printed.
 */
class RealNetworkFaultTest {

    /** Units per bucket: fixed windows of ten years, so nothing refills within a test. */
    static final int LIMIT = 100;
    static final String POLICY = """
            domains:
              net:
                rules:
                  - name: units
                    limits: [{name: units, algorithm: fixed_window, limit: %d, window: 3650d, key: [k]}]
            """.formatted(LIMIT);
    /** The members' failure detection in these tests: a heartbeat a second, gone after four without one. */
    static final List<String> DETECTION = List.of("--heartbeat-interval", "1s", "--member-timeout", "4s", "--merge-interval", "2s");
    static final int KEYS = 8;
    static final double RATE = 160;

    @TempDir
    Path dir;
    private final List<AutoCloseable> opened = new ArrayList<>();

    @BeforeAll
    static void hostsCanBeMade() {
        String why = NetHosts.unavailable();
        if (why != null) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI must run the real-network fault tests, but " + why);
            }
            Assumptions.abort("real-network fault tests skipped: " + why);
        }
    }

    @AfterEach
    void tearDown() {
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                // Go on removing the rest.
            }
        }
    }

    @Test
    void threeMembersSplitIsolatedCutOneWayFrozenAndKilledWhileSplit() throws Exception {
        Cluster c = new Cluster(3, List.of());
        Scenario split = c.run("split 2|1", () -> c.hosts.split(List.of(1, 2), List.of(3)),
                () -> c.sees(1, 2) && c.sees(2, 2) && c.sees(3, 1), c.hosts::heal, () -> c.allSee(3), List.of(Set.of(1, 2), Set.of(3)));
        split.assertWithinTheBound(2);

        for (int round = 1; round <= 2; round++) {
            Scenario isolated = c.run("isolated " + round, () -> c.hosts.isolate(3), () -> c.sees(1, 2) && c.sees(2, 2),
                    () -> c.hosts.rejoin(3), () -> c.allSee(3), List.of(Set.of(1, 2), Set.of(3)));
            isolated.assertWithinTheBound(2);
            assertEquals(0, isolated.answeredBy(3, isolated.detected, isolated.healed), "nothing reaches a member whose link is down");
        }

        Scenario oneWay = c.run("one way", () -> c.hosts.oneWay(1, 2), () -> !c.sees(1, 3) || !c.sees(2, 3) || !c.sees(3, 3),
                c.hosts::heal, () -> c.allSee(3), List.of(Set.of(1), Set.of(2), Set.of(3)));
        oneWay.assertWithinTheBound(2);

        HostedNode frozen = c.nodes.get(2);
        Scenario freeze = c.run("frozen", frozen::freeze, () -> c.sees(1, 2) && c.sees(2, 2), frozen::resume, () -> c.allSee(3),
                List.of(Set.of(1, 2), Set.of(3)));
        freeze.assertWithinTheBound(2);

        HostedNode killed = c.nodes.get(0);
        Scenario kill = c.run("killed while split", () -> c.hosts.split(List.of(1, 2), List.of(3)),
                () -> c.sees(3, 1) && (c.sees(2, 2) || !c.nodes.get(0).alive() && c.sees(2, 1)), c.hosts::heal,
                () -> c.sees(2, 2) && c.sees(3, 2),
                List.of(Set.of(1, 2), Set.of(3)), () -> {
                    // One fault at a time: the larger side first gives every partition a backup on its own side again (the
                    // split took the replicas on member 3 from it). Killed before that, a member takes the last copy of
                    // its partitions' buckets with it: two replicas lost at once, which one backup does not survive.
                    await("the larger side safe again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                            .until(() -> c.agent.safe(c.hosts.address(2)));
                    killed.kill();
                    await("the killed member gone from its side").atMost(Duration.ofSeconds(30)).until(() -> c.sees(2, 1));
                });
        kill.assertWithinTheBound(2);
        c.assertCleanUp();
    }

    @Test
    void fourMembersSplitTwoAgainstTwo() throws Exception {
        Cluster c = new Cluster(4, List.of());
        Scenario split = c.run("split 2|2", () -> c.hosts.split(List.of(1, 2), List.of(3, 4)),
                () -> IntStream.rangeClosed(1, 4).allMatch(i -> c.sees(i, 2)), c.hosts::heal, () -> c.allSee(4),
                List.of(Set.of(1, 2), Set.of(3, 4)));
        split.assertWithinTheBound(2);
        c.assertCleanUp();
    }

    @Test
    void withAMajorityRequiredTheMinorityAdmitsNothingAndAnswersUnavailable() throws Exception {
        Cluster c = new Cluster(3, List.of("--min-cluster-size", "2"));
        Scenario split = c.run("split 2|1, --min-cluster-size 2", () -> c.hosts.split(List.of(1, 2), List.of(3)),
                () -> c.sees(1, 2) && c.sees(2, 2) && c.sees(3, 1), c.hosts::heal, () -> c.allSee(3), List.of(Set.of(1, 2), Set.of(3)));
        split.assertWithinTheBound(1);
        assertEquals(0, split.admittedBy(3, split.cut, split.merged), "the minority admits nothing; ms after the cut: "
                + split.history.stream().filter(o -> o.admitted() && o.sentMicros() >= split.cut && o.answeredMicros() < split.merged
                        && split.memberOf.getOrDefault(o.node(), -1) == 3)
                        .map(o -> (o.sentMicros() - split.cut) / 1000 + "-" + (o.answeredMicros() - split.cut) / 1000 + " " + o.attempts()).toList());
        assertTrue(split.attemptsAnswered(3, "UNAVAILABLE", split.detected, split.healed) > 0,
                "the minority answers UNAVAILABLE (and the client asks another node)");

        HostedNode frozen = c.nodes.get(2);
        Scenario freeze = c.run("frozen, --min-cluster-size 2", frozen::freeze, () -> c.sees(1, 2) && c.sees(2, 2), frozen::resume,
                () -> c.allSee(3), List.of(Set.of(1, 2), Set.of(3)));
        freeze.assertWithinTheBound(1);
        assertEquals(0, freeze.admittedBy(3, freeze.cut, freeze.merged), "the resumed member, alone, admits nothing before it merges");
        c.assertCleanUp();
    }

    /** A fault's run: the history and the times that divide it. */
    final class Scenario {
        final String name;
        final List<Operation> history;
        final List<Set<Integer>> sides;
        final Map<String, Integer> memberOf;
        final long cut;
        final long detected;
        final long healed;
        final long merged;

        Scenario(String name, List<Operation> history, List<Set<Integer>> sides, Map<String, Integer> memberOf, long cut, long detected,
                 long healed, long merged) {
            this.name = name;
            this.history = history;
            this.sides = sides;
            this.memberOf = memberOf;
            this.cut = cut;
            this.detected = detected;
            this.healed = healed;
            this.merged = merged;
        }

        long answeredBy(int member, long from, long to) {
            return history.stream().filter(o -> o.answeredMicros() >= from && o.answeredMicros() < to && !o.failed()
                    && memberOf.getOrDefault(o.node(), -1) == member).count();
        }

        /** Requests sent from {@code from} and answered before {@code to} that {@code member} admitted. */
        long admittedBy(int member, long from, long to) {
            return history.stream().filter(o -> o.admitted() && o.sentMicros() >= from && o.answeredMicros() < to
                    && memberOf.getOrDefault(o.node(), -1) == member).count();
        }

        long attemptsAnswered(int member, String code, long from, long to) {
            return history.stream().filter(o -> o.sentMicros() >= from && o.sentMicros() < to)
                    .flatMap(o -> o.attempts().stream())
                    .filter(a -> a.endsWith(":" + code) && memberOf.getOrDefault(a.substring(0, a.lastIndexOf(':')), -1) == member).count();
        }

        /**
         * Per bucket: all admitted at most {@code sidesThatDecide} limits; after the merge, at most
         * what the more consumed side had left; prints the figures.
         */
        void assertWithinTheBound(int sidesThatDecide) {
            Map<String, long[]> perKey = new TreeMap<>();
            for (Operation o : history) {
                if (!o.admitted()) {
                    continue;
                }
                long[] k = perKey.computeIfAbsent(o.key(), x -> new long[2 + sides.size()]);
                if (o.answeredMicros() < cut) {
                    k[0]++;
                } else if (o.answeredMicros() >= merged) {
                    k[1]++;
                } else {
                    int member = memberOf.getOrDefault(o.node(), -1);
                    for (int s = 0; s < sides.size(); s++) {
                        if (sides.get(s).contains(member)) {
                            k[2 + s]++;
                        }
                    }
                }
            }
            long worst = 0;
            long overSum = 0;
            long lost = 0;
            List<String> problems = new ArrayList<>();
            Map<String, String> buckets = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : perKey.entrySet()) {
                long[] k = e.getValue();
                long total = 0;
                long mostBySide = 0;
                for (long v : k) {
                    total += v;
                }
                for (int s = 2; s < k.length; s++) {
                    mostBySide = Math.max(mostBySide, k[s]);
                }
                long over = Math.max(0, total - LIMIT);
                worst = Math.max(worst, over);
                overSum += over;
                // After the merge each bucket holds the more consumed state: whatever one side admitted while split is spent.
                long handedOutAgain = Math.max(0, mostBySide + k[1] - LIMIT);
                lost += handedOutAgain;
                buckets.put(e.getKey(), java.util.Arrays.toString(k));
                if (total > (long) sidesThatDecide * LIMIT) {
                    problems.add(e.getKey() + ": admitted " + total + ", more than " + sidesThatDecide + " × " + LIMIT);
                }
                if (handedOutAgain > 0) {
                    problems.add(e.getKey() + ": " + handedOutAgain + " admitted after the merge beyond what the more consumed side left");
                }
            }
            long failed = history.stream().filter(Operation::failed).count();
            long firstError = history.stream().filter(Operation::failed).mapToLong(Operation::sentMicros).min().orElse(0);
            long lastError = history.stream().filter(Operation::failed).mapToLong(Operation::answeredMicros).max()
                    .orElse(0);
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("fault", name);
            figures.put("requests", history.size());
            figures.put("admitted", history.stream().filter(Operation::admitted).count());
            figures.put("failed", failed);
            figures.put("buckets", perKey.size());
            figures.put("limit", LIMIT);
            figures.put("worst_over_admission_per_bucket", worst);
            figures.put("mean_over_admission_per_bucket", perKey.isEmpty() ? 0 : (double) overSum / perKey.size());
            figures.put("lost_units", lost);
            figures.put("ms_to_detect", (detected - cut) / 1000);
            figures.put("ms_to_merge", (merged - healed) / 1000);
            figures.put("ms_error_window", failed == 0 ? 0 : (lastError - firstError) / 1000);
            figures.put("failed_after_merge", history.stream().filter(o -> o.failed() && o.sentMicros() >= merged)
                    .count());
            figures.put("per_bucket_before_after_sides", buckets.toString().replace('"', '\''));
            Figures.report("real-network", figures);
            assertEquals(List.of(), problems, name + ": " + buckets);
            // Once merged, the nodes answer again; a connection the fault left hanging may still cost its requests' deadlines.
            List<Operation> afterMerge = history.stream().filter(o -> o.sentMicros() >= merged + TimeUnit.SECONDS.toMicros(1)).toList();
            long failedAfterMerge = afterMerge.stream().filter(Operation::failed).count();
            assertTrue(!afterMerge.isEmpty() && failedAfterMerge * 10 < afterMerge.size(), name + ": " + failedAfterMerge + " of "
                    + afterMerge.size() + " requests sent a second after the merge failed");
        }
    }

    /** Members on hosts of their own, and the load agent on another. */
    final class Cluster {
        final NetHosts hosts;
        final List<HostedNode> nodes = new ArrayList<>();
        final Agent agent;
        final Map<String, Integer> memberOf = new HashMap<>();
        private final List<String> flags;
        private int scenarios;

        Cluster(int members, List<String> extraFlags) throws Exception {
            hosts = new NetHosts(members);
            opened.add(hosts);
            flags = new ArrayList<>(DETECTION);
            flags.addAll(extraFlags);
            Path policies = dir.resolve("policies.yaml");
            Files.writeString(policies, POLICY);
            Path secret = dir.resolve("cluster-secret");
            byte[] bytes = new byte[32];
            ThreadLocalRandom.current().nextBytes(bytes);
            Files.writeString(secret, HexFormat.of().formatHex(bytes));
            List<String> memberList = new ArrayList<>();
            for (int i = 1; i <= members; i++) {
                memberList.add(hosts.address(i) + ":5701");
                memberOf.put(hosts.address(i), i);
            }
            String cluster = "net-" + ProcessHandle.current().pid() + "-" + members;
            for (int i = 1; i <= members; i++) {
                HostedNode n = HostedNode.start(hosts, i, memberList, cluster, policies, secret, dir.resolve("logs"), flags);
                opened.add(n);
                nodes.add(n);
            }
            List<String> targets = IntStream.rangeClosed(1, members).mapToObj(i -> hosts.address(i) + ":8081").toList();
            agent = new Agent(hosts, targets, dir.resolve("logs"));
            opened.add(agent);
            await("every member serving").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
                for (HostedNode n : nodes) {
                    n.assertAlive();
                }
                return IntStream.rangeClosed(1, members).allMatch(i -> agent.ask("health " + hosts.address(i) + ":8081")
                        .equals("health SERVING")) && allSee(members);
            });
        }

        boolean sees(int member, int size) {
            return agent.members(hosts.address(member)) == size;
        }

        boolean allSee(int size) {
            return IntStream.rangeClosed(1, nodes.size()).filter(i -> nodes.get(i - 1).alive()).allMatch(i -> sees(i, size));
        }

        Scenario run(String name, Step fault, BooleanSupplier detected, Step heal, BooleanSupplier merged, List<Set<Integer>> sides)
                throws Exception {
            return run(name, fault, detected, heal, merged, sides, () -> { });
        }

        /**
         * Load on fresh buckets; the cluster whole for 2 s; the fault, held until {@code detected}
         * and 4 s more ({@code whileFaulted} done in that time); healed, until {@code merged} and 3 s more.
         */
        Scenario run(String name, Step fault, BooleanSupplier detected, Step heal, BooleanSupplier merged, List<Set<Integer>> sides,
                     Step whileFaulted) throws Exception {
            int n = ++scenarios;
            List<String> keys = IntStream.range(0, KEYS).mapToObj(k -> "s" + n + "-" + k).toList();
            Path file = dir.resolve("history-" + n + ".tsv");
            agent.ask("load " + file + " " + RATE + " 16 net " + String.join(",", keys));
            int whole = (int) nodes.stream().filter(HostedNode::alive).count();
            await(name + ": whole before the fault").during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(500)).until(() -> allSee(whole));
            fault.run();
            // From when the fault is in place: requests sent before may still be decided as if whole.
            long cut = NetworkLoadAgent.micros();
            await(name + ": fault detected").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(detected::getAsBoolean);
            long detectedAt = NetworkLoadAgent.micros();
            whileFaulted.run();
            await(name + ": fault held").during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500))
                    .until(detected::getAsBoolean);
            long healed = NetworkLoadAgent.micros();
            heal.run();
            await(name + ": merged").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(merged::getAsBoolean);
            long mergedAt = NetworkLoadAgent.micros();
            await(name + ": whole after the heal").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(500)).until(merged::getAsBoolean);
            String stopped = agent.ask("stop");
            assertTrue(stopped.startsWith("stopped "), stopped);
            List<Operation> history = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                history.add(Operation.parse(line));
            }
            return new Scenario(name, history, sides, memberOf, cut, detectedAt, healed, mergedAt);
        }

        /** Everything this cluster made goes when it is closed; checked here by closing it. */
        void assertCleanUp() throws Exception {
            agent.close();
            for (HostedNode n : nodes) {
                n.close();
            }
            hosts.close();
            assertEquals("", hosts.leftovers(), "no namespace or link left behind");
        }
    }

    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    /** A node's JVM on a host of its own. */
    static final class HostedNode implements AutoCloseable {
        private final Process process;
        private final Path log;
        private final int index;

        private HostedNode(Process process, Path log, int index) {
            this.process = process;
            this.log = log;
            this.index = index;
        }

        static HostedNode start(NetHosts hosts, int i, List<String> members, String cluster, Path policies, Path secret, Path logDir,
                                List<String> flags) throws IOException {
            List<String> command = new ArrayList<>(hosts.on(i));
            command.addAll(NodeProcess.java(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), "dev.sluice.server.node.Main"));
            command.addAll(List.of("--port", "8081", "--host", hosts.address(i), "--member-port", "5701", "--member-host",
                    hosts.address(i), "--members", String.join(",", members), "--cluster-name", cluster, "--cluster-secret-file",
                    secret.toString(), "--policies", policies.toString(), "--metrics-port", "9090", "--shutdown-grace", "2s",
                    "--warm-up", "0"));
            command.addAll(flags);
            Files.createDirectories(logDir);
            Path log = logDir.resolve(cluster + "-m" + i + ".log");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            return new HostedNode(p, log, i);
        }

        void assertAlive() throws IOException {
            if (!process.isAlive()) {
                throw new AssertionError("member " + index + " exited early:\n" + Files.readString(log));
            }
        }

        boolean alive() {
            return process.isAlive();
        }

        /** SIGSTOP: the JVM stops where it is, sockets open, and believes on resuming that nothing happened. */
        void freeze() throws Exception {
            signal("STOP");
        }

        void resume() throws Exception {
            signal("CONT");
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }

        private void signal(String name) throws Exception {
            Process k = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).redirectErrorStream(true).start();
            if (k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " failed: " + new String(k.getInputStream().readAllBytes()));
            }
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                try {
                    resume();
                } catch (Exception e) {
                    // It is killed next anyway.
                }
            }
            kill();
        }
    }

    /** The {@link NetworkLoadAgent} on the client's host, driven a command at a time. */
    static final class Agent implements AutoCloseable {
        private final Process process;
        private final BufferedReader replies;
        private final BufferedWriter commands;

        Agent(NetHosts hosts, List<String> targets, Path logDir) throws IOException {
            List<String> command = new ArrayList<>(hosts.on(0));
            command.addAll(NodeProcess.java(List.of("-Xmx256m"), NetworkLoadAgent.class.getName()));
            command.add(String.join(",", targets));
            Files.createDirectories(logDir);
            process = new ProcessBuilder(command).redirectError(logDir.resolve("agent-" + hosts.address(0) + ".log").toFile()).start();
            replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            commands = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            String ready = replies.readLine();
            if (!"ready".equals(ready)) {
                throw new IllegalStateException("the load agent did not start: " + ready);
            }
        }

        synchronized String ask(String command) {
            try {
                commands.write(command);
                commands.newLine();
                commands.flush();
                String reply = replies.readLine();
                if (reply == null) {
                    throw new IllegalStateException("the load agent is gone");
                }
                return reply;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        long members(String host) {
            return Long.parseLong(ask("members " + host + ":9090").substring("members ".length()));
        }

        boolean safe(String host) {
            return ask("safe " + host + ":9090").equals("safe true");
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                try {
                    ask("quit");
                } catch (RuntimeException e) {
                    // Killed next anyway.
                }
            }
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
