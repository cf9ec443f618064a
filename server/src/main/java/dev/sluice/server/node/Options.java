package dev.sluice.server.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Command-line flags, each with an environment variable; a flag wins over its variable. Every
 * bad value is reported as one line naming the flag or variable.
 */
final class Options {

    record Option(String flag, String env, String valueName, String defaultText, String help) {
    }

    static final List<Option> ALL = List.of(
            new Option("--port", "SLUICE_PORT", "PORT", "8081", "gRPC port to serve Acquire, health and reflection on"),
            new Option("--host", "SLUICE_HOST", "ADDRESS", "0.0.0.0", "address the gRPC server binds to"),
            new Option("--policies", "SLUICE_POLICIES", "FILE", "the bundled demo", "YAML policy file to serve"),
            new Option("--member-port", "SLUICE_MEMBER_PORT", "PORT", "5701", "port the embedded Hazelcast member listens on"),
            new Option("--members", "SLUICE_MEMBERS", "HOST:PORT,...", "none: a single member",
                    "the cluster's member addresses; this node's own may be among them"),
            new Option("--member-host", "SLUICE_MEMBER_HOST", "ADDRESS", "127.0.0.1 alone, else chosen by Hazelcast",
                    "address this member binds to and gives other members"),
            new Option("--kubernetes-service-dns", "SLUICE_KUBERNETES_SERVICE_DNS", "NAME", "none",
                    "find members by DNS lookup of this headless service (Kubernetes)"),
            new Option("--kubernetes-service-name", "SLUICE_KUBERNETES_SERVICE_NAME", "NAME", "none",
                    "find members through the Kubernetes API: this service's endpoints"),
            new Option("--kubernetes-namespace", "SLUICE_KUBERNETES_NAMESPACE", "NAME", "the pod's own",
                    "namespace for Kubernetes API discovery"),
            new Option("--min-cluster-size", "SLUICE_MIN_CLUSTER_SIZE", "N", "1",
                    "below this many members, refuse to decide (UNAVAILABLE) instead of deciding alone"),
            new Option("--kubernetes-api-url", "SLUICE_KUBERNETES_API_URL", "URL", "the in-cluster API",
                    "Kubernetes API for API discovery (for members outside the cluster)"),
            new Option("--policy-reload-interval", "SLUICE_POLICY_RELOAD_INTERVAL", "DURATION", "5s",
                    "how often the policy file is checked for changes; 0 turns reloading off"),
            new Option("--drain-delay", "SLUICE_DRAIN_DELAY", "DURATION", "0s",
                    "on SIGTERM, keep serving this long after turning NOT_SERVING, so traffic moves away first"),
            new Option("--cluster-name", "SLUICE_CLUSTER_NAME", "NAME", "sluice", "members join only a cluster of the same name"),
            new Option("--max-in-flight", "SLUICE_MAX_IN_FLIGHT", "N", "10000",
                    "decisions outstanding before new calls fail fast with UNAVAILABLE"),
            new Option("--shutdown-grace", "SLUICE_SHUTDOWN_GRACE", "DURATION", "10s",
                    "on SIGTERM, how long calls in flight may take to finish"),
            new Option("--request-memory", "SLUICE_REQUEST_MEMORY", "DURATION", "10s",
                    "how long a bucket remembers a request id, so a retry within it is not counted twice"),
            new Option("--log-level", "SLUICE_LOG_LEVEL", "LEVEL", "info", "error, warn, info or debug"));

    private Options() {
    }

    /** What the command line asks for. */
    record Parsed(NodeSettings settings, String logLevel, boolean help, boolean version) {
    }

