package dev.sluice.server.envoy;

import java.time.Duration;
import java.util.Locale;

/**
 * The units of envoyproxy/ratelimit's {@code rate_limit}, with its own lengths: a month is 30 days
 * and a year 365, every window aligned to the epoch (so weeks start on Thursdays, UTC).
 */
public enum EnvoyUnit {
    SECOND(1), MINUTE(60), HOUR(3_600), DAY(86_400), WEEK(604_800), MONTH(2_592_000), YEAR(31_536_000);

    private final long seconds;

    EnvoyUnit(long seconds) {
        this.seconds = seconds;
    }

    public Duration length() {
        return Duration.ofSeconds(seconds);
    }

    /** The unit a configuration names, in any case; {@code null} when it names none. */
    static EnvoyUnit parse(String text) {
        if (text == null) {
            return null;
        }
        for (EnvoyUnit u : values()) {
            if (u.name().equals(text.toUpperCase(Locale.ROOT))) {
                return u;
            }
        }
        return null;
    }
}
