package dev.sluice.server.envoy;

import java.util.Map;
import java.util.Set;

/** Every domain of a set of envoyproxy/ratelimit configuration files, loaded and validated together. */
public final class EnvoyConfig {

    private final Map<String, EnvoyDomain> domains;
    private final String source;
    private final String version;

    EnvoyConfig(Map<String, EnvoyDomain> domains, String source, String version) {
        this.domains = Map.copyOf(domains);
        this.source = source;
        this.version = version;
    }

    /** The domain of that name, or {@code null}. */
    public EnvoyDomain domain(String name) {
        return domains.get(name);
    }

    public Set<String> domainNames() {
        return domains.keySet();
    }

    /** The files it came from: a file, or a directory. */
    public String source() {
        return source;
    }

    /** A short hash of the files' contents. */
    public String version() {
        return version;
    }
}
