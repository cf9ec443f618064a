package dev.sluice.bench;

import com.hazelcast.internal.util.ConcurrencyUtil;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

/**
 * Measures Sluice and the limiters users would pick instead, the same way, on this machine, in
 * one run: a gRPC server that decides nothing (the ceiling for any gRPC limiter), Sluice unary,
 * the Java client (on AcquireStream, its default, and with calls), AcquireStream itself,
 * AcquireBatch, Redis with a Lua token bucket, and Bucket4j on Hazelcast. Every target runs in processes of its own; each is checked to limit correctly before it is timed.
 * The open loop runs at half of Sluice's closed-loop peak; with {@code noop} among the targets,
 * the no-op server is then measured at the same arrival rate too.
 *
 * <pre>
 * mvn -q -DskipTests package && java -jar cluster-tests/target/sluice-bench.jar [options]
 *   --seconds N       measured seconds per run (15)      --warmup N   warm-up seconds per run (30; 40 with several nodes)
 *   --outstanding N   closed-loop calls in flight (64)   --keys N     buckets, uniform (10000)
 *   --targets LIST    noop,sluice,envoy,client,client-hot,client-calls,stream,batch,redis,bucket4j,hot,open,memory,zipf (all but zipf)
 *   --nodes LIST      Sluice nodes (1,3): a phase each; phases of several nodes measure sluice, client, batch
 *                     and bucket4j on as many members, rows named e.g. sluice@3      --out DIR    results
 *   --batch N         requests per AcquireBatch (100)    --cost N     units each decision spends (1)
 *   --metrics on|off  the nodes serve Prometheus metrics, each on a port of its own (on, as nodes run by default)
 *   --windows N       measured windows per closed-loop run, one after the other after one warm-up (1); the
 *                     later ones are rows of their own (mode closed(64)#2), each set against the first:
 *                     was the warm-up long enough?
 * </pre>
 */
public final class Benchmark {

    /** Warm-up of the client targets at least: longer than the node's 10 s memory of request ids. */
    private static final double CLIENT_WARMUP_SECONDS = 12;

    private static final String POLICY = """
            domains:
              bench:
                rules:
                  - name: check
                    match: {kind: check}
                    limits: [{name: check, algorithm: token_bucket, capacity: 5, refill: 1, refill_period: 1h, key: [k]}]
                  - name: load
                    match: {kind: {present: false}}
                    limits: [{name: load, algorithm: token_bucket, capacity: 1000000000, refill: 1000000, refill_period: 1s, key: [k]}]
            """ + ClientTarget.LEASED_RULE;

    /** Measured windows per closed-loop run ({@code --windows}). */
    private static int windows = 1;

    /** The later windows of the runs measured so far, added to the results after each phase. */
    private static final List<Run.Result> LATER_WINDOWS = new ArrayList<>();

    /** How far a later window's decisions a second may be from the first's and still count as the same figure. */
    private static final double SAME_WITHIN = 0.10;

    private Benchmark() {
    }

    /** Option {@code name} as a whole number of at least {@code min}; exits naming the option when it is not. */
    private static int whole(Map<String, String> opt, String name, int min) {
        String v = opt.get(name);
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        return usage("--" + name + " must be a whole number of at least " + min + ", got '" + v + "'");
    }

