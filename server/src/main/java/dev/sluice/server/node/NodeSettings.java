package dev.sluice.server.node;

import dev.sluice.server.policy.Policies;
import dev.sluice.server.time.Clock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a node needs to start, immutable: a value for every {@link Setting} of
 * {@link Settings#ALL}. Built from flags and environment variables by {@link CommandLineSettings},
 * or directly by tests and embedders with {@link #builder()}; either way each value is checked
 * once, as it is set, by its setting's own check, and the combination when built.
 */
public final class NodeSettings {

    private final Map<Setting<?>, Object> values;

    private NodeSettings(Map<Setting<?>, Object> values) {
        this.values = values;
    }

    public static Builder builder() {
        return new Builder(new IdentityHashMap<>());
    }

    /**
     * Settings from environment variables alone, exactly as {@code java -jar sluice-server.jar}
     * would read them; a bad value is a {@link SettingsException} naming the variable.
     */
    public static NodeSettings fromEnvironment(Map<String, String> env) throws SettingsException {
        return CommandLineSettings.parse(new String[0], env).settings();
    }

    /** Every environment variable a node reads, e.g. {@code SLUICE_PORT}. */
    public static List<String> environmentVariables() {
        return Settings.commandLine().stream().map(Setting::env).toList();
    }

    /** The value of {@code setting}: as set, or its default. */
    @SuppressWarnings("unchecked")
    public <T> T get(Setting<T> setting) {
        return values.containsKey(setting) ? (T) values.get(setting) : setting.defaultValue();
    }

    /** Address the gRPC server binds to. */
    public String host() {
        return get(Settings.HOST);
    }

    /** gRPC port; 0 picks a free one. */
    public int port() {
        return get(Settings.PORT);
    }

    /** Address the Hazelcast member binds to and tells other members; {@code null} lets Hazelcast choose. */
    public String memberHost() {
        return get(Settings.MEMBER_HOST);
    }

    public int memberPort() {
        return get(Settings.MEMBER_PORT);
    }

    /** The cluster's member addresses ({@code host:port}); empty for a single member. */
    public List<String> members() {
        return get(Settings.MEMBERS).addresses();
    }

    public String clusterName() {
        return get(Settings.CLUSTER_NAME);
    }

    /** The file holding the secret the members share, or {@code null} (allowed only when every member address is loopback). */
    public Path clusterSecretFile() {
        return get(Settings.CLUSTER_SECRET_FILE);
    }

    /** PEM certificate chain of the gRPC port, or {@code null} for plaintext. */
    public Path tlsCert() {
        return get(Settings.TLS_CERT);
    }

    public Path tlsKey() {
        return get(Settings.TLS_KEY);
    }

    /** CA certificates callers' certificates must chain to (mutual TLS), or {@code null}. */
    public Path tlsClientCa() {
        return get(Settings.TLS_CLIENT_CA);
    }

    /** The hashed bearer tokens callers may present, or {@code null}. */
    public Path callerTokens() {
        return get(Settings.CALLER_TOKENS);
    }

    /** How often certificates, keys and tokens are looked at again; zero: never. */
    public Duration credentialsReloadInterval() {
        return get(Settings.CREDENTIALS_RELOAD_INTERVAL);
    }

    /** A plaintext port serving health alone, or 0. */
    public int healthPort() {
        return get(Settings.HEALTH_PORT);
    }

    /** The policy file, or {@code null} for {@link #policies()} or the bundled demo. */
    public Path policiesFile() {
        return get(Settings.POLICIES);
    }

    /** Policies given directly (tests, embedders), or {@code null}. */
    public Policies policies() {
        return get(Settings.POLICY_SET);
    }

    public int maxInFlight() {
        return get(Settings.MAX_IN_FLIGHT);
    }

    /** Bytes of heap a bucket entry is counted at when the budget comes from the heap. */
    static final long BYTES_PER_ENTRY = 200;

    /**
     * Bucket entries (owned and backups) this member may hold: as set, or, when {@code --max-buckets}
     * is 0, 40% of the heap at {@link #BYTES_PER_ENTRY} an entry.
     */
    public long maxBuckets() {
        long set = get(Settings.MAX_BUCKETS);
        return set != 0 ? set : Math.max(1, Runtime.getRuntime().maxMemory() * 2 / 5 / BYTES_PER_ENTRY);
    }

    /** The largest gRPC message read, in bytes; a larger one is refused with RESOURCE_EXHAUSTED. */
    public int maxMessageSize() {
        return get(Settings.MAX_MESSAGE_SIZE);
    }

    public Duration shutdownGrace() {
        return get(Settings.SHUTDOWN_GRACE);
    }

    public Clock clock() {
        return get(Settings.CLOCK);
    }

    /** How long past its resting time a bucket is kept before it may be removed. */
    public Duration expiryGrace() {
        return get(Settings.EXPIRY_GRACE);
    }

    /** How long a bucket remembers a request id, so a retry within it is not applied twice. */
    public Duration requestMemory() {
        return get(Settings.REQUEST_MEMORY);
    }

    /** How often each member removes, from the partitions it owns, the buckets past their resting time and the grace. */
    public Duration sweepInterval() {
        return get(Settings.SWEEP_INTERVAL);
    }

    public Duration heartbeatInterval() {
        return get(Settings.HEARTBEAT_INTERVAL);
    }

    public Duration memberTimeout() {
        return get(Settings.MEMBER_TIMEOUT);
    }

    public Duration mergeInterval() {
        return get(Settings.MERGE_INTERVAL);
    }

    public int partitionCount() {
        return get(Settings.PARTITION_COUNT);
    }

    /** Whether the store may use Hazelcast's internal invocation API; false keeps to its public API. */
    public boolean hazelcastInternals() {
        return get(Settings.HAZELCAST_INTERNALS);
    }

    /** Whether this member counts decided buckets for TopKeys. */
    public boolean topKeys() {
        return get(Settings.TOP_KEYS);
    }

    /** Headless service whose DNS records list the members (Kubernetes DNS discovery), or {@code null}. */
    public String kubernetesServiceDns() {
        return get(Settings.KUBERNETES_SERVICE_DNS);
    }

    /** Service whose endpoints the Kubernetes API lists as members (API discovery), or {@code null}. */
    public String kubernetesServiceName() {
        return get(Settings.KUBERNETES_SERVICE_NAME);
    }

    /** Namespace for Kubernetes API discovery; {@code null} for the pod's own. */
    public String kubernetesNamespace() {
        return get(Settings.KUBERNETES_NAMESPACE);
    }

    /** Below this many members, a member refuses to decide rather than decide alone (1: never). */
    public int minClusterSize() {
        return get(Settings.MIN_CLUSTER_SIZE);
    }

    /** Whether members are found through Kubernetes (DNS or API) rather than a static list. */
    public boolean kubernetesDiscovery() {
        return kubernetesServiceDns() != null || kubernetesServiceName() != null;
    }

    /** How often the policy file is checked for new content; zero turns reloading off. */
    public Duration policyReloadInterval() {
        return get(Settings.POLICY_RELOAD_INTERVAL);
    }

    /** On SIGTERM, how long the node keeps serving after reporting NOT_SERVING, so load balancers stop sending it calls first. */
    public Duration drainDelay() {
        return get(Settings.DRAIN_DELAY);
    }

    /** The Kubernetes API for API discovery, or {@code null} for the in-cluster default. */
    public String kubernetesApiUrl() {
        return get(Settings.KUBERNETES_API_URL);
    }

    /** A bearer token for the Kubernetes API, or {@code null} for the pod's service-account token. */
    public String kubernetesApiToken() {
        return get(Settings.KUBERNETES_API_TOKEN);
    }

    /** The Kubernetes API's CA certificate (PEM), or {@code null} for the pod's service-account CA. */
    public String kubernetesCaCertificate() {
        return get(Settings.KUBERNETES_CA_CERTIFICATE);
    }

    /** error, warn, info or debug. */
    public String logLevel() {
        return get(Settings.LOG_LEVEL);
    }

    /** The envoyproxy/ratelimit configuration (a file or a directory), or {@code null} for no Envoy API. */
    public Path envoyConfig() {
        return get(Settings.ENVOY_CONFIG);
    }

    public boolean envoyResponseHeaders() {
        return get(Settings.ENVOY_RESPONSE_HEADERS);
    }

    /** The three header names of {@code --envoy-response-headers}: limit, remaining, reset. */
    public java.util.List<String> envoyHeaderNames() {
        return java.util.List.of(get(Settings.ENVOY_HEADER_NAMES).split(","));
    }

    public boolean envoyShadowMode() {
        return get(Settings.ENVOY_SHADOW_MODE);
    }

    /** The metrics port, or 0 for none. */
    public int metricsPort() {
        return get(Settings.METRICS_PORT);
    }

    /** The fraction of a limit below which an allowed decision counts as near-limit. */
    public double nearLimit() {
        return get(Settings.NEAR_LIMIT);
    }

    /** The OTLP/HTTP collector's URL, or {@code null} for no traces. */
    public String otlpEndpoint() {
        return get(Settings.OTLP_ENDPOINT);
    }

    /** Where spans go instead of OTLP, or {@code null}. */
    public io.opentelemetry.sdk.trace.export.SpanExporter spanExporter() {
        return get(Settings.SPAN_EXPORTER);
    }

    public String logFormat() {
        return get(Settings.LOG_FORMAT);
    }

    /** Decisions made on a private domain before health reports SERVING. */
    public int warmUp() {
        return get(Settings.WARM_UP);
    }

    public Builder toBuilder() {
        return new Builder(new IdentityHashMap<>(values));
    }

    /**
     * Builds {@link NodeSettings}; defaults are those of a node started with no flags. Every
     * value is checked as it is set, and refused with an {@link IllegalArgumentException} naming
     * its option.
     */
    public static final class Builder {
        private final Map<Setting<?>, Object> values;

        private Builder(Map<Setting<?>, Object> values) {
            this.values = values;
        }

        /** Sets {@code setting} to {@code value} ({@code null}: back to its default, where it has none). */
        public <T> Builder set(Setting<T> setting, T value) {
            values.put(setting, setting.checked(value));
            return this;
        }

        public Builder host(String host) {
            return set(Settings.HOST, host);
        }

        public Builder port(int port) {
            return set(Settings.PORT, port);
        }

        public Builder memberHost(String memberHost) {
            return set(Settings.MEMBER_HOST, memberHost);
        }

        public Builder memberPort(int memberPort) {
            return set(Settings.MEMBER_PORT, memberPort);
        }

        public Builder members(List<String> members) {
            return set(Settings.MEMBERS, new Settings.MemberList(members));
        }

        public Builder clusterName(String clusterName) {
            return set(Settings.CLUSTER_NAME, clusterName);
        }

        public Builder clusterSecretFile(Path file) {
            return set(Settings.CLUSTER_SECRET_FILE, file);
        }

        public Builder tls(Path cert, Path key) {
            return set(Settings.TLS_CERT, cert).set(Settings.TLS_KEY, key);
        }

        public Builder tlsClientCa(Path ca) {
            return set(Settings.TLS_CLIENT_CA, ca);
        }

        public Builder callerTokens(Path file) {
            return set(Settings.CALLER_TOKENS, file);
        }

        public Builder credentialsReloadInterval(Duration interval) {
            return set(Settings.CREDENTIALS_RELOAD_INTERVAL, interval);
        }

        public Builder healthPort(int port) {
            return set(Settings.HEALTH_PORT, port);
        }

        public Builder policiesFile(Path policiesFile) {
            return set(Settings.POLICIES, policiesFile);
        }

        public Builder policies(Policies policies) {
            return set(Settings.POLICY_SET, policies);
        }

        public Builder maxInFlight(int maxInFlight) {
            return set(Settings.MAX_IN_FLIGHT, maxInFlight);
        }

        public Builder maxBuckets(long entries) {
            return set(Settings.MAX_BUCKETS, entries);
        }

        public Builder maxMessageSize(int bytes) {
            return set(Settings.MAX_MESSAGE_SIZE, bytes);
        }

        public Builder shutdownGrace(Duration shutdownGrace) {
            return set(Settings.SHUTDOWN_GRACE, shutdownGrace);
        }

        public Builder clock(Clock clock) {
            return set(Settings.CLOCK, clock);
        }

        public Builder expiryGrace(Duration expiryGrace) {
            return set(Settings.EXPIRY_GRACE, expiryGrace);
        }

        public Builder requestMemory(Duration requestMemory) {
            return set(Settings.REQUEST_MEMORY, requestMemory);
        }

        public Builder sweepInterval(Duration sweepInterval) {
            return set(Settings.SWEEP_INTERVAL, sweepInterval);
        }

        public Builder heartbeatInterval(Duration interval) {
            return set(Settings.HEARTBEAT_INTERVAL, interval);
        }

        public Builder memberTimeout(Duration timeout) {
            return set(Settings.MEMBER_TIMEOUT, timeout);
        }

        public Builder mergeInterval(Duration interval) {
            return set(Settings.MERGE_INTERVAL, interval);
        }

        public Builder partitionCount(int partitionCount) {
            return set(Settings.PARTITION_COUNT, partitionCount);
        }

        public Builder topKeys(boolean on) {
            return set(Settings.TOP_KEYS, on);
        }

        public Builder hazelcastInternals(boolean on) {
            return set(Settings.HAZELCAST_INTERNALS, on);
        }

        public Builder kubernetesServiceDns(String kubernetesServiceDns) {
            return set(Settings.KUBERNETES_SERVICE_DNS, kubernetesServiceDns);
        }

        public Builder kubernetesServiceName(String kubernetesServiceName) {
            return set(Settings.KUBERNETES_SERVICE_NAME, kubernetesServiceName);
        }

        public Builder kubernetesNamespace(String kubernetesNamespace) {
            return set(Settings.KUBERNETES_NAMESPACE, kubernetesNamespace);
        }

        public Builder minClusterSize(int minClusterSize) {
            return set(Settings.MIN_CLUSTER_SIZE, minClusterSize);
        }

        public Builder policyReloadInterval(Duration policyReloadInterval) {
            return set(Settings.POLICY_RELOAD_INTERVAL, policyReloadInterval);
        }

        public Builder drainDelay(Duration drainDelay) {
            return set(Settings.DRAIN_DELAY, drainDelay);
        }

        public Builder kubernetesApiUrl(String kubernetesApiUrl) {
            return set(Settings.KUBERNETES_API_URL, kubernetesApiUrl);
        }

        public Builder kubernetesApiToken(String kubernetesApiToken) {
            return set(Settings.KUBERNETES_API_TOKEN, kubernetesApiToken);
        }

        public Builder kubernetesCaCertificate(String kubernetesCaCertificate) {
            return set(Settings.KUBERNETES_CA_CERTIFICATE, kubernetesCaCertificate);
        }

        public Builder logLevel(String logLevel) {
            return set(Settings.LOG_LEVEL, logLevel);
        }

        public Builder logFormat(String format) {
            return set(Settings.LOG_FORMAT, format);
        }

        public Builder envoyConfig(Path path) {
            return set(Settings.ENVOY_CONFIG, path);
        }

        public Builder envoyResponseHeaders(boolean on) {
            return set(Settings.ENVOY_RESPONSE_HEADERS, on);
        }

        public Builder envoyHeaderNames(String limitRemainingReset) {
            return set(Settings.ENVOY_HEADER_NAMES, limitRemainingReset);
        }

        public Builder envoyShadowMode(boolean on) {
            return set(Settings.ENVOY_SHADOW_MODE, on);
        }

        public Builder metricsPort(int port) {
            return set(Settings.METRICS_PORT, port);
        }

        public Builder nearLimit(double fraction) {
            return set(Settings.NEAR_LIMIT, fraction);
        }

        public Builder otlpEndpoint(String url) {
            return set(Settings.OTLP_ENDPOINT, url);
        }

        public Builder spanExporter(io.opentelemetry.sdk.trace.export.SpanExporter exporter) {
            return set(Settings.SPAN_EXPORTER, exporter);
        }

        public Builder warmUp(int decisions) {
            return set(Settings.WARM_UP, decisions);
        }

        /** The settings; {@link IllegalArgumentException} when two of them exclude each other. */
        public NodeSettings build() {
            NodeSettings s = new NodeSettings(new IdentityHashMap<>(values));
            if (s.kubernetesServiceDns() != null && s.kubernetesServiceName() != null) {
                throw new IllegalArgumentException("Kubernetes discovery is by DNS or by the API, not both");
            }
            if (s.kubernetesDiscovery() && !s.members().isEmpty()) {
                throw new IllegalArgumentException("a static member list and Kubernetes discovery exclude each other");
            }
            if (s.memberTimeout().compareTo(s.heartbeatInterval()) <= 0) {
                throw new IllegalArgumentException("--member-timeout (" + s.memberTimeout().toSeconds() + "s) must be longer than"
                        + " --heartbeat-interval (" + s.heartbeatInterval().toSeconds() + "s): a member would be taken for gone between"
                        + " two heartbeats");
            }
            if ((s.tlsCert() == null) != (s.tlsKey() == null)) {
                throw new IllegalArgumentException("--tls-cert and --tls-key go together: give both, or neither for plaintext");
            }
            if (s.tlsClientCa() != null && s.tlsCert() == null) {
                throw new IllegalArgumentException("--tls-client-ca asks callers for certificates over TLS: give --tls-cert and --tls-key too");
            }
            if (s.clusterSecretFile() == null && ClusterSecret.needed(s.memberHost(), s.members(), s.kubernetesDiscovery())) {
                throw new IllegalArgumentException("the member port is reachable from other hosts, and any Hazelcast member or client"
                        + " that knows the cluster name could join and reset every limit: give --cluster-secret-file; "
                        + ClusterSecret.HOW_TO_MAKE_ONE);
            }
            return s;
        }
    }
}
