package dev.sluice.server.path;

import com.google.protobuf.Duration;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.Header;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.server.engine.LimitResult;
import dev.sluice.server.engine.Verdict;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.policy.ExtraHeader;
import dev.sluice.server.policy.ResponseStyle;

import java.util.Map;

import static dev.sluice.server.policy.LimitText.ceilSeconds;

/** Turns a verdict into the response a gateway relays: decision, statuses, headers, status and body. */
public final class ResponseRenderer {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private ResponseRenderer() {
    }

    /**
     * @param domain      the request's domain
     * @param descriptors the request's descriptors, for body placeholders
     * @param verdict     the decision
     * @param style       the domain's style, used when no limit applied
     * @param nowNanos    this node's clock, for headers that carry absolute times
     */
    static AcquireResponse render(String domain, Map<String, String> descriptors, Verdict verdict, ResponseStyle style,
                                  long nowNanos) {
        return render(domain, descriptors, verdict, style, nowNanos, false);
    }

    /**
     * Where a header of a lease's answer says limit {@code i}'s remaining units: the client that
     * decides from the lease writes them in ({@code used} likewise, with {@link #USED}).
     */
    public static final char REMAINING = 'r';
    public static final char USED = 'u';
    /** Opens and closes a placeholder; never part of a header otherwise (control characters are taken out of values). */
    public static final char MARK = '\u0001';

    /**
     * {@link #render} for the answer a client repeats while it decides from a lease: as
     * allowed, with each limit's remaining units (and units used) in the headers left as
     * placeholders ({@link #MARK}, {@link #REMAINING} or {@link #USED}, the limit's index, {@link #MARK}).
     */
    static AcquireResponse renderTemplate(String domain, Map<String, String> descriptors, Verdict verdict, ResponseStyle style,
                                          long nowNanos) {
        return render(domain, descriptors, verdict, style, nowNanos, true);
    }

    private static AcquireResponse render(String domain, Map<String, String> descriptors, Verdict verdict, ResponseStyle style,
                                          long nowNanos, boolean template) {
        AcquireResponse.Builder b = AcquireResponse.newBuilder()
                .setDecision(verdict.allowed() ? Decision.ALLOWED : Decision.DENIED)
                .setRetryAfter(duration(verdict.retryAfterNanos()));
        for (LimitResult r : verdict.results()) {
            b.addLimits(LimitStatus.newBuilder()
                    .setName(r.limit().name())
                    .setDecision(r.allowed() ? Decision.ALLOWED : Decision.DENIED)
                    .setLimit(r.limit().algorithm().limit())
                    .setRemaining(r.remaining())
                    .setResetAfter(duration(r.resetAfterNanos()))
                    .setWindow(duration(r.limit().algorithm().windowNanos()))
                    .setInFlight(r.limit().algorithm() instanceof dev.sluice.server.algorithm.ConcurrencyLimit));
        }
        LimitResult binding = verdict.binding();
        ResponseStyle s = binding == null ? style : binding.limit().response();
        if (binding != null) {
            switch (s.headers()) {
                case IETF -> ietfHeaders(b, verdict, template);
                case X_RATELIMIT -> {
                    header(b, "X-RateLimit-Limit", binding.limit().text().limit());
                    header(b, "X-RateLimit-Remaining", number(verdict, binding, REMAINING, binding.remaining(), template));
                    header(b, "X-RateLimit-Reset", Long.toString(ceilSeconds(nowNanos + binding.resetAfterNanos())));
                }
                case X_RATELIMIT_INTERVAL -> {
                    header(b, "X-Ratelimit-Limit", binding.limit().text().limit());
                    header(b, "X-Ratelimit-Interval", binding.limit().text().windowSeconds());
                    header(b, "X-Ratelimit-Remaining", number(verdict, binding, REMAINING, binding.remaining(), template));
                }
                case NONE -> {
                }
            }
        }
        long retrySeconds = verdict.allowed() ? 0 : Math.max(1, ceilSeconds(verdict.retryAfterNanos()));
        if (binding != null) {
            for (ExtraHeader h : s.extraHeaders()) {
                // A lease's template keeps its placeholders' marks: only what each name fills in is made safe there.
                header(b, h.name(), template
                        ? h.value().render(name -> {
                            String v = placeholder(name, domain, descriptors, binding, retrySeconds, s, verdict);
                            return v == null || name.equals("remaining") || name.equals("used") ? v : headerSafe(v);
                        }, false)
                        : headerSafe(h.value().render(name -> placeholder(name, domain, descriptors, binding, retrySeconds, s, null), false)));
            }
        }
        if (verdict.allowed()) {
            return b.setHttpStatus(200).build();
        }
        b.setHttpStatus(s.denyStatus());
        if (s.retryAfterHeader()) {
            header(b, "Retry-After", Long.toString(retrySeconds));
        }
        if (!s.body().isEmpty()) {
            String body = s.body().render(name -> placeholder(name, domain, descriptors, binding, retrySeconds, s, null), s.jsonBody());
            b.setBody(body);
            header(b, "Content-Type", s.contentType());
        }
        return b.build();
    }

