package dev.sluice.server.node;

import dev.sluice.server.policy.Policies;
import dev.sluice.server.time.Clock;
import dev.sluice.server.time.Durations;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Every setting a node has, in one table: what {@code --help}, the environment variables, the
 * README's option table, validation and {@link NodeSettings.Builder} all come from. The order here
 * is the order of the help and of the table.
 */
public final class Settings {

    private Settings() {
    }

    public static final Setting<Integer> PORT = new Setting<>("port", Integer.class, "PORT", 8081, "8081",
            Settings::port, Settings::portOrZero, "gRPC port: Acquire, `grpc.health.v1` health, reflection (0: any free port)");
    public static final Setting<String> HOST = new Setting<>("host", String.class, "ADDRESS", "0.0.0.0", "0.0.0.0",
            Settings::text, Settings::notEmpty, "address the gRPC server binds to");
    public static final Setting<Path> POLICIES = new Setting<>("policies", Path.class, "FILE", null, "bundled demo",
            Settings::policyFile, null, "YAML policy file");
    public static final Setting<Path> ENVOY_CONFIG = new Setting<>("envoy-config", Path.class, "PATH", null, "none",
            Settings::readablePath, null, "envoyproxy/ratelimit configuration (a file, or a directory of files, one domain each), served"
            + " on `envoy.service.ratelimit.v3.RateLimitService` beside `sluice.v1`; reloaded like the policies");
    public static final Setting<Boolean> ENVOY_RESPONSE_HEADERS = new Setting<>("envoy-response-headers", Boolean.class, "BOOLEAN",
            false, "false", Settings::bool, null, "add `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` to Envoy answers"
            + " (envoyproxy/ratelimit's `LIMIT_RESPONSE_HEADERS_ENABLED`)");
    public static final Setting<String> ENVOY_HEADER_NAMES = new Setting<>("envoy-header-names", String.class, "LIMIT,REMAINING,RESET",
            "RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset", "RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset", Settings::text,
            Settings::threeHeaderNames, "the names of the three headers `--envoy-response-headers` adds (envoyproxy/ratelimit's"
            + " `LIMIT_LIMIT_HEADER`, `LIMIT_REMAINING_HEADER`, `LIMIT_RESET_HEADER`), e.g. `X-RateLimit-Limit,X-RateLimit-Remaining,X-RateLimit-Reset`");
    public static final Setting<Boolean> ENVOY_SHADOW_MODE = new Setting<>("envoy-shadow-mode", Boolean.class, "BOOLEAN", false, "false",
            Settings::bool, null, "answer Envoy `OK` overall whatever the limits say, each descriptor keeping its own code"
            + " (envoyproxy/ratelimit's `SHADOW_MODE`)");
    public static final Setting<Integer> MEMBER_PORT = new Setting<>("member-port", Integer.class, "PORT", 5701, "5701",
            Settings::port, Settings::portNumber, "the embedded Hazelcast member's port");
    public static final Setting<MemberList> MEMBERS = new Setting<>("members", MemberList.class, "HOST:PORT,...", MemberList.NONE,
            "none (single member)", MemberList::parse, null, "`host:port,...` of the cluster's members; this node's own may be listed");
    public static final Setting<String> MEMBER_HOST = new Setting<>("member-host", String.class, "ADDRESS", null,
            "127.0.0.1 when alone", Settings::text, Settings::notEmpty, "address the member binds to and gives other members");
    public static final Setting<String> CLUSTER_NAME = new Setting<>("cluster-name", String.class, "NAME", "sluice", "sluice",
            Settings::text, Settings::notEmpty, "members join only a cluster of the same name");
    public static final Setting<Path> CLUSTER_SECRET_FILE = new Setting<>("cluster-secret-file", Path.class, "FILE", null, "none",
            Settings::readableFile, ClusterSecret::problem, "a secret shared by the members, from which the cluster name they present"
            + " is derived (required unless every member address is loopback)");
    public static final Setting<String> KUBERNETES_SERVICE_DNS = new Setting<>("kubernetes-service-dns", String.class, "NAME",
            null, "none", Settings::text, Settings::notEmpty, "find members by DNS lookup of this headless service");
    public static final Setting<String> KUBERNETES_SERVICE_NAME = new Setting<>("kubernetes-service-name", String.class, "NAME",
            null, "none", Settings::text, Settings::notEmpty, "find members through the Kubernetes API: this service's endpoints");
    public static final Setting<String> KUBERNETES_NAMESPACE = new Setting<>("kubernetes-namespace", String.class, "NAME",
            null, "the pod's own", Settings::text, Settings::notEmpty, "namespace for Kubernetes API discovery");
    public static final Setting<String> KUBERNETES_API_URL = new Setting<>("kubernetes-api-url", String.class, "URL", null,
            "in-cluster", Settings::text, Settings::notEmpty, "Kubernetes API for API discovery");
    public static final Setting<Path> TLS_CERT = new Setting<>("tls-cert", Path.class, "FILE", null, "none (plaintext)",
            Settings::readableFile, null, "PEM certificate chain the gRPC port presents (TLS 1.2 and 1.3); reloaded when it changes");
    public static final Setting<Path> TLS_KEY = new Setting<>("tls-key", Path.class, "FILE", null, "none",
            Settings::readableFile, null, "PEM private key (PKCS#8) of `--tls-cert`; reloaded when it changes");
    public static final Setting<Path> TLS_CLIENT_CA = new Setting<>("tls-client-ca", Path.class, "FILE", null, "none",
            Settings::readableFile, null, "PEM CA certificates: callers must present a certificate they signed (mutual TLS)");
    public static final Setting<Path> CALLER_TOKENS = new Setting<>("caller-tokens", Path.class, "FILE", null, "none",
            Settings::readableFile, null, "file of `caller-id sha256:HEX` lines: bearer tokens callers may present, hashed");
    public static final Setting<Duration> CREDENTIALS_RELOAD_INTERVAL = new Setting<>("credentials-reload-interval",
            Duration.class, "DURATION", Duration.ofSeconds(5), "5s", Settings::duration, Settings::notNegative,
            "how often certificates, keys and the token file are checked for changes (0: never)");
    public static final Setting<Integer> HEALTH_PORT = new Setting<>("health-port", Integer.class, "PORT", 0, "0 (none)",
            Settings::port, Settings::portOrZero, "a plaintext port serving `grpc.health.v1` alone, for probes that cannot speak TLS (0: none)");
    public static final Setting<Integer> MAX_MESSAGE_SIZE = new Setting<>("max-message-size", Integer.class, "SIZE", 64 << 20,
            "64MiB", Settings::size, Settings::messageSize, "largest gRPC message read (`B`, `KiB`, `MiB`, `GiB`); the default fits the largest"
            + " batch the API allows (1,000 requests with 32 descriptors of the longest names and values: 56.4 MB)");
    public static final Setting<Long> MAX_BUCKETS = new Setting<>("max-buckets", Long.class, "N", 0L,
            "0: from the heap (40% of it, at 200 bytes an entry)", Settings::wholeLong, Settings::notNegativeLong,
            "bucket entries (owned and backups) this member may hold; past it, requests for new buckets get their domain's `when_full`"
            + " answer while the buckets held keep deciding");
    public static final Setting<Integer> MIN_CLUSTER_SIZE = new Setting<>("min-cluster-size", Integer.class, "N", 1, "1",
            Settings::whole, Settings::positive, "below this many members, answer `UNAVAILABLE` instead of deciding alone");
    public static final Setting<Duration> HEARTBEAT_INTERVAL = new Setting<>("heartbeat-interval", Duration.class, "DURATION",
            Duration.ofSeconds(1), "1s", Settings::duration, Settings::wholeSeconds,
            "how often members tell each other they are alive (whole seconds)");
    public static final Setting<Duration> MEMBER_TIMEOUT = new Setting<>("member-timeout", Duration.class, "DURATION",
            Duration.ofSeconds(10), "10s", Settings::duration, Settings::wholeSeconds,
            "a member not heard from this long is taken for gone and its partitions move to their backups (whole seconds,"
            + " above `--heartbeat-interval`); longer tolerates longer pauses, shorter ends a split's lone decisions sooner");
    public static final Setting<Duration> MERGE_INTERVAL = new Setting<>("merge-interval", Duration.class, "DURATION",
            Duration.ofSeconds(30), "30s", Settings::duration, Settings::wholeSeconds,
            "after a split, how often each side looks for the other to merge with (whole seconds)");
    public static final Setting<Integer> MAX_IN_FLIGHT = new Setting<>("max-in-flight", Integer.class, "N", 10_000, "10000",
            Settings::whole, Settings::positive, "decisions outstanding before new calls fail fast with `UNAVAILABLE`");
    public static final Setting<Duration> SHUTDOWN_GRACE = new Setting<>("shutdown-grace", Duration.class, "DURATION",
            Duration.ofSeconds(10), "10s", Settings::duration, Settings::notNegative,
            "on SIGTERM, how long calls in flight may take to finish");
    public static final Setting<Duration> DRAIN_DELAY = new Setting<>("drain-delay", Duration.class, "DURATION", Duration.ZERO,
            "0s", Settings::duration, Settings::notNegative, "on SIGTERM, keep answering this long while reporting `NOT_SERVING`");
    public static final Setting<Duration> POLICY_RELOAD_INTERVAL = new Setting<>("policy-reload-interval", Duration.class,
            "DURATION", Duration.ofSeconds(5), "5s", Settings::duration, Settings::notNegative,
            "how often the policy file is checked for changes (0: never)");
    public static final Setting<Duration> REQUEST_MEMORY = new Setting<>("request-memory", Duration.class, "DURATION",
            Duration.ofSeconds(10), "10s", Settings::duration, Settings::positive,
            "how long a bucket remembers a request id, so a retry within it is not counted twice (about 32 bytes per id, owner and backup)");
    public static final Setting<Duration> EXPIRY_GRACE = new Setting<>("expiry-grace", Duration.class, "DURATION",
            Duration.ofSeconds(5), "5s", Settings::duration, Settings::notNegative,
            "how long past its resting time an idle bucket is kept, so members whose clocks differ a little never remove a live one");
    public static final Setting<Duration> SWEEP_INTERVAL = new Setting<>("sweep-interval", Duration.class, "DURATION",
            Duration.ofSeconds(30), "30s", Settings::duration, Settings::positive,
            "how often each member removes the idle buckets it owns");
    public static final Setting<Integer> PARTITION_COUNT = new Setting<>("partition-count", Integer.class, "N", 71, "71",
            Settings::whole, Settings::positive, "Hazelcast partitions; every member of a cluster must use the same number");
    public static final Setting<Boolean> HAZELCAST_INTERNALS = new Setting<>("hazelcast-internals", Boolean.class, "BOOLEAN",
            true, "true", Settings::bool, null,
            "use Hazelcast's internal invocation API (faster); false uses its public API alone, to triage a Hazelcast upgrade");
    public static final Setting<Boolean> TOP_KEYS = new Setting<>("top-keys", Boolean.class, "BOOLEAN", true, "true", Settings::bool, null,
            "count every decided bucket in a heavy-hitter sketch, for the admin API's TopKeys and the console (false: this member counts none)");
    public static final Setting<String> LOG_LEVEL = new Setting<>("log-level", String.class, "LEVEL", "info", "info",
            Settings::logLevel, Settings::knownLevel, "error, warn, info or debug");
    public static final Setting<String> LOG_FORMAT = new Setting<>("log-format", String.class, "FORMAT", "text", "text",
            Settings::logFormat, Settings::knownFormat, "`text` (one line an event) or `json` (one JSON object a line, with the event's fields)");
    public static final Setting<Integer> METRICS_PORT = new Setting<>("metrics-port", Integer.class, "PORT", 9090, "9090",
            Settings::port, Settings::portOrZero, "HTTP port serving Prometheus metrics at `/metrics` (OpenMetrics when the scraper asks"
            + " for it; 0: no metrics)");
    public static final Setting<Double> NEAR_LIMIT = new Setting<>("near-limit", Double.class, "FRACTION", 0.2, "0.2",
            Settings::fraction, Settings::openFraction, "an allowed decision leaving less than this fraction of a limit counts as `near_limit`");
    public static final Setting<String> OTLP_ENDPOINT = new Setting<>("otlp-endpoint", String.class, "URL", null, "none (no traces)",
            Settings::text, Settings::httpUrl, "OTLP/HTTP collector for traces, e.g. `http://otel-collector:4318`; a span per decision,"
            + " continuing the caller's W3C trace context");
    public static final Setting<Integer> WARM_UP = new Setting<>("warm-up", Integer.class, "N", 10_000, "10000",
            Settings::whole, Settings::notNegative, "before health reports `SERVING`, at least this many decisions on a private domain,"
            + " then bursts until they are fast (30 s at most), so the first callers' decisions are not slowed by a cold start (0: none)");

