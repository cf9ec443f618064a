package dev.sluice.server.envoy;

import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.CountingWindow;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.policy.LimitMeter;
import dev.sluice.server.policy.ResponseStyle;
import dev.sluice.server.policy.WhenFull;

import java.util.List;
import java.util.Set;

/**
 * A {@code rate_limit} of an envoyproxy/ratelimit configuration, or a descriptor's own override.
 *
 * @param name            its {@code name} (what {@code replaces} names, and the response reports), or empty
 * @param unit            its unit; the window unless {@code window} says otherwise
 * @param requestsPerUnit the limit
 * @param unlimited       always allowed, never counted
 * @param replaces        the names of the limits it replaces when both apply to one request
 * @param shadow          counted, never denies
 * @param detailedMetric  its metrics carry the request's full key
 * @param algorithm       how it decides: a counting fixed window by default, or a Sluice algorithm (an extension)
 * @param counting        whether {@code algorithm} counts every hit as envoyproxy/ratelimit does
 * @param meter           how its metrics name it, or {@code null} (an override)
 */
public record EnvoyLimit(String name, EnvoyUnit unit, long requestsPerUnit, boolean unlimited, Set<String> replaces, boolean shadow,
                         boolean detailedMetric, Algorithm algorithm, boolean counting, LimitMeter meter) {

    /**
     * This limit as the engine decides it, on the bucket of {@code entries} in {@code domain}: one
     * bucket per distinct request (key and value of every entry), per window length and algorithm,
     * so an override with a configured limit's unit shares its count, as in envoyproxy/ratelimit.
     *
     * @param countDenied whether a refused request's hits count (envoyproxy/ratelimit's way), or not (all or nothing)
     */
    public AppliedLimit applied(String domain, List<EnvoyDomain.Entry> entries, boolean countDenied) {
        StringBuilder key = new StringBuilder("envoy").append(SEPARATOR);
        escape(key, domain);
        for (EnvoyDomain.Entry e : entries) {
            key.append(SEPARATOR);
            escape(key, e.key());
            key.append(SEPARATOR);
            escape(key, e.value());
        }
        key.append(SEPARATOR).append(algorithm.getClass().getSimpleName()).append(algorithm.windowNanos());
        if (algorithm instanceof CountingWindow c && c.calendar() != null) {
            key.append(c.calendar().zone().getId());
        }
        return new AppliedLimit(name, meter == null ? "" : meter.rule(), algorithm, key.toString(), shadow, countDenied,
                ResponseStyle.DEFAULT, null, WhenFull.REFUSE, meter, 0);
    }

    private static final char SEPARATOR = '\u001f';

    private static void escape(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == SEPARATOR || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
    }

    /** A descriptor's override: {@code requestsPerUnit} per {@code unit}, counted as the configured ones are. */
    public static EnvoyLimit override(long requestsPerUnit, EnvoyUnit unit) {
        return new EnvoyLimit("", unit, requestsPerUnit, false, Set.of(), false, false,
                new CountingWindow(requestsPerUnit, unit.length()), true, null);
    }
}
