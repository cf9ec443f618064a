package dev.sluice.server.path;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Header;
import dev.sluice.server.engine.LimitResult;
import dev.sluice.server.engine.Verdict;
import dev.sluice.server.policy.AppliedLimit;
import dev.sluice.server.policy.Domain;
import dev.sluice.server.testing.TestNodes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each header dialect and the body template, rendered from verdicts. */
class ResponseRendererTest {

    private static final long NOW = Duration.ofSeconds(1_900_000_000L).plusMillis(250).toNanos();

    private static Domain domain(String response) {
        return TestNodes.policies("""
                domains:
                  d:
                    response: %s
                    rules:
                      - name: r
                        limits:
                          - {name: burst, algorithm: sliding_window, limit: 50, window: 10s, granularity: 100ms, key: [ip]}
                          - {name: average, algorithm: sliding_window, limit: 150, window: 1m, key: [ip]}
                """.formatted(response)).domain("d");
    }

    private static AcquireResponse render(Domain d, boolean allowed, long burstRemaining, long averageRemaining, long retry) {
        List<AppliedLimit> limits = d.resolve(Map.of("ip", "1.2.3.4", "tier", "BASE", "note", "say \"hi\""));
        LimitResult burst = new LimitResult(limits.get(0), burstRemaining > 0 || allowed, burstRemaining, Duration.ofSeconds(4).toNanos(),
                allowed ? 0 : retry);
        LimitResult average = new LimitResult(limits.get(1), true, averageRemaining, Duration.ofSeconds(30).toNanos(), 0);
        Verdict v = new Verdict(allowed, List.of(burst, average), allowed ? 0 : retry,
                allowed ? (burstRemaining <= averageRemaining ? burst : average) : burst);
        return ResponseRenderer.render("d", Map.of("ip", "1.2.3.4", "tier", "BASE", "note", "say \"hi\""), v, d.response(), NOW);
    }

    private static String header(AcquireResponse r, String name) {
        return r.getHeadersList().stream().filter(h -> h.getName().equals(name)).map(Header::getValue).findFirst().orElse(null);
    }

    @Test
    void ietfDialectListsEveryLimitsPolicyAndState() {
        AcquireResponse r = render(domain("{}"), true, 20, 100, 0);
        assertEquals("\"burst\";q=50;w=10, \"average\";q=150;w=60", header(r, "RateLimit-Policy"));
        assertEquals("\"burst\";r=20;t=4, \"average\";r=100;t=30", header(r, "RateLimit"));
        assertEquals(null, header(r, "Retry-After"));
        assertEquals(200, r.getHttpStatus());
    }

    @Test
    void xRateLimitDialectGivesTheBindingLimitWithAnEpochReset() {
        AcquireResponse r = render(domain("{headers: x-ratelimit}"), true, 120, 100, 0);
        assertEquals("150", header(r, "X-RateLimit-Limit"), "the limit with the fewest units left");
        assertEquals("100", header(r, "X-RateLimit-Remaining"));
        assertEquals(Long.toString(1_900_000_031L), header(r, "X-RateLimit-Reset"), "now + 30 s, rounded up to whole seconds");
    }

    @Test
    void intervalDialectHasNoResetHeader() {
        AcquireResponse r = render(domain("{headers: x-ratelimit-interval, retry_after: false}"), false, 0, 100, 1_200_000_000L);
        assertEquals("50", header(r, "X-Ratelimit-Limit"));
        assertEquals("10", header(r, "X-Ratelimit-Interval"));
        assertEquals("0", header(r, "X-Ratelimit-Remaining"));
        assertEquals(null, header(r, "X-RateLimit-Reset"));
        assertEquals(null, header(r, "Retry-After"), "switched off for this dialect");
        assertEquals(429, r.getHttpStatus());
    }

    @Test
    void retryAfterIsWholeSecondsRoundedUp() {
        assertEquals("2", header(render(domain("{}"), false, 0, 100, 1_000_000_001L), "Retry-After"));
        assertEquals("1", header(render(domain("{}"), false, 0, 100, 1L), "Retry-After"));
        assertEquals("5", header(render(domain("{}"), false, 0, 100, 5_000_000_000L), "Retry-After"));
    }

    @Test
    void bodyTemplateFillsFiguresAndDescriptorsJsonEscaped() {
        Domain d = domain("""
                {status: 503, content_type: application/json, body: '{"error": "try again in ${retry_after} seconds", "tier": "${tier}", "used": ${used}, "of": ${limit}, "window": ${window}, "note": "${descriptors.note}", "missing": "${nothing}"}'}""");
        AcquireResponse r = render(d, false, 0, 100, 4_500_000_000L);
        assertEquals(503, r.getHttpStatus());
        assertEquals("{\"error\": \"try again in 5 seconds\", \"tier\": \"BASE\", \"used\": 50, \"of\": 50, \"window\": 10,"
                + " \"note\": \"say \\\"hi\\\"\", \"missing\": \"\"}", r.getBody());
        assertEquals("application/json", header(r, "Content-Type"));
    }

    @Test
    void allowedResponsesCarryNoBody() {
        Domain d = domain("{body: 'denied'}");
        AcquireResponse r = render(d, true, 10, 100, 0);
        assertEquals("", r.getBody());
        assertFalse(r.getHeadersList().stream().anyMatch(h -> h.getName().equals("Content-Type")));
        assertTrue(render(d, false, 0, 100, 1).getBody().equals("denied"));
    }

    @Test
    void extraHeadersAreFilledFromTheBindingLimitOnEveryResponse() {
        Domain d = domain("{headers: x-ratelimit-interval, extra_headers: {X-Ratelimit-Count: '${used}', X-Ratelimit-Period: '${window}'}}");
        AcquireResponse allowed = render(d, true, 20, 100, 0);
        assertEquals("30", header(allowed, "X-Ratelimit-Count"), "50 - 20 left");
        assertEquals("10", header(allowed, "X-Ratelimit-Period"));
        AcquireResponse denied = render(d, false, 0, 100, 1_000_000_000L);
        assertEquals("50", header(denied, "X-Ratelimit-Count"));
    }

    @Test
    void policyValuesFillTemplatesBeforeDescriptorsAndHeadersDropControlCharacters() {
        Domain d = domain("{values: {contact: ops@example.com, tier: PINNED}, body: 'write to ${contact} (${tier})',"
                + " extra_headers: {X-Caller-Note: '${note}'}}");
        AcquireResponse denied = render(d, false, 0, 100, 1);
        assertEquals("write to ops@example.com (PINNED)", denied.getBody(), "a policy value wins over a descriptor of the same name");
        List<AppliedLimit> limits = d.resolve(Map.of("ip", "1.2.3.4"));
        Verdict v = new Verdict(true, List.of(new LimitResult(limits.get(0), true, 3, 1, 0)), 0,
                new LimitResult(limits.get(0), true, 3, 1, 0));
        AcquireResponse injected = ResponseRenderer.render("d", Map.of("ip", "1.2.3.4", "note", "a\r\nSet-Cookie: x=1"), v,
                d.response(), NOW);
        assertEquals("aSet-Cookie: x=1", header(injected, "X-Caller-Note"), "a descriptor cannot end the header");
    }
}