    /** Option {@code name} as a number of seconds of at least {@code min}; exits naming the option when it is not. */
    private static double seconds(Map<String, String> opt, String name, double min) {
        String v = opt.get(name);
        try {
            double s = Double.parseDouble(v.trim());
            if (s >= min && s < 86_400) {
                return s;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        return usage("--" + name + " must be a number of seconds from " + (int) min + " to 86400, got '" + v + "'");
    }

    private static int usage(String problem) {
        System.err.println(problem);
        System.exit(2);
        throw new AssertionError("unreachable");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>(Map.of("seconds", "15", "warmup", "30", "outstanding", "64", "keys", "10000",
                "targets", "noop,sluice,envoy,client,client-hot,client-calls,stream,batch,redis,bucket4j,hot,open,memory", "nodes", "1,3", "out", "cluster-tests/target/bench",
                "batch", "100", "cost", "1", "metrics", "on"));
        opt.put("windows", "1");
        if (args.length % 2 != 0) {
            usage("option " + args[args.length - 1] + " has no value");
        }
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--") || !opt.containsKey(args[i].substring(2))) {
                usage("unknown option " + args[i] + "; options: " + opt.keySet());
            }
            opt.put(args[i].substring(2), args[i + 1]);
        }
        double seconds = seconds(opt, "seconds", 1);
        double warmup = seconds(opt, "warmup", 0);
        // One node measured 11 % more in a second window after a 20 s warm-up, within 8 % after 30
        // (--windows 2). Three node JVMs sharing two cores compile for longer: their C2 threads
        // took 20-27 % of a core each until about 55 s after start, under 2 % after, and a first
        // window after 40 s measured 28-119 % more CPU a decision than the next. They get at least
        // 60, unless told otherwise.
        double severalWarmup = List.of(args).contains("--warmup") ? warmup : Math.max(warmup, 60);
        int outstanding = whole(opt, "outstanding", 1);
        int keys = whole(opt, "keys", 1);
        List<Integer> nodeCounts = new ArrayList<>();
        for (String n : opt.get("nodes").split(",")) {
            Map<String, String> one = Map.of("nodes", n.trim());
            nodeCounts.add(whole(one, "nodes", 1));
        }
        int batch = whole(opt, "batch", 1);
        windows = whole(opt, "windows", 1);
        // Every bucket holds 10^9 units and refills 10^6 a second: at the hot key's rate, a cost
        // above about 50 empties it within a few minutes, and the run measures denials from then on.
        int cost = whole(opt, "cost", 1);
        if (!List.of("on", "off").contains(opt.get("metrics"))) {
            usage("--metrics must be on or off, got '" + opt.get("metrics") + "'");
        }
        boolean metrics = opt.get("metrics").equals("on");
        List<String> targets = List.of(opt.get("targets").split(","));
        List<String> known = List.of("noop", "sluice", "envoy", "client", "client-hot", "client-calls", "stream", "batch", "redis", "bucket4j", "hot", "open",
                "memory", "zipf");
        for (String t : targets) {
            if (!known.contains(t)) {
                usage("--targets: unknown target '" + t + "'; known: " + String.join(",", known));
            }
        }
        Path out = Path.of(opt.get("out"));
        Path logs = out.resolve("logs");
        Files.createDirectories(out);

        // The generator's own Hazelcast client (Bucket4j's) gets a real pool for its async
        // completions, as Sluice's members do: on two cores the JVM default would start a thread
        // per completion and measure that instead of Bucket4j.
        if (ForkJoinPool.getCommonPoolParallelism() < 2) {
            ConcurrencyUtil.setDefaultAsyncExecutor(new ForkJoinPool(2));
        }
        Runtime.getRuntime().addShutdownHook(new Thread(Procs::stopAll));
        List<String> jvm = new ArrayList<>(List.of("-Xms1g", "-Xmx1g", "-XX:+UseParallelGC"));
        // For experiments: more options for every target's JVM, e.g. -Dsluice.bench.jvmArgs="-Xlog:gc:file=gc-%p.log".
        String extra = System.getProperty("sluice.bench.jvmArgs", "").trim();
        if (!extra.isEmpty()) {
            jvm.addAll(List.of(extra.split("\\s+")));
        }
        List<Run.Result> results = new ArrayList<>();
        List<String> checks = new ArrayList<>();
        Run.Result sluiceUniform = null;
        double openRate = 0;

        if (targets.contains("noop")) {
            try (GrpcTarget t = noopServer("noop", logs, jvm, keys, cost)) {
                results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, warmup, seconds, null, checks));
            }
            Procs.stopAll();
        }

        for (int nodes : nodeCounts) {
            // One node: every target. Several: the rows that scale out, and Bucket4j on as many members.
            List<String> phase = nodes == 1 ? targets
                    : targets.stream().filter(t -> List.of("sluice", "client", "batch", "bucket4j").contains(t)).toList();
            double phaseWarmup = nodes == 1 ? warmup : severalWarmup;
            int phaseStart = results.size();
            boolean anySluice = phase.stream().anyMatch(t -> List.of("sluice", "envoy", "client", "client-hot", "client-calls", "stream", "batch", "hot", "open", "zipf")
                    .contains(t));
            if (anySluice) {
                Path policy = Files.writeString(out.resolve("bench-policy.yaml"), POLICY);
            Path envoyConfig = Files.writeString(out.resolve("bench-envoy.yaml"), EnvoyTarget.CONFIG);
                List<Integer> ports = new ArrayList<>();
                List<Integer> memberPorts = new ArrayList<>();
                for (int i = 0; i < nodes; i++) {
                    ports.add(Procs.freePort());
                    memberPorts.add(Procs.freePort());
                }
                String members = String.join(",", memberPorts.stream().map(p -> "127.0.0.1:" + p).toList());
                List<Long> pids = new ArrayList<>();
                List<Process> procs = new ArrayList<>();
                for (int i = 0; i < nodes; i++) {
                    List<String> a = new ArrayList<>(List.of("--port", ports.get(i).toString(), "--host", "127.0.0.1",
                            "--member-port", memberPorts.get(i).toString(), "--member-host", "127.0.0.1", "--policies", policy.toString(),
                            "--cluster-name", "bench-" + ProcessHandle.current().pid(), "--log-level", "warn",
                            "--metrics-port", Integer.toString(metrics ? Procs.freePort() : 0), "--envoy-config", envoyConfig.toString(),
                            // The benchmark warms the nodes itself, with the load it measures.
                            "--warm-up", "0"));
                    if (nodes > 1) {
                        a.addAll(List.of("--members", members));
                    }
                    Process p = Procs.java("sluice-" + i, logs, share(jvm, nodes), "dev.sluice.server.node.Main", a);
                    procs.add(p);
                    pids.add(p.pid());
                }
                for (int i = 0; i < nodes; i++) {
                    Procs.awaitPort(ports.get(i), procs.get(i), "sluice node " + i);
                }
                Thread.sleep(nodes > 1 ? 5000 : 1000);
                if (phase.contains("sluice") || phase.contains("open")) {
                    try (GrpcTarget t = new GrpcTarget("sluice", ports, pids, 1, keys, cost)) {
                        Run.Result unary = measure(t, Keys.uniform(keys), "uniform", outstanding, phaseWarmup, seconds, null, checks);
                        results.add(unary);
                        if (nodes == 1) {
                            sluiceUniform = unary;
                        }
                        if (phase.contains("hot")) {
                            results.add(measure(t, Keys.hot(), "hot", outstanding, phaseWarmup, seconds, null, checks));
                        }
                        if (phase.contains("zipf")) {
                            results.add(measure(t, Keys.zipf(keys, 1.0), "zipf", outstanding, phaseWarmup, seconds, null, checks));
                        }
                        if (phase.contains("open")) {
                            openRate = unary.decisionsPerSecond() / 2;
                            results.add(Run.openLoop(t, Keys.uniform(keys), "uniform", openRate, phaseWarmup, seconds));
                            System.out.println(Report.table(List.of(results.get(results.size() - 1)), null));
                        }
                    }
                }
                if (phase.contains("envoy")) {
                try (EnvoyTarget t = new EnvoyTarget(ports, pids, keys, cost)) {
                    results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, phaseWarmup, seconds, null, checks));
                }
            }
            // The client's requests carry ids, which the node remembers for 10 s: until the first are
                // forgotten, the node's heap and young collections grow, and whichever client target
                // ran first paid for it. Each is warmed past that.
                double clientWarmup = Math.max(phaseWarmup, CLIENT_WARMUP_SECONDS);
                if (phase.contains("client")) {
                    try (ClientTarget t = new ClientTarget(ports, pids, keys, cost, true)) {
                        results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, clientWarmup, seconds, null, checks));
                    }
                }
                if (phase.contains("client-hot")) {
                    try (ClientTarget t = new ClientTarget(ports, pids, keys, cost, true, true)) {
                        results.add(measure(t, Keys.hot(), "hot", outstanding, clientWarmup, seconds, null, checks));
                        String line = t.overAdmissionCheck();
                        checks.add(line);
                        System.out.println("check " + line);
                    }
                }
                if (phase.contains("client-calls")) {
                    try (ClientTarget t = new ClientTarget(ports, pids, keys, cost, false)) {
                        results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, clientWarmup, seconds, null, checks));
                    }
                }
                if (phase.contains("stream")) {
                    try (StreamTarget t = new StreamTarget(ports, pids, keys, cost)) {
                        results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, phaseWarmup, seconds, null, checks));
                    }
                }
                if (phase.contains("batch")) {
                    try (GrpcTarget t = new GrpcTarget("sluice-batch-" + batch, ports, pids, batch, keys, cost)) {
                        Keys starts = Keys.uniform(keys);
                        results.add(measure(t, starts, "uniform", Math.max(2, outstanding / 8), phaseWarmup, seconds, null, checks));
                    }
                }
                Procs.stopAll();
            }

            if (phase.contains("bucket4j")) {
                // As many members as Sluice nodes, in JVMs of their own: the peer of the multi-node rows.
                List<Integer> ports = new ArrayList<>();
                for (int i = 0; i < nodes; i++) {
                    ports.add(Procs.freePort());
                }
                List<String> flags = new ArrayList<>(share(jvm, nodes));
                flags.add("-Djava.util.concurrent.ForkJoinPool.common.parallelism=2");
                List<Long> pids = new ArrayList<>();
                List<Process> members = new ArrayList<>();
                for (int i = 0; i < nodes; i++) {
                    List<String> a = new ArrayList<>(List.of(Integer.toString(ports.get(i))));
                    for (int j = 0; j < nodes; j++) {
                        if (j != i) {
                            a.add(Integer.toString(ports.get(j)));
                        }
                    }
                    Process p = Procs.java("bucket4j-member-" + i, logs, flags, Bucket4jMember.class.getName(), a);
                    members.add(p);
                    pids.add(p.pid());
                }
                for (int i = 0; i < nodes; i++) {
                    Procs.awaitPort(ports.get(i), members.get(i), "bucket4j member " + i);
                }
                if (nodes > 1) {
                    Thread.sleep(5000); // the members find each other and share the partitions
                }
                try (Bucket4jTarget t = new Bucket4jTarget(ports, pids, keys, cost)) {
                    results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, phaseWarmup, seconds, null, checks));
                }
                Procs.stopAll();
            }
            results.addAll(LATER_WINDOWS);
            LATER_WINDOWS.clear();
            if (nodes > 1) {
                for (int i = phaseStart; i < results.size(); i++) {
                    results.set(i, results.get(i).named(results.get(i).target() + "@" + nodes));
                }
            }
        }

        if (openRate > 0 && targets.contains("noop")) {
            // The same arrivals against a server that does nothing: the latency any gRPC limiter
            // would show at that rate on this machine, with this generator beside it.
            try (GrpcTarget t = noopServer("noop-open", logs, jvm, keys, cost)) {
                // Warmed as Sluice's node was before its open loop: by closed-loop calls, which are not kept.
                Run.closedLoop(t, Keys.uniform(keys), "uniform", outstanding, warmup, seconds);
                results.add(Run.openLoop(t, Keys.uniform(keys), "uniform", openRate, warmup, seconds));
                System.out.println(Report.table(List.of(results.get(results.size() - 1)), null));
            }
            Procs.stopAll();
        }

        if (targets.contains("redis")) {
            int port = Procs.freePort();
            Process p;
            try {
                p = Procs.start("redis", logs, List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no"));
                Procs.awaitPort(port, p, "redis-server");
                try (RedisTarget t = new RedisTarget(port, List.of(p.pid()), keys, cost)) {
                    results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, warmup, seconds, null, checks));
                }
            } catch (java.io.IOException e) {
                checks.add("redis-lua: not measured: redis-server not found (apt-get install redis-server)");
            }
            Procs.stopAll();
        }

        long heapPerBucket = -1;
        if (targets.contains("memory")) {
            heapPerBucket = heapPerIdleBucket(logs);
        }

        Map<String, Object> env = new LinkedHashMap<>();
        env.put("date", Instant.now().toString());
        env.put("cores", Runtime.getRuntime().availableProcessors());
        env.put("cpu", cpuModel());
        env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        // Where the results went is the reader's business, not a property of the measurement.
        Map<String, String> measured = new java.util.TreeMap<>(opt);
        measured.remove("out");
        env.put("options", measured.toString());
        System.out.println();
        System.out.println(Report.table(results, sluiceUniform));
        for (String c : checks) {
            System.out.println("check: " + c);
        }
        printRatios(results);
        Map<String, Object> figures = new LinkedHashMap<>();
        if (heapPerBucket >= 0) {
            System.out.printf("  %-36s %9d bytes target: at most 300 bytes %s%n", "heap per idle bucket, backup included", heapPerBucket,
                    heapPerBucket <= 300 ? "met" : "NOT met");
            figures.put("heap_bytes_per_idle_bucket_with_backup", heapPerBucket);
            figures.put("buckets_for_heap_figure", MEMORY_BUCKETS);
        }
        Report.json(out.resolve("results.json"), env, results, checks, figures);
        Report.svg(out.resolve("results.svg"), results);
        System.out.println("results: " + out.resolve("results.json") + ", " + out.resolve("results.svg"));
        Procs.stopAll();
        System.exit(0);
    }

    private static Run.Result measure(Target t, Keys keys, String keysName, int outstanding, double warmup, double seconds,
                                      Run.Result unused, List<String> checks) throws Exception {
        if (keysName.equals("uniform") && !checks.stream().anyMatch(c -> c.startsWith(t.name() + ":"))) {
            int allowed = t.limitCheck("check-" + System.nanoTime(), 5, 10);
            String line = t.name() + ": a bucket of 5 asked 10 times allowed " + allowed;
            checks.add(line + (allowed == 5 || t.name().equals("grpc-noop") ? "" : "  <-- WRONG, not measured"));
            System.out.println("check " + line);
            if (allowed != 5 && !t.name().equals("grpc-noop")) {
                throw new IllegalStateException(line + ": this target does not limit correctly");
            }
        }
        System.out.printf("measuring %s (%s keys, %d outstanding, %.0f s after %.0f s warm-up)%n", t.name(), keysName, outstanding,
                seconds, warmup);
        Run.Result r = Run.closedLoop(t, keys, keysName, outstanding, warmup, seconds);
        System.out.print(Report.table(List.of(r), null));
        for (int w = 2; w <= windows; w++) {
            Run.Result later = Run.closedLoop(t, keys, keysName, outstanding, 0, seconds).window(w);
            System.out.print(Report.table(List.of(later), null));
            LATER_WINDOWS.add(later);
        }
        return r;
    }

    private static void printRatios(List<Run.Result> results) {
        Map<String, Run.Result> by = new LinkedHashMap<>();
        for (Run.Result r : results) {
            by.putIfAbsent(r.target() + "/" + r.mode().replaceAll("\\(.*", "") + "/" + r.keys(), r);
        }
        Run.Result sluice = by.get("sluice/closed/uniform");
        Run.Result noop = by.get("grpc-noop/closed/uniform");
        Run.Result redis = by.get("redis-lua/closed/uniform");
        Run.Result b4j = by.get("bucket4j-hazelcast/closed/uniform");
        Run.Result client = by.get("sluice-client/closed/uniform");
        Run.Result hot = by.get("sluice/closed/hot");
        Run.Result open = by.get("sluice/open/uniform");
        Run.Result noopOpen = by.get("grpc-noop/open/uniform");
        Run.Result batch = results.stream().filter(r -> r.target().startsWith("sluice-batch")).findFirst().orElse(null);
        System.out.println("targets (ratios within this run):");
        ratio("sluice unary / grpc no-op", sluice, noop, 0.8);
        if (sluice != null && noop != null) {
            cpuGrowth("sluice unary CPU / grpc no-op CPU", sluice, noop, 1.5);
        }
        ratio("sluice unary / bucket4j", sluice, b4j, 1.5);
        Run.Result envoy = by.get("sluice-envoy/closed/uniform");
        if (envoy != null && sluice != null) {
            cpuGrowth("envoy ShouldRateLimit CPU / unary Acquire CPU", envoy, sluice, 1.0);
        }
        for (Run.Result c : java.util.Arrays.asList(client, by.get("sluice-client-calls/closed/uniform"))) {
            String name = c != null && c.target().endsWith("calls") ? "client, calls" : "client";
            ratio(name + " / redis-lua", c, redis, 1.5);
            if (c != null && redis != null) {
                System.out.printf("  %-36s %9.0f us vs %9.0f us   target: no worse%n", name + " p99 vs redis-lua p99",
                        c.p99Micros(), redis.p99Micros());
            }
        }
        ratio("batch / redis-lua", batch, redis, 4.0);
        ratio("client-hot (leases) / redis-lua", by.get("sluice-client-hot/closed/hot"), redis, 10.0);
        ratio("hot key / 10,000 keys", hot, sluice, 0.9);
        if (open != null && noopOpen != null) {
            double r = open.p99Micros() / noopOpen.p99Micros();
            System.out.printf("  %-36s %9.0f us vs %.0f us (%.2fx)   target: at most 1.5x the no-op's %s%n",
                    "open loop at half peak, p99 vs no-op", open.p99Micros(), noopOpen.p99Micros(), r, r <= 1.5 ? "met" : "NOT met");
        }
        // Scaling out: the rows of each several-node phase against the one-node rows and Bucket4j on as many members.
        for (Run.Result r : results) {
            int at = r.target().lastIndexOf('@');
            if (at < 0 || !r.mode().startsWith("closed") || r.mode().contains("#")) {
                continue;
            }
            String base = r.target().substring(0, at);
            String n = r.target().substring(at + 1);
            Run.Result one = by.get(base + "/closed/uniform");
            double limit = base.startsWith("sluice-batch") ? 1.5 : 2.5;
            if (one != null && !base.startsWith("bucket4j")) {
                cpuGrowth(base + " " + n + " nodes / 1 node", r, one, limit);
            }
            Run.Result peer = by.get("bucket4j-hazelcast@" + n + "/closed/uniform");
            if (base.equals("sluice-client")) {
                ratio("client " + n + " nodes / bucket4j " + n, r, peer, 1.5);
                cpuNoMore("client " + n + " nodes vs bucket4j " + n, r, peer);
            } else if (base.equals("sluice")) {
                ratio("sluice unary " + n + " nodes / bucket4j " + n, r, peer, 1.0);
            }
        }
        laterWindows(results);
    }

    /** Each later window against the first window of its run: the same figure within {@link #SAME_WITHIN}, or the warm-up was short. */
    private static void laterWindows(List<Run.Result> results) {
        for (Run.Result later : results) {
            int hash = later.mode().indexOf('#');
            if (hash < 0) {
                continue;
            }
            String closed = later.mode().substring(0, hash);
            Run.Result first = results.stream().filter(r -> r.target().equals(later.target()) && r.keys().equals(later.keys())
                    && r.mode().equals(closed)).findFirst().orElse(null);
            if (first == null) {
                continue;
            }
            double d = later.decisionsPerSecond() / first.decisionsPerSecond() - 1;
            System.out.printf("  %-36s %+8.1f %%   target: within %.0f %% of the first %s%n",
                    later.target() + " window " + later.mode().substring(hash + 1) + " / first", 100 * d, 100 * SAME_WITHIN,
                    Math.abs(d) <= SAME_WITHIN ? "met" : "NOT met");
        }
    }

    /** Summed node CPU per decision of {@code several} against {@code one}'s: at most {@code limit} times. */
    private static void cpuGrowth(String what, Run.Result several, Run.Result one, double limit) {
        double g = several.targetCpuMicrosPerDecision() / one.targetCpuMicrosPerDecision();
        System.out.printf("  %-36s %9.2fx   target: CPU per decision at most %.1fx %s%n", what, g, limit, g <= limit ? "met" : "NOT met");
    }

    private static void cpuNoMore(String what, Run.Result a, Run.Result b) {
        if (b == null) {
            return;
        }
        System.out.printf("  %-36s %9.1f us vs %9.1f us   target: no more CPU per decision %s%n", what, a.targetCpuMicrosPerDecision(),
                b.targetCpuMicrosPerDecision(), a.targetCpuMicrosPerDecision() <= b.targetCpuMicrosPerDecision() ? "met" : "NOT met");
    }

    /**
     * The options for one of {@code nodes} JVMs sharing this machine: told its share of the cores
     * ({@code -XX:ActiveProcessorCount}), as a container's CPU limit tells it, so each sizes its
     * threads for what it gets rather than for the whole machine. Sluice nodes and Bucket4j's
     * members alike; one JVM alone sees every core.
     */
    private static List<String> share(List<String> jvm, int nodes) {
        if (nodes == 1) {
            return jvm;
        }
        List<String> shared = new ArrayList<>(jvm);
        shared.add("-XX:ActiveProcessorCount=" + Math.max(1, Runtime.getRuntime().availableProcessors() / nodes));
        return shared;
    }

    /** Starts the gRPC server that decides nothing, its log named {@code logName}, and a target calling it. */
    private static GrpcTarget noopServer(String logName, Path logs, List<String> jvm, int keys, long cost) throws Exception {
        int port = Procs.freePort();
        Process p = Procs.java(logName, logs, jvm, NoopServer.class.getName(), List.of(Integer.toString(port)));
        Procs.awaitPort(port, p, "noop server");
        return new GrpcTarget("grpc-noop", List.of(port), List.of(p.pid()), 1, keys, cost);
    }

    /** Buckets {@link BucketMemory} creates for the heap figure: the issue's million. */
    private static final int MEMORY_BUCKETS = 1_000_000;

    /** Runs {@link BucketMemory} in a JVM of its own and reads the figure it prints. */
    private static long heapPerIdleBucket(Path logs) throws Exception {
        System.out.printf("measuring heap per idle bucket (%,d token buckets, two members in one JVM)%n", MEMORY_BUCKETS);
        Process p = Procs.java("memory", logs, List.of("-Xmx4g", "-XX:+UseParallelGC"), BucketMemory.class.getName(),
                List.of(Integer.toString(MEMORY_BUCKETS)));
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("BucketMemory did not finish within 10 minutes; see " + logs.resolve("memory.log"));
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("heap per idle bucket, backup included: (\\d+) bytes")
                .matcher(Files.readString(logs.resolve("memory.log")));
        if (!m.find()) {
            throw new IllegalStateException("BucketMemory printed no figure (exit " + p.exitValue() + "); see " + logs.resolve("memory.log"));
        }
        long bytes = Long.parseLong(m.group(1));
        System.out.printf("heap per idle bucket, backup included: %d bytes%n", bytes);
        return bytes;
    }

    private static void ratio(String what, Run.Result a, Run.Result b, double target) {
        if (a == null || b == null) {
            return;
        }
        double r = a.decisionsPerSecond() / b.decisionsPerSecond();
        System.out.printf("  %-36s %9.2fx   target: at least %.1fx %s%n", what, r, target, r >= target ? "met" : "NOT met");
    }

    /** The processor's model name as Linux reports it; machines of one size differ in kind between runs. */
    private static String cpuModel() {
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("unknown");
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