    static Parsed parse(String[] args, Map<String, String> env) throws SettingsException {
        Map<String, String> given = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();
        for (Option o : ALL) {
            String v = env.get(o.env());
            if (v != null && !v.isEmpty()) {
                given.put(o.flag(), v);
                origin.put(o.flag(), o.env());
            }
        }
        boolean help = false;
        boolean version = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                help = true;
                continue;
            }
            if (a.equals("--version")) {
                version = true;
                continue;
            }
            String flag = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                flag = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            Option option = find(flag);
            if (option == null) {
                throw new SettingsException(a.startsWith("-") ? "unknown option " + flag + "; see --help"
                        : "unexpected argument '" + a + "'; options take the form --name value, see --help");
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new SettingsException(flag + ": needs a value (" + option.valueName() + ")");
                }
                value = args[++i];
            }
            given.put(flag, value);
            origin.put(flag, flag);
        }
        if (help || version) {
            return new Parsed(null, "info", help, version);
        }
        NodeSettings.Builder b = NodeSettings.builder();
        String logLevel = "info";
        for (Map.Entry<String, String> e : given.entrySet()) {
            String name = origin.get(e.getKey());
            String v = e.getValue().trim();
            switch (e.getKey()) {
                case "--port" -> b.port(port(name, v));
                case "--host" -> b.host(nonEmpty(name, v));
                case "--policies" -> b.policiesFile(policyFile(name, v));
                case "--member-port" -> b.memberPort(port(name, v));
                case "--members" -> b.members(members(name, v));
                case "--member-host" -> b.memberHost(nonEmpty(name, v));
                case "--cluster-name" -> b.clusterName(nonEmpty(name, v));
                case "--kubernetes-service-dns" -> b.kubernetesServiceDns(nonEmpty(name, v));
                case "--kubernetes-service-name" -> b.kubernetesServiceName(nonEmpty(name, v));
                case "--kubernetes-namespace" -> b.kubernetesNamespace(nonEmpty(name, v));
                case "--min-cluster-size" -> b.minClusterSize(positiveInt(name, v));
                case "--kubernetes-api-url" -> b.kubernetesApiUrl(nonEmpty(name, v));
                case "--policy-reload-interval" -> b.policyReloadInterval(duration(name, v));
                case "--drain-delay" -> b.drainDelay(duration(name, v));
                case "--max-in-flight" -> b.maxInFlight(positiveInt(name, v));
                case "--shutdown-grace" -> b.shutdownGrace(duration(name, v));
                case "--request-memory" -> b.requestMemory(positiveDuration(name, v));
                case "--log-level" -> logLevel = logLevel(name, v);
                default -> throw new IllegalStateException(e.getKey());
            }
        }
        try {
            return new Parsed(b.build(), logLevel, false, false);
        } catch (IllegalArgumentException e) {
            throw new SettingsException(e.getMessage());
        }
    }

    static String usage() {
        StringBuilder b = new StringBuilder();
        b.append("Usage: java -jar sluice-server.jar [options]\n\n");
        b.append("Starts a Sluice node: a gRPC RateLimiter service over an embedded Hazelcast member.\n");
        b.append("With no options: a single member on port 8081 serving the bundled demo policy\n");
        b.append("(domain \"demo\", 10 requests per second per \"ip\" descriptor).\n\n");
        b.append("Options (each may instead be set by its environment variable; the option wins):\n");
        for (Option o : ALL) {
            b.append(String.format(Locale.ROOT, "  %-32s %s%n", o.flag() + " " + o.valueName(), o.help()));
            b.append(String.format(Locale.ROOT, "  %-32s env %s, default: %s%n", "", o.env(), o.defaultText()));
        }
        b.append(String.format(Locale.ROOT, "  %-32s %s%n", "--help", "print this help and exit"));
        b.append(String.format(Locale.ROOT, "  %-32s %s%n", "--version", "print the version and exit"));
        return b.toString();
    }

    private static Option find(String flag) {
        for (Option o : ALL) {
            if (o.flag().equals(flag)) {
                return o;
            }
        }
        return null;
    }

    private static int port(String name, String v) throws SettingsException {
        try {
            int p = Integer.parseInt(v);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new SettingsException(name + ": '" + v + "' is not a port number (1-65535)");
    }

    private static int positiveInt(String name, String v) throws SettingsException {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new SettingsException(name + ": '" + v + "' is not a positive whole number");
    }

    private static String nonEmpty(String name, String v) throws SettingsException {
        if (v.isEmpty()) {
            throw new SettingsException(name + ": must not be empty");
        }
        return v;
    }

    private static Path policyFile(String name, String v) throws SettingsException {
        Path p = Path.of(nonEmpty(name, v));
        if (!Files.isRegularFile(p)) {
            throw new SettingsException(name + ": no policy file at '" + v + "'");
        }
        if (!Files.isReadable(p)) {
            throw new SettingsException(name + ": policy file '" + v + "' is not readable");
        }
        return p;
    }

    private static List<String> members(String name, String v) throws SettingsException {
        List<String> members = new ArrayList<>();
        for (String m : v.split(",")) {
            String member = m.trim();
            if (member.isEmpty()) {
                continue;
            }
            int colon = member.lastIndexOf(':');
            if (colon <= 0 || colon == member.length() - 1) {
                throw new SettingsException(name + ": '" + member + "' is not host:port");
            }
            port(name + " (" + member + ")", member.substring(colon + 1));
            members.add(member);
        }
        if (members.isEmpty()) {
            throw new SettingsException(name + ": no member addresses in '" + v + "'");
        }
        return members;
    }

    private static Duration duration(String name, String v) throws SettingsException {
        try {
            if (v.equals("0")) {
                return Duration.ZERO;
            }
            if (v.matches("\\d+s")) {
                return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
            }
            if (v.matches("\\d+ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            return Duration.parse(v);
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new SettingsException(name + ": '" + v + "' is not a duration (e.g. 10s, 500ms)");
        }
    }

    private static Duration positiveDuration(String name, String v) throws SettingsException {
        Duration d = duration(name, v);
        if (d.isNegative() || d.isZero()) {
            throw new SettingsException(name + ": '" + v + "' must be longer than zero");
        }
        return d;
    }

    private static String logLevel(String name, String v) throws SettingsException {
        String l = v.toLowerCase(Locale.ROOT);
        if (List.of("error", "warn", "info", "debug").contains(l)) {
            return l;
        }
        throw new SettingsException(name + ": '" + v + "' is not a log level (error, warn, info, debug)");
    }
}