    /**
     * The IETF draft fields: every limit's policy, and every limit's current state, in policy
     * order. Each limit's policy item was written when the policy was loaded; a response with one
     * limit sends it as it is.
     */
    private static void ietfHeaders(AcquireResponse.Builder b, Verdict verdict, boolean template) {
        String policy = null;
        StringBuilder policies = null;
        StringBuilder state = new StringBuilder(32);
        for (LimitResult r : verdict.results()) {
            if (r.limit().shadow()) {
                continue;
            }
            String item = r.limit().text().ietfPolicy();
            if (policy == null) {
                policy = item;
            } else {
                if (policies == null) {
                    policies = new StringBuilder(policy);
                }
                policies.append(", ").append(item);
                state.append(", ");
            }
            state.append('"').append(r.limit().name()).append("\";r=").append(number(verdict, r, REMAINING, r.remaining(), template))
                    .append(";t=").append(ceilSeconds(r.resetAfterNanos()));
        }
        if (policy != null) {
            header(b, "RateLimit-Policy", policies == null ? policy : policies.toString());
            header(b, "RateLimit", state.toString());
        }
    }

    /** {@code value} as text, or as the placeholder for it when rendering a lease's {@code template}. */
    private static String number(Verdict verdict, LimitResult r, char which, long value, boolean template) {
        if (!template) {
            return Long.toString(value);
        }
        int i = 0;
        while (verdict.results().get(i) != r) {
            i++;
        }
        return MARK + (which + Integer.toString(i)) + MARK;
    }

    /** @param template the verdict when rendering a lease's template (numbers become placeholders), else {@code null} */
    private static String placeholder(String name, String domain, Map<String, String> descriptors, LimitResult binding,
                                      long retrySeconds, ResponseStyle style, Verdict template) {
        AppliedLimit limit = binding.limit();
        long max = limit.algorithm().limit();
        return switch (name) {
            case "limit" -> limit.text().limit();
            case "remaining" -> number(template, binding, REMAINING, binding.remaining(), template != null);
            case "used" -> number(template, binding, USED, max - binding.remaining(), template != null);
            case "retry_after" -> Long.toString(retrySeconds);
            case "reset" -> Long.toString(ceilSeconds(binding.resetAfterNanos()));
            case "window" -> limit.text().windowSeconds();
            case "name" -> limit.name();
            case "rule" -> limit.rule();
            case "domain" -> domain;
            default -> name.startsWith("descriptors.") ? descriptors.get(name.substring("descriptors.".length()))
                    : style.values().containsKey(name) ? style.values().get(name) : descriptors.get(name);
        };
    }

    /** {@code value} without control characters: a filled-in descriptor must not end the header or start another. */
    private static String headerSafe(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                StringBuilder b = new StringBuilder(value.length());
                for (int j = 0; j < value.length(); j++) {
                    char d = value.charAt(j);
                    if (d >= 0x20 && d != 0x7f) {
                        b.append(d);
                    }
                }
                return b.toString();
            }
        }
        return value;
    }

    private static void header(AcquireResponse.Builder b, String name, String value) {
        b.addHeaders(Header.newBuilder().setName(name).setValue(value));
    }

    /** {@code nanos} as a protobuf Duration, exact to the nanosecond. */
    public static Duration duration(long nanos) {
        return Duration.newBuilder().setSeconds(Math.floorDiv(nanos, NANOS_PER_SECOND))
                .setNanos((int) Math.floorMod(nanos, NANOS_PER_SECOND)).build();
    }
}
