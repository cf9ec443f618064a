package dev.sluice.server.policy;

/** Which family of rate-limit HTTP headers a response carries. */
public enum HeaderStyle {
    /** IETF httpapi draft: {@code RateLimit-Policy} and {@code RateLimit} structured fields. The default. */
    IETF("ietf"),
    /** {@code X-RateLimit-Limit}, {@code X-RateLimit-Remaining}, {@code X-RateLimit-Reset} (UTC epoch seconds). */
    X_RATELIMIT("x-ratelimit"),
    /** {@code X-Ratelimit-Limit}, {@code X-Ratelimit-Interval} (seconds), {@code X-Ratelimit-Remaining}; no reset. */
    X_RATELIMIT_INTERVAL("x-ratelimit-interval"),
    /** No rate-limit headers (a denial still carries {@code Retry-After} unless that is switched off too). */
    NONE("none");

    private final String configName;

    HeaderStyle(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    static HeaderStyle byConfigName(String name) {
        for (HeaderStyle s : values()) {
            if (s.configName.equals(name)) {
                return s;
            }
        }
        return null;
    }
}
