package dev.sluice.server.node;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.sun.net.httpserver.HttpExchange;
import dev.sluice.server.api.ClusterAdmin;
import dev.sluice.server.observe.KeyCounts;
import dev.sluice.server.observe.TopKeys;
import dev.sluice.server.policy.BucketNames;
import dev.sluice.server.policy.Policies;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The console: one read-only page on the metrics port ({@code /console}) that shows the cluster
 * live, and the two JSON documents it reads. {@code /console/overview.json} is the cluster as
 * every member reports it: members, the policy and its last reload, and every member's counters
 * and decision-time histogram summed (cumulative; the page turns them into rates and a p99).
 * {@code /console/top.json} is the admin API's TopKeys and, like it, answers only a bearer token
 * the node maps to a caller holding the admin role: bucket names carry callers' descriptor values.
 */
final class Console {

    private static final JsonFactory JSON = new JsonFactory();
    private static final char SEPARATOR = '\u001f';
    private static final long WAIT_MILLIS = 6_000;

    private final ClusterAdmin cluster;
    private final Supplier<Policies> policies;
    private final PolicyReloads reloads;
    /** The owner of a bearer token, or {@code null}; {@code null} itself when the node takes no tokens. */
    private final Function<String, String> tokens;
    private final byte[] page;

    Console(ClusterAdmin cluster, Supplier<Policies> policies, PolicyReloads reloads, Function<String, String> tokens) {
        this.cluster = cluster;
        this.policies = policies;
        this.reloads = reloads;
        this.tokens = tokens;
        try (InputStream in = Console.class.getResourceAsStream("/console/index.html")) {
            if (in == null) {
                throw new IllegalStateException("the console page is missing from the node's jar");
            }
            this.page = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Answers a request under {@code /console}; answers whether the path was the console's. */
    boolean handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        switch (path) {
            case "/console", "/console/" -> MetricsServer.reply(exchange, 200, "text/html; charset=utf-8", page);
            case "/console/overview.json" -> json(exchange, 200, overview());
            case "/console/top.json" -> top(exchange);
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void json(HttpExchange exchange, int status, String body) throws IOException {
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        MetricsServer.reply(exchange, status, "application/json; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes one JSON document with {@code body}. */
    private static String write(IoConsumer<JsonGenerator> body) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            body.accept(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    @FunctionalInterface
    private interface IoConsumer<T> {
        void accept(T t) throws IOException;
    }

    private static String error(String message) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        });
    }

    String overview() {
        List<ClusterAdmin.MemberAnswer<ClusterAdmin.Report>> members = await(cluster.reports());
        List<ClusterAdmin.MemberAnswer<Map<String, Long>>> figures = await(cluster.figures());
        Map<String, Long> sum = new TreeMap<>();
        List<String> missing = new ArrayList<>();
        for (ClusterAdmin.MemberAnswer<Map<String, Long>> a : figures) {
            if (a.answer() == null) {
                missing.add(a.memberAddress() + ": " + a.error());
            } else {
                a.answer().forEach((k, v) -> sum.merge(k, v, Long::sum));
            }
        }
        Policies p = policies.get();
        PolicyReloads.Last last = reloads.last();
        return write(g -> {
            g.writeStartObject();
            g.writeNumberField("time_ms", System.currentTimeMillis());
            g.writeObjectFieldStart("cluster");
            g.writeStringField("state", cluster.state());
            g.writeBooleanField("safe", cluster.safe());
            g.writeNumberField("partitions", cluster.partitions());
            g.writeEndObject();
            g.writeArrayFieldStart("members");
            for (ClusterAdmin.MemberAnswer<ClusterAdmin.Report> m : members) {
                g.writeStartObject();
                g.writeStringField("member_address", m.memberAddress());
                g.writeBooleanField("local", m.local());
                ClusterAdmin.Report r = m.answer();
                if (r == null) {
                    g.writeStringField("state", "UNREACHABLE");
                    g.writeStringField("error", m.error());
                } else {
                    g.writeStringField("grpc_address", r.grpcAddress());
                    g.writeStringField("state", r.state());
                    g.writeNumberField("owned_partitions", r.ownedPartitions());
                    g.writeNumberField("owned_buckets", r.ownedBuckets());
                    g.writeNumberField("backup_buckets", r.backupBuckets());
                    g.writeStringField("policy_version", r.policyVersion());
                    g.writeNumberField("clock_offset_ms", r.clockOffsetMillis());
                    g.writeNumberField("uptime_ms", r.uptimeMillis());
                    g.writeStringField("version", r.version());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeObjectFieldStart("policy");
            g.writeStringField("version", p.version());
            g.writeStringField("source", p.source());
            g.writeArrayFieldStart("domains");
            for (String d : new java.util.TreeSet<>(p.domainNames())) {
                g.writeString(d);
            }
            g.writeEndArray();
            g.writeObjectFieldStart("last_reload");
            g.writeStringField("outcome", last.outcome());
            g.writeNumberField("at_ms", last.atMillis());
            g.writeStringField("why", last.why());
            g.writeEndObject();
            g.writeEndObject();
            writeFigures(g, sum);
            g.writeArrayFieldStart("members_missing");
            for (String m : missing) {
                g.writeString(m);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /** The summed figures: requests by outcome, limits by outcome, the latency histogram. */
    private static void writeFigures(JsonGenerator g, Map<String, Long> sum) throws IOException {
        Map<String, Long> requests = new TreeMap<>();
        Map<String, Map<String, Long>> limits = new TreeMap<>();
        TreeMap<Long, Long> latency = new TreeMap<>();
        long latencyCount = 0;
        for (Map.Entry<String, Long> e : sum.entrySet()) {
            String[] f = e.getKey().split(String.valueOf(SEPARATOR), -1);
            switch (f[0]) {
                case "decisions" -> requests.merge(f[2], e.getValue(), Long::sum);
                case "limit" -> limits.computeIfAbsent(f[1] + SEPARATOR + f[2] + SEPARATOR + f[3], k -> new TreeMap<>())
                        .merge(f[4], e.getValue(), Long::sum);
                case "latency" -> {
                    if (f[1].equals("count")) {
                        latencyCount = e.getValue();
                    } else {
                        latency.merge(Long.parseLong(f[1]), e.getValue(), Long::sum);
                    }
                }
                default -> requests.merge(f[0], e.getValue(), Long::sum);
            }
        }
        g.writeObjectFieldStart("requests");
        for (String outcome : List.of("allowed", "denied", "dry_runs", "errors", "overload")) {
            g.writeNumberField(outcome, requests.getOrDefault(outcome, 0L));
        }
        g.writeEndObject();
        g.writeArrayFieldStart("limits");
        for (Map.Entry<String, Map<String, Long>> e : limits.entrySet()) {
            String[] name = e.getKey().split(String.valueOf(SEPARATOR), -1);
            g.writeStartObject();
            g.writeStringField("domain", name[0]);
            g.writeStringField("rule", name[1]);
            g.writeStringField("limit", name[2]);
            for (String outcome : List.of("allowed", "near_limit", "denied", "shadow_denied")) {
                g.writeNumberField(outcome, e.getValue().getOrDefault(outcome, 0L));
            }
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeObjectFieldStart("latency");
        g.writeNumberField("count", latencyCount);
        g.writeArrayFieldStart("le_ns");
        for (long le : latency.keySet()) {
            g.writeNumber(le);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("cumulative");
        for (long c : latency.values()) {
            g.writeNumber(c);
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private void top(HttpExchange exchange) throws IOException {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        String caller = null;
        if (tokens != null && authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            caller = tokens.apply(authorization.substring(7).strip());
        }
        if (caller == null) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            json(exchange, 401, error(tokens == null
                    ? "top keys need an admin caller, and this node verifies no bearer tokens (--caller-tokens)"
                    : "top keys need a bearer token the node maps to a caller holding the admin role"));
            return;
        }
        Policies p = policies.get();
        if (!p.isAdmin(caller)) {
            json(exchange, 403, error("caller " + caller + " does not hold the admin role"));
            return;
        }
        Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
        String domain = query.getOrDefault("domain", "");
        if (domain.isEmpty()) {
            json(exchange, 400, error("domain: required; name the domain whose heaviest keys to list"));
            return;
        }
        if (p.domain(domain) == null) {
            json(exchange, 404, error("domain: \"" + domain + "\" has no policies on this cluster"));
            return;
        }
        String byText = query.getOrDefault("by", "requests");
        if (!byText.equals("requests") && !byText.equals("denials")) {
            json(exchange, 400, error("by: \"" + byText + "\" is not requests or denials"));
            return;
        }
        int n;
        try {
            n = Integer.parseInt(query.getOrDefault("n", "10"));
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || n > 1000) {
            json(exchange, 400, error("n: from 1 to 1000 keys, got \"" + query.get("n") + "\""));
            return;
        }
        TopKeys.By by = byText.equals("denials") ? TopKeys.By.DENIALS : TopKeys.By.REQUESTS;
        List<KeyCounts> parts = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (ClusterAdmin.MemberAnswer<KeyCounts> a : await(cluster.topKeys(domain, by))) {
            if (a.answer() == null) {
                missing.add(a.memberAddress() + ": " + a.error());
            } else {
                parts.add(a.answer());
            }
        }
        KeyCounts merged = KeyCounts.merge(parts, n);
        json(exchange, 200, write(g -> {
            g.writeStartObject();
            g.writeStringField("domain", domain);
            g.writeStringField("by", byText);
            g.writeNumberField("total", merged.total());
            g.writeNumberField("error_bound", merged.bound());
            g.writeArrayFieldStart("keys");
            for (KeyCounts.Entry e : merged.entries()) {
                BucketNames.Parts name = BucketNames.parse(e.key());
                g.writeStartObject();
                g.writeStringField("rule", name.rule());
                g.writeStringField("limit", name.limit());
                g.writeObjectFieldStart("descriptors");
                for (Map.Entry<String, String> d : name.descriptors().entrySet()) {
                    g.writeStringField(d.getKey(), d.getValue());
                }
                g.writeEndObject();
                g.writeNumberField("count", e.count());
                g.writeNumberField("error", e.error());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("members_missing");
            for (String m : missing) {
                g.writeString(m);
            }
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new LinkedHashMap<>();
        if (raw == null) {
            return q;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            q.putIfAbsent(k, v);
        }
        return q;
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f) {
        try {
            return f.get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the members did not answer: " + e, e);
        }
    }
}
