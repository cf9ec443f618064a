package dev.sluice.server.cli;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.json.JsonText;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.policy.PolicyDiff;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.policy.Problem;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code sluice}: the operator's command line. {@code sluice policy check}, {@code diff} and
 * {@code replay} work offline on policy files, for a policy repository's CI; {@code sluice acquire}
 * asks a node for a decision, and {@code inspect}, {@code reset}, {@code top} and {@code status}
 * ask its admin API. Exit codes a script can use: 0 allowed or done, 1 denied or problems found, 2 a
 * usage error, 3 no node reachable.
 */
@Command(name = "sluice", mixinStandardHelpOptions = true, versionProvider = Sluice.Version.class,
        description = {"Sluice's command line: check, compare and replay policy files offline; ask a node for a decision;",
                "inspect, reset and rank buckets and see the cluster through the admin API."},
        subcommands = {Sluice.PolicyCommand.class, Sluice.AcquireCommand.class, AdminCommands.InspectCommand.class,
                AdminCommands.ResetCommand.class, AdminCommands.TopCommand.class, AdminCommands.StatusCommand.class,
                CommandLine.HelpCommand.class,
                picocli.AutoComplete.GenerateCompletion.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:allowed, or done", "1:denied, or problems found", "2:usage error", "3:no node reachable"})
public final class Sluice implements Runnable {

    static final int DENIED_OR_PROBLEMS = 1;
    static final int USAGE = 2;
    static final int UNREACHABLE = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with its output on {@code out} and {@code err}; answers the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Sluice());
        cli.setOut(out).setErr(err);
        cli.setExitCodeExceptionMapper(e -> USAGE);
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("sluice: " + e.getMessage());
            e.getCommandLine().getErr().println("see: " + e.getCommandLine().getCommandSpec().qualifiedName() + " --help");
            return USAGE;
        });
        return cli.execute(args);
    }

    /** The completion script for bash and zsh, as picocli writes it. */
    public static String completion() {
        return picocli.AutoComplete.bash("sluice", new CommandLine(new Sluice()));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed: policy, acquire, inspect, reset, top or status");
    }

    enum Output { text, json }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Sluice.class.getPackage().getImplementationVersion();
            return new String[]{"sluice " + (v == null ? "(development build)" : v)};
        }
    }

    @Command(name = "policy", mixinStandardHelpOptions = true, description = "Work on policy files, offline: no node is needed.",
            subcommands = {CheckCommand.class, DiffCommand.class, ReplayCommand.class})
    static final class PolicyCommand implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed: check or diff");
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Check policy files as a node would load them: every problem with its file, line and reason.",
                    "Exits 1 when any file has a problem or cannot be read."})
    static final class CheckCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(arity = "1..*", paramLabel = "FILE", description = "policy files (YAML)")
        List<Path> files;

        @CommandLine.Mixin
        OutputOption output;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            int failed = 0;
            StringBuilder json = new StringBuilder("[");
            for (Path f : files) {
                List<Problem> problems = new ArrayList<>();
                String summary;
                try {
                    Policies p = PolicyLoader.load(f);
                    summary = "valid (version " + p.version() + ", domains " + String.join(", ", new TreeSet<>(p.domainNames())) + ")";
                } catch (PolicyException e) {
                    problems.addAll(e.problems());
                    summary = e.report();
                } catch (IOException e) {
                    String why = e instanceof NoSuchFileException ? "no such file" : e instanceof AccessDeniedException ? "permission denied"
                            : e.getMessage();
                    problems.add(new Problem(f.toString(), 0, "", "cannot be read: " + why));
                    summary = "cannot be read: " + why;
                }
                failed += problems.isEmpty() ? 0 : 1;
                if (output.json()) {
                    json.append(json.length() > 1 ? "," : "").append("{\"file\":");
                    string(json, f.toString()).append(",\"valid\":").append(problems.isEmpty()).append(",\"problems\":[");
                    for (int i = 0; i < problems.size(); i++) {
                        Problem p = problems.get(i);
                        json.append(i > 0 ? "," : "").append("{\"line\":").append(p.line()).append(",\"path\":");
                        string(json, p.path()).append(",\"message\":");
                        string(json, p.message()).append('}');
                    }
                    json.append("]}");
                } else {
                    out.println(f + ": " + summary);
                }
            }
            if (output.json()) {
                out.println(json.append(']'));
            }
            out.flush();
            return failed == 0 ? 0 : DENIED_OR_PROBLEMS;
        }
    }

    @Command(name = "diff", mixinStandardHelpOptions = true,
            description = {"What changes from OLD to NEW: domains, rules and limits added, removed or changed,",
                    "and what each change does to the buckets already held: kept (same keys, new numbers),",
                    "reset (new keys: counting starts over), orphaned (no longer consulted) or new.",
                    "Exits 0 with or without changes, 1 when either file has a problem."})
    static final class DiffCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "OLD", description = "the policy file in force")
        Path before;

        @Parameters(index = "1", paramLabel = "NEW", description = "the policy file to compare it with")
        Path after;

        @CommandLine.Mixin
        OutputOption output;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Policies old = load(before, err);
            Policies now = load(after, err);
            if (old == null || now == null) {
                return DENIED_OR_PROBLEMS;
            }
            List<PolicyDiff.Change> changes = PolicyDiff.between(old, now);
            if (output.json()) {
                StringBuilder json = new StringBuilder("[");
                for (PolicyDiff.Change c : changes) {
                    json.append(json.length() > 1 ? "," : "").append("{\"change\":");
                    string(json, c.kind()).append(",\"what\":");
                    string(json, c.what()).append(",\"name\":");
                    string(json, c.name()).append(",\"detail\":");
                    string(json, c.detail()).append(",\"buckets\":");
                    string(json, c.buckets().name().toLowerCase()).append('}');
                }
                out.println(json.append(']'));
            } else if (changes.isEmpty()) {
                out.println("no change: " + before + " and " + after + " define the same limits");
            } else {
                for (PolicyDiff.Change c : changes) {
                    out.println(c.kind() + " " + c.what() + " " + c.name() + (c.detail().isEmpty() ? "" : ": " + c.detail())
                            + (c.buckets() == PolicyDiff.Buckets.NONE ? "" : " [buckets " + c.buckets().name().toLowerCase() + "]"));
                }
            }
            out.flush();
            return 0;
        }

        static Policies load(Path f, PrintWriter err) {
            try {
                return PolicyLoader.load(f);
            } catch (PolicyException e) {
                err.println("sluice: " + f + " has " + e.report());
            } catch (IOException e) {
                err.println("sluice: " + f + " cannot be read: " + (e instanceof NoSuchFileException ? "no such file" : e.getMessage()));
            }
            err.flush();
            return null;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Replay a recorded request log through the real engine on an in-memory store, on the log's own clock,",
                    "and report per limit how many requests it would allow and deny (shadow limits included: their",
                    "denials are what they would deny if enforced).",
                    "LOG is JSON lines, one request each: {\"time\": \"2026-12-01T10:00:00.250Z\" or epoch millis,",
                    "\"domain\": \"api\", \"descriptors\": {\"user\": \"u1\"}, \"cost\": 1} (cost 1 when left out); - reads standard input.",
                    "Exits 1 when the policy or a line of the log has a problem, naming it."})
    static final class ReplayCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--policy", required = true, paramLabel = "FILE", description = "the policy to replay the log against")
        Path policy;

        @Parameters(index = "0", paramLabel = "LOG", description = "the request log (JSON lines), or - for standard input")
        String log;

        @CommandLine.Mixin
        OutputOption output;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Policies policies = DiffCommand.load(policy, err);
            if (policies == null) {
                return DENIED_OR_PROBLEMS;
            }
            long t0 = System.nanoTime();
            Replay.Report r;
            try (java.io.BufferedReader in = log.equals("-")
                    ? new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8))
                    : java.nio.file.Files.newBufferedReader(Path.of(log))) {
                r = new Replay(policies).run(in, log.equals("-") ? "standard input" : log);
            } catch (Replay.BadLine e) {
                err.println("sluice: " + e.getMessage());
                err.flush();
                return DENIED_OR_PROBLEMS;
            } catch (NoSuchFileException e) {
                err.println("sluice: " + log + " cannot be read: no such file");
                err.flush();
                return DENIED_OR_PROBLEMS;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (output.json()) {
                StringBuilder json = new StringBuilder("{\"requests\":").append(r.requests).append(",\"allowed\":").append(r.allowed)
                        .append(",\"denied\":").append(r.denied).append(",\"out_of_order\":").append(r.outOfOrder).append(",\"refused\":{");
                int i = 0;
                for (Map.Entry<String, Long> e : r.refused.entrySet()) {
                    string(json.append(i++ > 0 ? "," : ""), e.getKey()).append(':').append(e.getValue());
                }
                json.append("},\"limits\":[");
                i = 0;
                for (Map.Entry<String, Replay.Counts> e : r.limits.entrySet()) {
                    string(json.append(i++ > 0 ? "," : "").append("{\"limit\":"), e.getKey()).append(",\"allowed\":")
                            .append(e.getValue().allowed).append(",\"denied\":").append(e.getValue().denied).append('}');
                }
                out.println(json.append("]}"));
            } else {
                out.printf("%,d requests from %s to %s, replayed in %.1f s: %,d allowed, %,d denied%s%n", r.requests, r.first, r.last, seconds,
                        r.allowed, r.denied, r.outOfOrder == 0 ? "" : String.format(" (%,d lines earlier than the one before, decided at the time reached)", r.outOfOrder));
                r.refused.forEach((why, n) -> out.printf("  refused %,d: %s%n", n, why));
                out.printf("  %-40s %12s %12s %8s%n", "domain/limit", "allowed", "denied", "denied %");
                r.limits.forEach((name, c) -> out.printf("  %-40s %,12d %,12d %8.2f%n", name, c.allowed, c.denied,
                        100.0 * c.denied / Math.max(1, c.allowed + c.denied)));
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "acquire", mixinStandardHelpOptions = true,
            description = {"Ask a node whether a caller may spend COST units now, and show its answer.",
                    "Exits 0 when allowed, 1 when denied, 2 for a request the node refuses as invalid, 3 when no node answers."})
    static final class AcquireCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        NodeOptions node;

        @CommandLine.Mixin
        RequestOptions request;

        @Option(names = "--cost", paramLabel = "N", defaultValue = "1", description = "units to spend (default ${DEFAULT-VALUE})")
        long cost;

        @Option(names = "--dry-run", description = "decide without consuming")
        boolean dryRun;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (cost < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--cost must be 0 or more, got " + cost);
            }
            AcquireRequest ask = AcquireRequest.newBuilder().setDomain(request.domain).putAllDescriptors(request.descriptors).setCost(cost)
                    .setDryRun(dryRun).build();
            NodeOptions.Answered<AcquireResponse> r;
            try {
                r = node.call(RateLimiterGrpc::newBlockingStub, stub -> stub.acquire(ask), err, spec.commandLine());
            } catch (NodeOptions.Refused e) {
                err.println("sluice: " + e.target + " refused the request: " + e.status.getCode() + ": " + e.status.getDescription());
                err.flush();
                return USAGE;
            }
            if (r == null) {
                return UNREACHABLE;
            }
            print(out, r.target(), r.answer());
            return r.answer().getDecision() == Decision.ALLOWED ? 0 : DENIED_OR_PROBLEMS;
        }

        private void print(PrintWriter out, String target, AcquireResponse r) {
            if (node.output.json()) {
                StringBuilder json = new StringBuilder("{\"node\":");
                string(json, target).append(",\"decision\":");
                string(json, r.getDecision().name().toLowerCase()).append(",\"http_status\":").append(r.getHttpStatus())
                        .append(",\"retry_after_ms\":").append(r.getRetryAfter().getSeconds() * 1000 + r.getRetryAfter().getNanos() / 1_000_000)
                        .append(",\"limits\":[");
                for (int i = 0; i < r.getLimitsCount(); i++) {
                    LimitStatus l = r.getLimits(i);
                    json.append(i > 0 ? "," : "").append("{\"name\":");
                    string(json, l.getName()).append(",\"decision\":");
                    string(json, l.getDecision().name().toLowerCase()).append(",\"limit\":").append(l.getLimit())
                            .append(",\"remaining\":").append(l.getRemaining()).append('}');
                }
                json.append("],\"headers\":{");
                for (int i = 0; i < r.getHeadersCount(); i++) {
                    json.append(i > 0 ? "," : "");
                    string(json, r.getHeaders(i).getName()).append(':');
                    string(json, r.getHeaders(i).getValue());
                }
                out.println(json.append("}}"));
            } else {
                out.println(r.getDecision().name().toLowerCase() + " by " + target + " (HTTP " + r.getHttpStatus() + ")");
                out.printf("  %-24s %-8s %10s %10s%n", "limit", "decision", "limit", "remaining");
                for (LimitStatus l : r.getLimitsList()) {
                    out.printf("  %-24s %-8s %10d %10d%n", l.getName(), l.getDecision().name().toLowerCase(), l.getLimit(), l.getRemaining());
                }
                r.getHeadersList().forEach(h -> out.println("  " + h.getName() + ": " + h.getValue()));
            }
            out.flush();
        }
    }

    private static StringBuilder string(StringBuilder b, String s) {
        b.append('"');
        JsonText.escape(b, s);
        return b.append('"');
    }
}
