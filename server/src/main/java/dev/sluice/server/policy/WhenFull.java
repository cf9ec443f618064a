package dev.sluice.server.policy;

/**
 * A domain's answer to a request that would create a bucket while the member owning it holds all
 * the buckets it may ({@code when_full:}); the buckets it holds keep deciding.
 */
public enum WhenFull {
    /** RESOURCE_EXHAUSTED: the caller's failure mode decides. The default. */
    REFUSE("refuse"),
    /** Denied, as if over its limit. */
    DENY("deny"),
    /** Allowed without a bucket: not counted. */
    ALLOW("allow");

    private final String configName;

    WhenFull(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }
}
