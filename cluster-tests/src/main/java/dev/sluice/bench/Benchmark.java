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
 *   --seconds N       measured seconds per run (15)      --warmup N   warm-up seconds per run (5; 40 with --nodes above 1)
 *   --outstanding N   closed-loop calls in flight (64)   --keys N     buckets, uniform (10000)
 *   --targets LIST    noop,sluice,client,client-calls,stream,batch,redis,bucket4j,hot,open,memory,zipf (all but zipf)
 *   --nodes N         Sluice nodes (1)                   --out DIR    results (cluster-tests/target/bench)
 *   --batch N         requests per AcquireBatch (100)    --cost N     units each decision spends (1)
 *   --metrics on|off  the nodes serve Prometheus metrics, each on a port of its own (on, as nodes run by default)
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
            """;

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
        Map<String, String> opt = new LinkedHashMap<>(Map.of("seconds", "15", "warmup", "5", "outstanding", "64", "keys", "10000",
                "targets", "noop,sluice,client,client-calls,stream,batch,redis,bucket4j,hot,open,memory", "nodes", "1", "out", "cluster-tests/target/bench",
                "batch", "100", "cost", "1", "metrics", "on"));
        if (args.length % 2 != 0) {
            usage("option " + args[args.length - 1] + " has no value");
        }
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--") || !opt.containsKey(args[i].substring(2))) {
                usage("unknown option " + args[i] + "; options: " + opt.keySet());
            }
            opt.put(args[i].substring(2), args[i + 1]);
        }
        // Several node JVMs sharing a small machine are still compiling after 5 s: give them time,
        // unless told otherwise.
        if (whole(opt, "nodes", 1) > 1 && !List.of(args).contains("--warmup")) {
            opt.put("warmup", "40");
        }
        double seconds = seconds(opt, "seconds", 1);
        double warmup = seconds(opt, "warmup", 0);
        int outstanding = whole(opt, "outstanding", 1);
        int keys = whole(opt, "keys", 1);
        int nodes = whole(opt, "nodes", 1);
        int batch = whole(opt, "batch", 1);
        // Every bucket holds 10^9 units and refills 10^6 a second: at the hot key's rate, a cost
        // above about 50 empties it within a few minutes, and the run measures denials from then on.
        int cost = whole(opt, "cost", 1);
        if (!List.of("on", "off").contains(opt.get("metrics"))) {
            usage("--metrics must be on or off, got '" + opt.get("metrics") + "'");
        }
        boolean metrics = opt.get("metrics").equals("on");
        List<String> targets = List.of(opt.get("targets").split(","));
        List<String> known = List.of("noop", "sluice", "client", "client-calls", "stream", "batch", "redis", "bucket4j", "hot", "open", "memory",
                "zipf");
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

        boolean anySluice = targets.stream().anyMatch(t -> List.of("sluice", "client", "client-calls", "stream", "batch", "hot", "open", "zipf")
                .contains(t));
        if (anySluice) {
            Path policy = Files.writeString(out.resolve("bench-policy.yaml"), POLICY);
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
                        "--metrics-port", Integer.toString(metrics ? Procs.freePort() : 0),
                        // The benchmark warms the nodes itself, with the load it measures.
                        "--warm-up", "0"));
                if (nodes > 1) {
                    a.addAll(List.of("--members", members));
                }
                Process p = Procs.java("sluice-" + i, logs, jvm, "dev.sluice.server.node.Main", a);
                procs.add(p);
                pids.add(p.pid());
            }
            for (int i = 0; i < nodes; i++) {
                Procs.awaitPort(ports.get(i), procs.get(i), "sluice node " + i);
            }
            Thread.sleep(nodes > 1 ? 5000 : 1000);
            if (targets.contains("sluice") || targets.contains("open")) {
                try (GrpcTarget t = new GrpcTarget("sluice", ports, pids, 1, keys, cost)) {
                    sluiceUniform = measure(t, Keys.uniform(keys), "uniform", outstanding, warmup, seconds, null, checks);
                    results.add(sluiceUniform);
                    if (targets.contains("hot")) {
                        results.add(measure(t, Keys.hot(), "hot", outstanding, warmup, seconds, null, checks));
                    }
                    if (targets.contains("zipf")) {
                        results.add(measure(t, Keys.zipf(keys, 1.0), "zipf", outstanding, warmup, seconds, null, checks));
                    }
                    if (targets.contains("open")) {
                        openRate = sluiceUniform.decisionsPerSecond() / 2;
                        results.add(Run.openLoop(t, Keys.uniform(keys), "uniform", openRate, warmup, seconds));
                        System.out.println(Report.table(List.of(results.get(results.size() - 1)), null));
                    }
                }
            }
            // The client's requests carry ids, which the node remembers for 10 s: until the first are
            // forgotten, the node's heap and young collections grow, and whichever client target
            // ran first paid for it. Each is warmed past that.
            double clientWarmup = Math.max(warmup, CLIENT_WARMUP_SECONDS);
            if (targets.contains("client")) {
                try (ClientTarget t = new ClientTarget(ports, pids, keys, cost, true)) {
                    results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, clientWarmup, seconds, null, checks));
                }
            }
            if (targets.contains("client-calls")) {
                try (ClientTarget t = new ClientTarget(ports, pids, keys, cost, false)) {
                    results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, clientWarmup, seconds, null, checks));
                }
            }
            if (targets.contains("stream")) {
                try (StreamTarget t = new StreamTarget(ports, pids, keys, cost)) {
                    results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, warmup, seconds, null, checks));
                }
            }
            if (targets.contains("batch")) {
                try (GrpcTarget t = new GrpcTarget("sluice-batch-" + batch, ports, pids, batch, keys, cost)) {
                    Keys starts = Keys.uniform(keys);
                    results.add(measure(t, starts, "uniform", Math.max(2, outstanding / 8), warmup, seconds, null, checks));
                }
            }
            Procs.stopAll();
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

        if (targets.contains("bucket4j")) {
            int port = Procs.freePort();
            List<String> flags = new ArrayList<>(jvm);
            flags.add("-Djava.util.concurrent.ForkJoinPool.common.parallelism=2");
            Process p = Procs.java("bucket4j-member", logs, flags, Bucket4jMember.class.getName(), List.of(Integer.toString(port)));
            Procs.awaitPort(port, p, "bucket4j member");
            try (Bucket4jTarget t = new Bucket4jTarget(port, List.of(p.pid()), keys, cost)) {
                results.add(measure(t, Keys.uniform(keys), "uniform", outstanding, warmup, seconds, null, checks));
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
        ratio("sluice unary / bucket4j", sluice, b4j, 1.5);
        for (Run.Result c : java.util.Arrays.asList(client, by.get("sluice-client-calls/closed/uniform"))) {
            String name = c != null && c.target().endsWith("calls") ? "client, calls" : "client";
            ratio(name + " / redis-lua", c, redis, 1.5);
            if (c != null && redis != null) {
                System.out.printf("  %-36s %9.0f us vs %9.0f us   target: no worse%n", name + " p99 vs redis-lua p99",
                        c.p99Micros(), redis.p99Micros());
            }
        }
        ratio("batch / redis-lua", batch, redis, 5.0);
        ratio("hot key / 10,000 keys", hot, sluice, 0.9);
        if (open != null) {
            System.out.printf("  %-36s %9.0f us   target: at most 1000 us%s%n", "open loop at half peak, p99", open.p99Micros(),
                    noopOpen == null ? "" : String.format(" (grpc no-op at the same rate: %.0f us)", noopOpen.p99Micros()));
        }
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