    /** Settings made in code only (embedders and tests): no flag, no variable. */
    public static final Setting<Clock> CLOCK = new Setting<>("clock", Clock.class, null, Clock.system(), "the cluster's time",
            null, null, "the decision clock");
    public static final Setting<Policies> POLICY_SET = new Setting<>("policy-set", Policies.class, null, null, "none",
            null, null, "policies given directly instead of a file");
    public static final Setting<String> KUBERNETES_CA_CERTIFICATE = new Setting<>("kubernetes-ca-certificate", String.class, null,
            null, "the pod's service-account CA", null, null, "the Kubernetes API's CA certificate (PEM)");
    public static final Setting<String> KUBERNETES_API_TOKEN = new Setting<>("kubernetes-api-token", String.class, null, null,
            "the pod's service-account token", null, null, "a bearer token for the Kubernetes API");
    public static final Setting<io.opentelemetry.sdk.trace.export.SpanExporter> SPAN_EXPORTER = new Setting<>("span-exporter",
            io.opentelemetry.sdk.trace.export.SpanExporter.class, null, null, "OTLP when --otlp-endpoint is set", null, null,
            "where spans go, instead of OTLP (tests: an in-memory exporter)");

    /** Every setting, in help order. */
    public static final List<Setting<?>> ALL = List.of(PORT, HOST, POLICIES, ENVOY_CONFIG, ENVOY_RESPONSE_HEADERS, ENVOY_HEADER_NAMES, ENVOY_SHADOW_MODE, MEMBER_PORT, MEMBERS, MEMBER_HOST, CLUSTER_NAME,
            CLUSTER_SECRET_FILE, TLS_CERT, TLS_KEY, TLS_CLIENT_CA, CALLER_TOKENS, CREDENTIALS_RELOAD_INTERVAL, HEALTH_PORT,
            KUBERNETES_SERVICE_DNS, KUBERNETES_SERVICE_NAME, KUBERNETES_NAMESPACE, KUBERNETES_API_URL, MIN_CLUSTER_SIZE,
            HEARTBEAT_INTERVAL, MEMBER_TIMEOUT, MERGE_INTERVAL,
            MAX_IN_FLIGHT, MAX_MESSAGE_SIZE, MAX_BUCKETS, SHUTDOWN_GRACE, DRAIN_DELAY, POLICY_RELOAD_INTERVAL, REQUEST_MEMORY, EXPIRY_GRACE, SWEEP_INTERVAL,
            PARTITION_COUNT, HAZELCAST_INTERNALS, TOP_KEYS, METRICS_PORT, NEAR_LIMIT, OTLP_ENDPOINT, LOG_LEVEL, LOG_FORMAT, WARM_UP, CLOCK, POLICY_SET,
            KUBERNETES_CA_CERTIFICATE, KUBERNETES_API_TOKEN, SPAN_EXPORTER);

