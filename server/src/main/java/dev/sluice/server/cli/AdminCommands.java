package dev.sluice.server.cli;

import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.admin.v1.AdminGrpc;
import dev.sluice.api.admin.v1.BucketInfo;
import dev.sluice.api.admin.v1.ClusterRequest;
import dev.sluice.api.admin.v1.ClusterResponse;
import dev.sluice.api.admin.v1.HotKey;
import dev.sluice.api.admin.v1.InspectRequest;
import dev.sluice.api.admin.v1.InspectResponse;
import dev.sluice.api.admin.v1.MemberInfo;
import dev.sluice.api.admin.v1.ResetBucket;
import dev.sluice.api.admin.v1.ResetRequest;
import dev.sluice.api.admin.v1.ResetResponse;
import dev.sluice.api.admin.v1.TopKeysRequest;
import dev.sluice.api.admin.v1.TopKeysResponse;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The commands that ask a node's admin API ({@code sluice.admin.v1}): inspect, reset, top and
 * status. Each needs a caller the node verifies and the policy names an admin.
 */
final class AdminCommands {

    private AdminCommands() {
    }

    /** Asks the first node that answers; prints the answer with {@code text}, or as JSON. Answers the exit code. */
    static <T extends MessageOrBuilder> int ask(NodeOptions node, CommandLine.Model.CommandSpec spec,
                                                Function<AdminGrpc.AdminBlockingStub, T> call, TextOutput<T> text,
                                                Function<T, Integer> exitCode) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        NodeOptions.Answered<T> answered;
        try {
            answered = node.call(AdminGrpc::newBlockingStub, call, err, spec.commandLine());
        } catch (NodeOptions.Refused e) {
            err.println("sluice: " + e.getMessage());
            err.flush();
            return Sluice.USAGE;
        }
        if (answered == null) {
            return Sluice.UNREACHABLE;
        }
        if (node.output.json()) {
            out.println(json(answered.answer()));
        } else {
            text.print(out, answered.target(), answered.answer());
        }
        out.flush();
        return exitCode.apply(answered.answer());
    }

    @FunctionalInterface
    interface TextOutput<T> {
        void print(PrintWriter out, String target, T answer);
    }

    static String json(MessageOrBuilder message) {
        try {
            return JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace()
                    .print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("an admin answer always prints as JSON", e);
        }
    }

    /** A duration as people read it: 850 ms, 12.5 s, 3m 20s, 2h 5m. */
    static String human(Duration d) {
        long millis = d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
        if (millis < 1000) {
            return millis + " ms";
        }
        if (millis < 60_000) {
            return String.format("%.1f s", millis / 1000.0);
        }
        long s = millis / 1000;
        if (s < 3600) {
            return (s / 60) + "m " + (s % 60) + "s";
        }
        if (s < 86_400) {
            return (s / 3600) + "h " + (s % 3600 / 60) + "m";
        }
        return (s / 86_400) + "d " + (s % 86_400 / 3600) + "h";
    }

    static String descriptors(Map<String, String> d) {
        return d.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = {"Show every limit that would apply to a request and its bucket as it is now, without consuming:",
                    "remaining, reset, retry-after for COST, the member owning it, remembered request ids.",
                    "Exits 0 when a request of COST would be allowed now, 1 when it would be denied."})
    static final class InspectCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        NodeOptions node;

        @Mixin
        RequestOptions request;

        @Option(names = "--cost", paramLabel = "N", defaultValue = "1", description = "the cost to ask about (default ${DEFAULT-VALUE})")
        long cost;

        @Override
        public Integer call() {
            InspectRequest ask = InspectRequest.newBuilder().setDomain(request.domain).putAllDescriptors(request.descriptors).setCost(cost)
                    .build();
            return ask(node, spec, stub -> stub.inspect(ask), this::print,
                    r -> r.getBucketsList().stream().allMatch(b -> b.getAllowed() || b.getShadow()) ? 0 : Sluice.DENIED_OR_PROBLEMS);
        }

        private void print(PrintWriter out, String target, InspectResponse r) {
            if (r.getBucketsCount() == 0) {
                out.println("no limit applies to " + descriptors(request.descriptors) + " in domain " + request.domain + " (asked " + target
                        + ")");
                return;
            }
            boolean denied = r.getBucketsList().stream().anyMatch(b -> !b.getAllowed() && !b.getShadow());
            out.println("a request of cost " + cost + " would be " + (denied ? "denied" : "allowed") + " now (asked " + target + ")");
            out.printf("  %-28s %12s %10s %-10s %-8s %-10s %10s  %s%n", "rule/limit", "remaining", "limit", "reset in", "cost", "retry in",
                    "remembered", "owner");
            for (BucketInfo b : r.getBucketsList()) {
                out.printf("  %-28s %12d %10d %-10s %-8s %-10s %10d  %s%n", b.getRule() + "/" + b.getLimit() + (b.getShadow() ? " (shadow)" : ""),
                        b.getRemaining(), b.getLimitValue(), human(b.getResetAfter()), b.getAllowed() ? "fits" : "denied",
                        b.getAllowed() ? "-" : human(b.getRetryAfter()), b.getRememberedRequests(), b.getOwner());
            }
            for (BucketInfo b : r.getBucketsList()) {
                out.println("  " + b.getRule() + "/" + b.getLimit() + ": " + b.getAlgorithm() + ", bucket " + b.getBucketKey()
                        + (b.getHeld() ? "" : " (at rest, not held)"));
            }
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true,
            description = {"Put the buckets of a request's limits back at rest, on their owners and backups (the request ids",
                    "they remember are forgotten too). Name the limits with --limit, or reset every limit that applies with --all.",
                    "The node logs who reset what. Exits 0 when done."})
    static final class ResetCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        NodeOptions node;

        @Mixin
        RequestOptions request;

        @CommandLine.ArgGroup(multiplicity = "1")
        Which which;

        static final class Which {
            @Option(names = "--limit", paramLabel = "NAME", split = ",", required = true, description = "limits to reset, by name")
            List<String> limits = new ArrayList<>();

            @Option(names = "--all", required = true, description = "every limit that applies to the request")
            boolean all;
        }

        @Override
        public Integer call() {
            ResetRequest reset = ResetRequest.newBuilder().setDomain(request.domain).putAllDescriptors(request.descriptors)
                    .addAllLimits(which.limits).setAll(which.all).build();
            return ask(node, spec, stub -> stub.reset(reset), this::print, r -> 0);
        }

        private void print(PrintWriter out, String target, ResetResponse r) {
            if (r.getBucketsCount() == 0) {
                out.println("nothing to reset: no limit applies to " + descriptors(request.descriptors) + " in domain " + request.domain);
                return;
            }
            for (ResetBucket b : r.getBucketsList()) {
                out.println("reset " + b.getRule() + "/" + b.getLimit() + " (bucket " + b.getBucketKey() + ")"
                        + (b.getHeld() ? "" : ": it was at rest already"));
            }
        }
    }

    @Command(name = "top", mixinStandardHelpOptions = true,
            description = {"The heaviest buckets of a domain over the last minute, cluster-wide, by requests or denials,",
                    "from every member's heavy-hitter sketch: each count is at most its error above the truth, never below."})
    static final class TopCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        NodeOptions node;

        @Option(names = "--domain", required = true, paramLabel = "DOMAIN", description = "the policy domain")
        String domain;

        @Option(names = "--by", paramLabel = "WHAT", defaultValue = "requests", description = "requests (default) or denials")
        By by;

        @Option(names = {"-n", "--count"}, paramLabel = "N", defaultValue = "10", description = "how many keys (default ${DEFAULT-VALUE})")
        int n;

        enum By { requests, denials }

        @Override
        public Integer call() {
            TopKeysRequest request = TopKeysRequest.newBuilder().setDomain(domain).setN(n)
                    .setBy(by == By.denials ? TopKeysRequest.By.DENIALS : TopKeysRequest.By.REQUESTS).build();
            return ask(node, spec, stub -> stub.topKeys(request), this::print, r -> 0);
        }

        private void print(PrintWriter out, String target, TopKeysResponse r) {
            out.printf("top %d of domain %s by %s over the last %s: %,d counted, every count within %,d of the truth (%d member(s))%n",
                    r.getKeysCount(), domain, by, human(r.getWindow()), r.getTotal(), r.getErrorBound(), r.getMembersAnswered());
            r.getMembersMissingList().forEach(m -> out.println("  missing " + m));
            out.printf("  %12s %8s  %-28s %s%n", by, "error", "rule/limit", "descriptors");
            for (HotKey k : r.getKeysList()) {
                out.printf("  %,12d %8s  %-28s %s%n", k.getCount(), "±" + k.getError(), k.getRule() + "/" + k.getLimit(),
                        descriptors(k.getDescriptorsMap()));
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"The cluster's members as each reports itself: addresses, state, partitions and buckets owned,",
                    "policy version, clock offset, uptime and version. Exits 0 when every member serves the same policy",
                    "and the cluster is safe (nothing migrating), 1 otherwise."})
    static final class StatusCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        NodeOptions node;

        @Override
        public Integer call() {
            return ask(node, spec, stub -> stub.cluster(ClusterRequest.getDefaultInstance()), this::print,
                    r -> healthy(r) ? 0 : Sluice.DENIED_OR_PROBLEMS);
        }

        static boolean healthy(ClusterResponse r) {
            return r.getSafe() && r.getMembersList().stream().allMatch(m -> m.getState().equals("SERVING"))
                    && r.getMembersList().stream().map(MemberInfo::getPolicyVersion).distinct().count() == 1;
        }

        private void print(PrintWriter out, String target, ClusterResponse r) {
            out.println("cluster " + r.getState() + ", " + (r.getSafe() ? "safe" : "NOT SAFE (partitions migrating or without backup)") + ", "
                    + r.getMembersCount() + " member(s), " + r.getPartitions() + " partitions (asked " + target + ")");
            out.printf("  %-22s %-22s %-11s %10s %10s %10s %-12s %8s %-10s %s%n", "grpc", "member", "state", "partitions", "buckets",
                    "backups", "policy", "offset", "uptime", "version");
            for (MemberInfo m : r.getMembersList()) {
                out.printf("  %-22s %-22s %-11s %10d %10d %10d %-12s %8s %-10s %s%s%n", m.getGrpcAddress().isEmpty() ? "?" : m.getGrpcAddress(),
                        m.getMemberAddress(), m.getState(), m.getOwnedPartitions(), m.getOwnedBuckets(), m.getBackupBuckets(),
                        m.getPolicyVersion(), m.getState().equals("UNREACHABLE") ? "-" : m.getClockOffsetMillis() + " ms",
                        m.getState().equals("UNREACHABLE") ? "-" : human(m.getUptime()), m.getVersion(),
                        (m.getLocal() ? " (answered)" : "") + (m.getError().isEmpty() ? "" : " " + m.getError()));
            }
        }
    }
}
