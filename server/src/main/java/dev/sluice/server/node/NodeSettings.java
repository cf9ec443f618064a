package dev.sluice.server.node;

import dev.sluice.server.policy.Policies;
import dev.sluice.server.store.StoreContext;
import dev.sluice.server.time.Clock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything a node needs to start, immutable. Built from flags and environment variables by
 * {@link Options}, or directly by tests and embedders with {@link #builder()}.
 */
public final class NodeSettings {

    private final String host;
    private final int port;
    private final String memberHost;
    private final int memberPort;
    private final List<String> members;
    private final String clusterName;
    private final Path policiesFile;
    private final Policies policies;
    private final int maxInFlight;
    private final Duration shutdownGrace;
    private final Clock clock;
    private final Duration expiryGrace;
    private final Duration requestMemory;
    private final Duration sweepInterval;
    private final int partitionCount;
    private final String kubernetesCaCertificate;
    private final String kubernetesApiToken;
    private final String kubernetesApiUrl;
    private final Duration drainDelay;
    private final Duration policyReloadInterval;
    private final int minClusterSize;
    private final String kubernetesNamespace;
    private final String kubernetesServiceName;
    private final String kubernetesServiceDns;

    private NodeSettings(Builder b) {
        this.host = b.host;
        this.port = b.port;
        this.memberHost = b.memberHost;
        this.memberPort = b.memberPort;
        this.members = List.copyOf(b.members);
        this.clusterName = b.clusterName;
        this.policiesFile = b.policiesFile;
        this.policies = b.policies;
        this.maxInFlight = b.maxInFlight;
        this.shutdownGrace = b.shutdownGrace;
        this.clock = b.clock;
        this.expiryGrace = b.expiryGrace;
        this.requestMemory = b.requestMemory;
        this.sweepInterval = b.sweepInterval;
        this.partitionCount = b.partitionCount;
        this.kubernetesCaCertificate = b.kubernetesCaCertificate;
        this.kubernetesApiToken = b.kubernetesApiToken;
        this.kubernetesApiUrl = b.kubernetesApiUrl;
        this.drainDelay = b.drainDelay;
        this.policyReloadInterval = b.policyReloadInterval;
        this.minClusterSize = b.minClusterSize;
        this.kubernetesNamespace = b.kubernetesNamespace;
        this.kubernetesServiceName = b.kubernetesServiceName;
        this.kubernetesServiceDns = b.kubernetesServiceDns;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Settings from environment variables alone, exactly as {@code java -jar sluice-server.jar}
     * would read them; a bad value is a {@link SettingsException} naming the variable.
     */
    public static NodeSettings fromEnvironment(java.util.Map<String, String> env) throws SettingsException {
        return Options.parse(new String[0], env).settings();
    }

    /** Every environment variable a node reads, e.g. {@code SLUICE_PORT}. */
    public static java.util.List<String> environmentVariables() {
        return Options.ALL.stream().map(Options.Option::env).toList();
    }

    /** Address the gRPC server binds to. */
    public String host() {
        return host;
    }

    /** gRPC port; 0 picks a free one. */
    public int port() {
        return port;
    }

    /** Address the Hazelcast member binds to and tells other members; {@code null} lets Hazelcast choose. */
    public String memberHost() {
        return memberHost;
    }

    public int memberPort() {
        return memberPort;
    }

    /** The cluster's member addresses ({@code host:port}); empty for a single member. */
    public List<String> members() {
        return members;
    }

    public String clusterName() {
        return clusterName;
    }

    /** The policy file, or {@code null} for {@link #policies()} or the bundled demo. */
    public Path policiesFile() {
        return policiesFile;
    }

    /** Policies given directly (tests, embedders), or {@code null}. */
    public Policies policies() {
        return policies;
    }

    public int maxInFlight() {
        return maxInFlight;
    }

    public Duration shutdownGrace() {
        return shutdownGrace;
    }

    public Clock clock() {
        return clock;
    }

    public Duration expiryGrace() {
        return expiryGrace;
    }

    /** How long a bucket remembers a request id, so a retry within it is not applied twice. */
    public Duration requestMemory() {
        return requestMemory;
    }

    /** How often each member removes, from the partitions it owns, the buckets past their resting time and the grace. */
    public Duration sweepInterval() {
        return sweepInterval;
    }

    public int partitionCount() {
        return partitionCount;
    }

    /** Headless service whose DNS records list the members (Kubernetes DNS discovery), or {@code null}. */
    public String kubernetesServiceDns() {
        return kubernetesServiceDns;
    }

    /** Service whose endpoints the Kubernetes API lists as members (API discovery), or {@code null}. */
    public String kubernetesServiceName() {
        return kubernetesServiceName;
    }

    /** Namespace for Kubernetes API discovery; {@code null} for the pod's own. */
    public String kubernetesNamespace() {
        return kubernetesNamespace;
    }

    /** Below this many members, a member refuses to decide rather than decide alone (1: never). */
    public int minClusterSize() {
        return minClusterSize;
    }

    /** Whether members are found through Kubernetes (DNS or API) rather than a static list. */
    public boolean kubernetesDiscovery() {
        return kubernetesServiceDns != null || kubernetesServiceName != null;
    }

    /** How often the policy file is checked for new content; zero turns reloading off. */
    public Duration policyReloadInterval() {
        return policyReloadInterval;
    }

    /** On SIGTERM, how long the node keeps serving after reporting NOT_SERVING, so load balancers stop sending it calls first. */
    public Duration drainDelay() {
        return drainDelay;
    }

    /** The Kubernetes API for API discovery, or {@code null} for the in-cluster default. */
    public String kubernetesApiUrl() {
        return kubernetesApiUrl;
    }

    /** A bearer token for the Kubernetes API, or {@code null} for the pod's service-account token. */
    public String kubernetesApiToken() {
        return kubernetesApiToken;
    }

    /** The Kubernetes API's CA certificate (PEM), or {@code null} for the pod's service-account CA. */
    public String kubernetesCaCertificate() {
        return kubernetesCaCertificate;
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.port = port;
        b.memberHost = memberHost;
        b.memberPort = memberPort;
        b.members = members;
        b.clusterName = clusterName;
        b.policiesFile = policiesFile;
        b.policies = policies;
        b.maxInFlight = maxInFlight;
        b.shutdownGrace = shutdownGrace;
        b.clock = clock;
        b.expiryGrace = expiryGrace;
        b.requestMemory = requestMemory;
        b.sweepInterval = sweepInterval;
        b.partitionCount = partitionCount;
        b.kubernetesCaCertificate = kubernetesCaCertificate;
        b.kubernetesApiToken = kubernetesApiToken;
        b.kubernetesApiUrl = kubernetesApiUrl;
        b.drainDelay = drainDelay;
        b.policyReloadInterval = policyReloadInterval;
        b.minClusterSize = minClusterSize;
        b.kubernetesNamespace = kubernetesNamespace;
        b.kubernetesServiceName = kubernetesServiceName;
        b.kubernetesServiceDns = kubernetesServiceDns;
        return b;
    }

    /** Builds {@link NodeSettings}; defaults are those of a node started with no flags. */
    public static final class Builder {
        private String host = "0.0.0.0";
        private int port = 8081;
        private String memberHost;
        private int memberPort = 5701;
        private List<String> members = List.of();
        private String clusterName = "sluice";
        private Path policiesFile;
        private Policies policies;
        private int maxInFlight = 10_000;
        private Duration shutdownGrace = Duration.ofSeconds(10);
        private Clock clock = Clock.system();
        private Duration expiryGrace = Duration.ofSeconds(5);
        private Duration requestMemory = Duration.ofSeconds(10);
        private Duration sweepInterval = StoreContext.DEFAULT_SWEEP_INTERVAL;
        private int partitionCount = 71;
        private String kubernetesCaCertificate;
        private String kubernetesApiToken;
        private String kubernetesApiUrl;
        private Duration drainDelay = Duration.ZERO;
        private Duration policyReloadInterval = Duration.ofSeconds(5);
        private int minClusterSize = 1;
        private String kubernetesNamespace;
        private String kubernetesServiceName;
        private String kubernetesServiceDns;

        private Builder() {
        }

        public Builder host(String host) {
            this.host = Objects.requireNonNull(host);
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder memberHost(String memberHost) {
            this.memberHost = memberHost;
            return this;
        }

        public Builder memberPort(int memberPort) {
            this.memberPort = memberPort;
            return this;
        }

        public Builder members(List<String> members) {
            this.members = List.copyOf(members);
            return this;
        }

        public Builder clusterName(String clusterName) {
            this.clusterName = Objects.requireNonNull(clusterName);
            return this;
        }

        public Builder policiesFile(Path policiesFile) {
            this.policiesFile = policiesFile;
            return this;
        }

        public Builder policies(Policies policies) {
            this.policies = policies;
            return this;
        }

        public Builder maxInFlight(int maxInFlight) {
            this.maxInFlight = maxInFlight;
            return this;
        }

        public Builder shutdownGrace(Duration shutdownGrace) {
            this.shutdownGrace = Objects.requireNonNull(shutdownGrace);
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        public Builder expiryGrace(Duration expiryGrace) {
            this.expiryGrace = Objects.requireNonNull(expiryGrace);
            return this;
        }

        public Builder requestMemory(Duration requestMemory) {
            this.requestMemory = Objects.requireNonNull(requestMemory);
            return this;
        }

        public Builder sweepInterval(Duration sweepInterval) {
            this.sweepInterval = Objects.requireNonNull(sweepInterval);
            return this;
        }

        public Builder partitionCount(int partitionCount) {
            this.partitionCount = partitionCount;
            return this;
        }

        public Builder kubernetesServiceDns(String kubernetesServiceDns) {
            this.kubernetesServiceDns = kubernetesServiceDns;
            return this;
        }

        public Builder kubernetesServiceName(String kubernetesServiceName) {
            this.kubernetesServiceName = kubernetesServiceName;
            return this;
        }

        public Builder kubernetesNamespace(String kubernetesNamespace) {
            this.kubernetesNamespace = kubernetesNamespace;
            return this;
        }

        public Builder minClusterSize(int minClusterSize) {
            this.minClusterSize = minClusterSize;
            return this;
        }

        public Builder policyReloadInterval(Duration policyReloadInterval) {
            this.policyReloadInterval = Objects.requireNonNull(policyReloadInterval);
            return this;
        }

        public Builder drainDelay(Duration drainDelay) {
            this.drainDelay = Objects.requireNonNull(drainDelay);
            return this;
        }

        public Builder kubernetesApiUrl(String kubernetesApiUrl) {
            this.kubernetesApiUrl = kubernetesApiUrl;
            return this;
        }

        public Builder kubernetesApiToken(String kubernetesApiToken) {
            this.kubernetesApiToken = kubernetesApiToken;
            return this;
        }

        public Builder kubernetesCaCertificate(String kubernetesCaCertificate) {
            this.kubernetesCaCertificate = kubernetesCaCertificate;
            return this;
        }

        public NodeSettings build() {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0 to 65535, got " + port);
            }
            if (memberPort < 1 || memberPort > 65535) {
                throw new IllegalArgumentException("member port must be 1 to 65535, got " + memberPort);
            }
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("max in flight must be positive, got " + maxInFlight);
            }
            if (minClusterSize < 1) {
                throw new IllegalArgumentException("minimum cluster size must be positive, got " + minClusterSize);
            }
            if (kubernetesServiceDns != null && kubernetesServiceName != null) {
                throw new IllegalArgumentException("Kubernetes discovery is by DNS or by the API, not both");
            }
            if ((kubernetesServiceDns != null || kubernetesServiceName != null) && !members.isEmpty()) {
                throw new IllegalArgumentException("a static member list and Kubernetes discovery exclude each other");
            }
            if (partitionCount < 1) {
                throw new IllegalArgumentException("partition count must be positive, got " + partitionCount);
            }
            return new NodeSettings(this);
        }
    }
}