    /** The settings given on the command line or in the environment. */
    public static List<Setting<?>> commandLine() {
        return ALL.stream().filter(Setting::onCommandLine).toList();
    }

    /** The README's table of options, in Markdown, as this table says. */
    public static String markdownTable() {
        List<String> rows = new ArrayList<>();
        rows.add("| option | variable | default | meaning |");
        rows.add("| --- | --- | --- | --- |");
        for (Setting<?> s : commandLine()) {
            rows.add("| `" + s.flag() + "` | `" + s.env() + "` | " + s.defaultText() + " | " + s.help() + " |");
        }
        return String.join("\n", rows) + "\n";
    }

    /** The order of host:port addresses given as one value. */
    public record MemberList(List<String> addresses) {
        static final MemberList NONE = new MemberList(List.of());

        public MemberList {
            addresses = List.copyOf(addresses);
        }

        static MemberList parse(String text) throws Setting.Invalid {
            List<String> members = new ArrayList<>();
            for (String m : text.split(",")) {
                String member = m.trim();
                if (member.isEmpty()) {
                    continue;
                }
                int colon = member.lastIndexOf(':');
                if (colon <= 0 || colon == member.length() - 1) {
                    throw new Setting.Invalid("'" + member + "' is not host:port");
                }
                String port = member.substring(colon + 1);
                if (portNumber(parsePort(port)) != null) {
                    throw new Setting.Invalid("'" + member + "': '" + port + "' is not a port number (1-65535)");
                }
                members.add(member);
            }
            if (members.isEmpty()) {
                throw new Setting.Invalid("no member addresses in '" + text + "'");
            }
            return new MemberList(members);
        }
    }

    private static int parsePort(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Integer port(String text) throws Setting.Invalid {
        int p = parsePort(text);
        if (p < 0) {
            throw new Setting.Invalid("'" + text + "' is not a port number");
        }
        return p;
    }

    private static String portOrZero(Integer p) {
        return p >= 0 && p <= 65535 ? null : "is not a port number (0-65535)";
    }

    private static String portNumber(Integer p) {
        return p >= 1 && p <= 65535 ? null : "is not a port number (1-65535)";
    }

    private static Integer whole(String text) throws Setting.Invalid {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new Setting.Invalid("'" + text + "' is not a whole number");
        }
    }

    private static Integer size(String text) throws Setting.Invalid {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(B|KiB|MiB|GiB)?").matcher(text);
        if (!m.matches()) {
            throw new Setting.Invalid("'" + text + "' is not a size (bytes, or a number and KiB, MiB or GiB: 256KiB, 64MiB)");
        }
        long unit = switch (m.group(2) == null ? "B" : m.group(2)) {
            case "KiB" -> 1L << 10;
            case "MiB" -> 1L << 20;
            case "GiB" -> 1L << 30;
            default -> 1;
        };
        try {
            long bytes = Math.multiplyExact(Long.parseLong(m.group(1)), unit);
            if (bytes > Integer.MAX_VALUE) {
                throw new Setting.Invalid("'" + text + "' is larger than 2 GiB");
            }
            return (int) bytes;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new Setting.Invalid("'" + text + "' is larger than 2 GiB");
        }
    }

    private static String messageSize(Integer bytes) {
        return bytes >= 4096 ? null : "is too small: at least 4KiB, or no request with a few descriptors fits";
    }

    private static Long wholeLong(String text) throws Setting.Invalid {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new Setting.Invalid("'" + text + "' is not a whole number");
        }
    }

    private static String notNegativeLong(Long n) {
        return n >= 0 ? null : "must not be negative";
    }

    private static String positive(Integer n) {
        return n > 0 ? null : "must be positive";
    }

    private static String text(String text) {
        return text;
    }

    /** Three HTTP header names (RFC 9110 tokens), comma-separated. */
    static String threeHeaderNames(String text) {
        String[] names = text.split(",", -1);
        if (names.length != 3) {
            return "must be three header names separated by commas (limit, remaining, reset), got " + names.length;
        }
        for (String n : names) {
            if (!n.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                return "'" + n + "' is not a header name";
            }
        }
        return null;
    }

    private static String notEmpty(String text) {
        return text.isEmpty() ? "must not be empty" : null;
    }

    private static Duration duration(String text) throws Setting.Invalid {
        try {
            return Durations.parse(text);
        } catch (Durations.NotADuration e) {
            throw new Setting.Invalid(e.getMessage());
        }
    }

    private static String notNegative(Duration d) {
        return d.isNegative() ? "must not be negative" : null;
    }

    private static String positive(Duration d) {
        return d.isNegative() || d.isZero() ? "must be longer than zero" : null;
    }

    /** Hazelcast counts these times in whole seconds. */
    private static String wholeSeconds(Duration d) {
        if (d.isNegative() || d.isZero()) {
            return "must be longer than zero";
        }
        return d.getNano() != 0 ? "must be whole seconds" : null;
    }

    private static Boolean bool(String text) throws Setting.Invalid {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new Setting.Invalid("'" + text + "' is not true or false");
        };
    }

    private static final List<String> LEVELS = List.of("error", "warn", "info", "debug");
    private static final List<String> FORMATS = List.of("text", "json");

    private static String logLevel(String text) throws Setting.Invalid {
        return oneOf(LEVELS, "log level", text);
    }

    private static String knownLevel(String level) {
        return known(LEVELS, "log level", level);
    }

    private static String logFormat(String text) throws Setting.Invalid {
        return oneOf(FORMATS, "log format", text);
    }

    private static String knownFormat(String format) {
        return known(FORMATS, "log format", format);
    }

    /** {@code text} as one of {@code words}, in any case. */
    private static String oneOf(List<String> words, String what, String text) throws Setting.Invalid {
        String w = text.toLowerCase(Locale.ROOT);
        if (words.contains(w)) {
            return w;
        }
        throw new Setting.Invalid("'" + text + "' is not a " + what + " (" + String.join(", ", words) + ")");
    }

    private static String known(List<String> words, String what, String word) {
        return words.contains(word) ? null : "is not a " + what + " (" + String.join(", ", words) + ")";
    }

    private static Double fraction(String text) throws Setting.Invalid {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new Setting.Invalid("'" + text + "' is not a number");
        }
    }

    private static String openFraction(Double f) {
        return f > 0 && f < 1 ? null : "must be between 0 and 1 (e.g. 0.2: under a fifth of the limit left)";
    }

    private static String httpUrl(String url) {
        try {
            java.net.URI u = new java.net.URI(url);
            return ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null ? null
                    : "is not an http:// or https:// URL with a host";
        } catch (java.net.URISyntaxException e) {
            return "is not a URL: " + e.getMessage();
        }
    }

    private static String notNegative(Integer n) {
        return n >= 0 ? null : "must not be negative";
    }

    private static Path readableFile(String text) throws Setting.Invalid {
        if (text.isEmpty()) {
            throw new Setting.Invalid("must not be empty");
        }
        Path p = Path.of(text);
        if (!Files.isRegularFile(p)) {
            throw new Setting.Invalid("no file at '" + text + "'");
        }
        if (!Files.isReadable(p)) {
            throw new Setting.Invalid("file '" + text + "' is not readable");
        }
        return p;
    }

    private static Path readablePath(String text) throws Setting.Invalid {
        if (text.isEmpty()) {
            throw new Setting.Invalid("must not be empty");
        }
        Path p = Path.of(text);
        if (!Files.exists(p)) {
            throw new Setting.Invalid("no file or directory at '" + text + "'");
        }
        if (!Files.isReadable(p)) {
            throw new Setting.Invalid("'" + text + "' is not readable");
        }
        return p;
    }

    private static Path policyFile(String text) throws Setting.Invalid {
        if (text.isEmpty()) {
            throw new Setting.Invalid("must not be empty");
        }
        Path p = Path.of(text);
        if (!Files.isRegularFile(p)) {
            throw new Setting.Invalid("no policy file at '" + text + "'");
        }
        if (!Files.isReadable(p)) {
            throw new Setting.Invalid("policy file '" + text + "' is not readable");
        }
        return p;
    }
}
