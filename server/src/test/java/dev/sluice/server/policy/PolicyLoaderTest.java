package dev.sluice.server.policy;

import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.LeakyBucket;
import dev.sluice.server.algorithm.SlidingWindow;
import dev.sluice.server.algorithm.TokenBucket;
import org.junit.jupiter.api.Test;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolicyLoaderTest {

    private static Policies load(String yaml) {
        try {
            return PolicyLoader.parse(yaml, "p.yaml");
        } catch (PolicyException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private static List<Problem> problems(String yaml) {
        return assertThrows(PolicyException.class, () -> PolicyLoader.parse(yaml, "p.yaml")).problems();
    }

    private static void assertProblem(List<Problem> problems, int line, String path, String messagePart) {
        assertTrue(problems.stream().anyMatch(p -> p.line() == line && p.path().equals(path) && p.message().contains(messagePart)),
                "expected p.yaml:" + line + ": " + path + ": ..." + messagePart + "... among\n" + problems);
    }

    private static List<String> names(List<AppliedLimit> limits) {
        return limits.stream().map(AppliedLimit::name).toList();
    }

    @Test
    void everyAlgorithmCompilesWithItsNumbers() {
        Domain d = load("""
                domains:
                  d:
                    rules:
                      - name: all
                        limits:
                          - {name: tb, algorithm: token_bucket, capacity: 50, refill: 5, refill_period: 1s, initial: 10, key: [k]}
                          - {name: lb, algorithm: leaky_bucket, capacity: 120, leak: 1, key: [k]}
                          - {name: fw, algorithm: fixed_window, limit: 1_000, window: 10s, key: [k]}
                          - {name: cal, algorithm: fixed_window, limit: 1000, calendar: week, zone: Asia/Shanghai, week_start: sunday, key: [k]}
                          - {name: sw, algorithm: sliding_window, limit: 750, window: 1m, granularity: 500ms, key: [k]}
                """).domain("d");
        List<AppliedLimit> limits = d.resolve(Map.of("k", "v"));
        assertEquals(new TokenBucket(50, 5, Duration.ofSeconds(1), 10), limits.get(0).algorithm());
        assertEquals(new LeakyBucket(120, 1, Duration.ofSeconds(1)), limits.get(1).algorithm());
        assertEquals(FixedWindow.ofLength(1000, Duration.ofSeconds(10)), limits.get(2).algorithm());
        assertEquals(FixedWindow.ofCalendar(1000, FixedWindow.CalendarUnit.WEEK, ZoneId.of("Asia/Shanghai"), DayOfWeek.SUNDAY),
                limits.get(3).algorithm());
        assertEquals(new SlidingWindow(750, Duration.ofMinutes(1), Duration.ofMillis(500)), limits.get(4).algorithm());
    }

    @Test
    void rulesMatchOnEveryKindOfCondition() {
        Domain d = load("""
                domains:
                  d:
                    rules:
                      - {name: exact, match: {env: live}, limits: [{name: exact, algorithm: token_bucket, capacity: 1, refill: 1, key: [ip]}]}
                      - {name: set, match: {method: [GET, HEAD]}, limits: [{name: set, algorithm: token_bucket, capacity: 1, refill: 1, key: [ip]}]}
                      - {name: prefix, match: {path: {prefix: /api/}}, limits: [{name: prefix, algorithm: token_bucket, capacity: 1, refill: 1, key: [ip]}]}
                      - {name: glob, match: {path: {glob: "/api/*_promotions"}}, limits: [{name: glob, algorithm: token_bucket, capacity: 1, refill: 1, key: [ip]}]}
                      - {name: present, match: {user: {present: true}}, limits: [{name: present, algorithm: token_bucket, capacity: 1, refill: 1, key: [ip]}]}
                      - {name: absent, match: {user: {present: false}}, limits: [{name: absent, algorithm: token_bucket, capacity: 1, refill: 1, key: [ip]}]}
                      - {name: not, match: {path: {not: {glob: "/api/*_promotions"}}}, limits: [{name: not, algorithm: token_bucket, capacity: 1, refill: 1, key: [ip]}]}
                """).domain("d");
        assertEquals(List.of("exact", "set", "prefix", "glob", "absent"),
                names(d.resolve(Map.of("ip", "1", "env", "live", "method", "GET", "path", "/api/free_promotions"))));
        assertEquals(List.of("prefix", "present", "not"),
                names(d.resolve(Map.of("ip", "1", "env", "test", "method", "POST", "path", "/api/skus", "user", "u"))));
    }

    @Test
    void compositeKeysAndFallbackChainsFormDistinctBuckets() {
        Domain d = load("""
                domains:
                  d:
                    rules:
                      - name: r
                        limits:
                          - {name: per-pair, algorithm: token_bucket, capacity: 50, refill: 50, key: [app, shop, api]}
                          - {name: scoped, algorithm: token_bucket, capacity: 5, refill: 1, key: [{first_of: [org, api_key, user, ip]}, type]}
                """).domain("d");
        List<AppliedLimit> a = d.resolve(Map.of("app", "a1", "shop", "s1", "api", "orders", "org", "7", "ip", "9", "type", "DEFAULT"));
        List<AppliedLimit> b = d.resolve(Map.of("app", "a2", "shop", "s1", "api", "orders", "user", "7", "ip", "9", "type", "DEFAULT"));
        assertNotEquals(a.get(0).bucketKey(), b.get(0).bucketKey(), "another app, another bucket");
        assertNotEquals(a.get(1).bucketKey(), b.get(1).bucketKey(), "org 7 and user 7 are different scopes");
        assertTrue(a.get(1).bucketKey().contains("org=7"));
        assertTrue(b.get(1).bucketKey().contains("user=7"));
        List<AppliedLimit> ipOnly = d.resolve(Map.of("ip", "9", "type", "AUTH"));
        assertEquals(List.of("scoped"), names(ipOnly), "a limit whose key cannot be formed does not apply");
        assertTrue(ipOnly.get(0).bucketKey().contains("ip=9"));
    }

    @Test
    void descriptorValuesCannotForgeAnotherKey() {
        Domain d = load("""
                domains:
                  d:
                    rules:
                      - {name: r, limits: [{name: l, algorithm: token_bucket, capacity: 1, refill: 1, key: [a, b]}]}
                """).domain("d");
        String forged = d.resolve(Map.of("a", "x\u001fb=y", "b", "z")).get(0).bucketKey();
        String plain = d.resolve(Map.of("a", "x", "b", "y\u001fb=z")).get(0).bucketKey();
        assertNotEquals(forged, plain);
    }

    @Test
    void tierTablesPickNumbersByDescriptorFirstRowWins() {
        Domain d = load("""
                domains:
                  d:
                    tables:
                      tiers:
                        by: [tier, type]
                        columns: [capacity, refill]
                        rows:
                          - [TIER_1, DEFAULT, 150, 15]
                          - [[TIER_2, TIER_3], "*", 450, 45]
                          - [VIP, "*", unlimited]
                          - ["*", "*", 50, 5]
                    rules:
                      - name: org
                        limits:
                          - {name: org, algorithm: token_bucket, numbers: tiers, key: [org]}
                """).domain("d");
        assertEquals(new TokenBucket(150, 15, Duration.ofSeconds(1)),
                d.resolve(Map.of("org", "o", "tier", "TIER_1", "type", "DEFAULT")).get(0).algorithm());
        assertEquals(new TokenBucket(450, 45, Duration.ofSeconds(1)),
                d.resolve(Map.of("org", "o", "tier", "TIER_3", "type", "AUTH")).get(0).algorithm());
        assertEquals(new TokenBucket(50, 5, Duration.ofSeconds(1)), d.resolve(Map.of("org", "o")).get(0).algorithm());
        assertEquals(List.of(), d.resolve(Map.of("org", "o", "tier", "VIP")), "an unlimited row applies no limit");
    }

    @Test
    void shadowAndUnlimited() {
        Domain d = load("""
                domains:
                  d:
                    rules:
                      - {name: vip, match: {user: admin}, unlimited: true}
                      - {name: trial, shadow: true, limits: [{name: trial, algorithm: token_bucket, capacity: 1, refill: 1, key: [user]}]}
                      - {name: main, limits: [{name: main, algorithm: token_bucket, capacity: 1, refill: 1, key: [user], count_denied: true}]}
                """).domain("d");
        List<AppliedLimit> normal = d.resolve(Map.of("user", "u"));
        assertEquals(List.of("trial", "main"), names(normal));
        assertTrue(normal.get(0).shadow());
        assertTrue(normal.get(1).countDenied());
        assertEquals(List.of(), d.resolve(Map.of("user", "admin")), "an unlimited rule exempts from every rule");
    }

    @Test
    void responseStyleIsSetPerDomainAndOverriddenPerRule() {
        Domain d = load("""
                domains:
                  d:
                    response: {status: 503, headers: x-ratelimit, content_type: application/json, body: '{"limit": ${limit}}'}
                    rules:
                      - {name: a, limits: [{name: a, algorithm: token_bucket, capacity: 1, refill: 1, key: [k]}]}
                      - name: b
                        response: {headers: none, retry_after: false}
                        limits: [{name: b, algorithm: token_bucket, capacity: 1, refill: 1, key: [k]}]
                """).domain("d");
        List<AppliedLimit> limits = d.resolve(Map.of("k", "v"));
        assertEquals(new ResponseStyle(503, HeaderStyle.X_RATELIMIT, true, limits.get(0).response().body(), "application/json"),
                limits.get(0).response());
        ResponseStyle b = limits.get(1).response();
        assertEquals(503, b.denyStatus(), "inherited from the domain");
        assertEquals(HeaderStyle.NONE, b.headers());
        assertEquals(false, b.retryAfterHeader());
        assertEquals("{\"limit\": ${limit}}", b.body().source());
    }

    @Test
    void everyProblemIsReportedWithLineAndPath() {
        List<Problem> problems = problems("""
                domains:
                  shop:
                    respnse: {status: 429}
                    rules:
                      - name: per-ip
                        limits:
                          - name: per-ip
                            algorithm: token_bucket
                            capacity: -3
                            refill: 10
                            refill_period: 10 seconds
                            key: [ip]
                          - name: per-ip
                            algorithm: leaky
                            key: [ip]
                          - name: window
                            algorithm: fixed_window
                            limit: 5
                            calendar: fortnight
                            key: [ip]
                          - name: zoned
                            algorithm: fixed_window
                            limit: 5
                            calendar: day
                            zone: Mars/Olympus
                            key: [user]
                          - name: nokey
                            algorithm: sliding_window
                            limit: 10
                            window: 10s
                            granularity: 3s
                """);
        assertProblem(problems, 3, "domains.shop.respnse", "unknown key 'respnse'");
        assertProblem(problems, 9, "domains.shop.rules[0].limits[0].capacity", "positive whole number");
        assertProblem(problems, 11, "domains.shop.rules[0].limits[0].refill_period", "is not a duration");
        assertProblem(problems, 13, "domains.shop.rules[0].limits[1].name", "used twice");
        assertProblem(problems, 14, "domains.shop.rules[0].limits[1].algorithm", "unknown algorithm 'leaky'");
        assertProblem(problems, 19, "domains.shop.rules[0].limits[2].calendar", "day, week or month");
        assertProblem(problems, 25, "domains.shop.rules[0].limits[3].zone", "unknown time zone 'Mars/Olympus'");
        assertProblem(problems, 27, "domains.shop.rules[0].limits[4]", "missing 'key'");
        assertProblem(problems, 27, "domains.shop.rules[0].limits[4]", "not a whole number of granularity");
        assertEquals(9, problems.size(), problems.toString());
        assertTrue(problems.get(0).toString().startsWith("p.yaml:3: domains.shop.respnse: "), problems.get(0).toString());
    }

    @Test
    void tableMistakesAreReportedAtTheRow() {
        List<Problem> problems = problems("""
                domains:
                  d:
                    tables:
                      plans:
                        by: plan
                        columns: [capacity, bogus]
                        rows:
                          - [Plus, 120]
                          - [Pro, 360, 1]
                    rules:
                      - name: r
                        limits:
                          - {name: l, algorithm: leaky_bucket, leak: 1, numbers: plans, key: [store]}
                          - {name: m, algorithm: leaky_bucket, leak: 1, numbers: plan, key: [store]}
                """);
        assertProblem(problems, 8, "domains.d.tables.plans.rows[0]", "has 2 cells; expected 3");
        assertProblem(problems, 13, "domains.d.rules[0].limits[0].numbers", "column 'bogus', which is not a field of leaky_bucket");
        assertProblem(problems, 14, "domains.d.rules[0].limits[1].numbers", "no table named 'plan'");
    }

    @Test
    void rowNumbersAreValidatedForEveryLimitThatUsesThem() {
        List<Problem> problems = problems("""
                domains:
                  d:
                    tables:
                      plans:
                        by: plan
                        columns: [capacity]
                        rows:
                          - [Plus, 120]
                          - [Pro, zero]
                    rules:
                      - {name: r, limits: [{name: l, algorithm: leaky_bucket, leak: 1, numbers: plans, key: [store]}]}
                """);
        assertProblem(problems, 9, "domains.d.tables.plans.rows[1]", "'zero' is not a whole number");
    }

    @Test
    void malformedYamlAndEmptyFilesAreRefused() {
        assertProblem(problems("domains:\n  d: [unclosed\n"), 3, "", "not valid YAML");
        assertProblem(problems(""), 1, "", "the file is empty");
        assertProblem(problems("domain:\n  d: {}\n"), 1, "domain", "unknown key 'domain'");
        assertProblem(problems("domains:\n  d:\n    rules: []\n    rules: []\n"), 4, "domains.d.rules", "given twice");
    }

    @Test
    void badResponseSettingsAreReported() {
        List<Problem> problems = problems("""
                domains:
                  d:
                    response:
                      status: 200
                      headers: draft-7
                      body: "Wait ${retry_after seconds"
                    rules:
                      - {name: r, limits: [{name: l, algorithm: token_bucket, capacity: 1, refill: 1, key: [k]}]}
                """);
        assertProblem(problems, 4, "domains.d.response.status", "400 to 599");
        assertProblem(problems, 5, "domains.d.response.headers", "unknown header style 'draft-7'");
        assertProblem(problems, 6, "domains.d.response.body", "never closed");
    }

    @Test
    void unlimitedRulesCannotCarryLimitsAndRulesNeedLimits() {
        List<Problem> problems = problems("""
                domains:
                  d:
                    rules:
                      - name: a
                        unlimited: true
                        limits: [{name: l, algorithm: token_bucket, capacity: 1, refill: 1, key: [k]}]
                      - name: b
                """);
        assertProblem(problems, 6, "domains.d.rules[0].limits", "cannot have limits");
        assertProblem(problems, 7, "domains.d.rules[1]", "missing 'limits'");
    }

    @Test
    void aCapacityTooLargeForExactArithmeticIsRefused() {
        List<Problem> problems = problems("""
                domains:
                  d:
                    rules:
                      - name: r
                        limits:
                          - {name: l, algorithm: token_bucket, capacity: 9000000000000000000, refill: 1, refill_period: 1d, key: [k]}
                """);
        assertProblem(problems, 6, "domains.d.rules[0].limits[0]", "too large");
    }

    @Test
    void aFixedWindowMayTrickleOnceItsQuotaIsSpent() {
        Domain d = load("""
                domains:
                  d:
                    rules:
                      - name: r
                        limits:
                          - {name: q, algorithm: fixed_window, limit: 360, window: 1m, trickle: 1, trickle_period: 1s, key: [k]}
                          - {name: c, algorithm: fixed_window, limit: 100, calendar: day, trickle: 5, key: [k]}
                """).domain("d");
        List<AppliedLimit> limits = d.resolve(Map.of("k", "x"));
        assertEquals(new dev.sluice.server.algorithm.TrickleWindow(FixedWindow.ofLength(360, Duration.ofMinutes(1)), 1,
                Duration.ofSeconds(1)), limits.get(0).algorithm());
        assertEquals(360, limits.get(0).algorithm().limit());
        assertEquals(Duration.ofMinutes(1).toNanos(), limits.get(0).algorithm().windowNanos());
        assertTrue(limits.get(1).algorithm() instanceof dev.sluice.server.algorithm.TrickleWindow, "calendar windows trickle too");
    }

    @Test
    void aTrickleMustFitItsWindowAndNeedsATrickleAmount() {
        List<Problem> problems = problems("""
                domains:
                  d:
                    rules:
                      - name: r
                        limits:
                          - {name: a, algorithm: fixed_window, limit: 5, window: 1m, trickle: 6, key: [k]}
                          - {name: b, algorithm: fixed_window, limit: 5, window: 1m, trickle_period: 1s, key: [k]}
                          - {name: c, algorithm: fixed_window, limit: 5, window: 1m, trickle: 0, key: [k]}
                          - {name: e, algorithm: token_bucket, capacity: 5, refill: 1, trickle: 1, key: [k]}
                """);
        assertProblem(problems, 6, "domains.d.rules[0].limits[0].trickle", "more than the window's limit");
        assertProblem(problems, 7, "domains.d.rules[0].limits[1].trickle_period", "needs 'trickle'");
        assertProblem(problems, 8, "domains.d.rules[0].limits[2].trickle", "positive whole number");
        assertProblem(problems, 9, "domains.d.rules[0].limits[3].trickle", "unknown field 'trickle' for token_bucket");
    }

    @Test
    void extraHeadersAndValuesAreChecked() {
        List<Problem> problems = problems("""
                domains:
                  d:
                    response:
                      extra_headers: {"Bad Header": x, Retry-After: "5", X-Ok: "${unclosed"}
                      values: {limit: "50", "bad name": x}
                    rules:
                      - name: r
                        limits: [{name: l, algorithm: token_bucket, capacity: 5, refill: 1, key: [k]}]
                """);
        assertProblem(problems, 4, "domains.d.response.extra_headers.Bad Header", "is not a header name");
        assertProblem(problems, 4, "domains.d.response.extra_headers.Retry-After", "is set by");
        assertProblem(problems, 4, "domains.d.response.extra_headers.X-Ok", "never closed");
        assertProblem(problems, 5, "domains.d.response.values.limit", "built-in placeholder");
        assertProblem(problems, 5, "domains.d.response.values.bad name", "not a value name");
    }

    @Test
    void domainsNameTheirCallersAndThePolicyItsAdmins() {
        Policies p = load("""
                admins: ["spiffe://example.org/ns/ops/*"]
                domains:
                  shop:
                    callers: ["spiffe://example.org/ns/shop/*", checkout-service]
                    rules: [{name: r, limits: [{name: l, algorithm: token_bucket, capacity: 5, refill: 1, key: [k]}]}]
                  open:
                    rules: [{name: r, limits: [{name: o, algorithm: token_bucket, capacity: 5, refill: 1, key: [k]}]}]
                """);
        Domain shop = p.domain("shop");
        assertTrue(shop.restricted());
        assertTrue(shop.admits("spiffe://example.org/ns/shop/sa/cart"));
        assertTrue(shop.admits("checkout-service"));
        assertFalse(shop.admits("checkout-service-2"), "an exact id is exact");
        assertFalse(shop.admits(null), "an anonymous caller is never named");
        assertTrue(p.domain("open").admits(null), "a domain without callers is open");
        assertTrue(p.isAdmin("spiffe://example.org/ns/ops/sa/oncall"));
        assertFalse(p.isAdmin("checkout-service"));
        assertFalse(p.isAdmin(null));
    }

    @Test
    void callersMustBeAListOfIds() {
        List<Problem> problems = problems("""
                admins: ops
                domains:
                  d:
                    callers: []
                    rules: [{name: r, limits: [{name: l, algorithm: token_bucket, capacity: 5, refill: 1, key: [k]}]}]
                """);
        assertProblem(problems, 1, "admins", "non-empty list");
        assertProblem(problems, 4, "domains.d.callers", "non-empty list");
    }

    @Test
    void duplicateKeysAreRefusedAtAnyDepth() {
        List<Problem> problems = problems("""
                domains:
                  d:
                    defaults: {tier: BASE, tier: GOLD}
                    rules:
                      - name: r
                        limits: [{name: l, algorithm: token_bucket, capacity: 5, refill: 1, key: [k], key: [j]}]
                """);
        assertProblem(problems, 3, "domains.d.defaults.tier", "given twice");
        assertProblem(problems, 6, "domains.d.rules[0].limits[0].key", "given twice");
    }

    @Test
    void numbersAndDurationsOnlyInTheirDocumentedForms() {
        List<Problem> problems = problems("""
                domains:
                  d:
                    rules:
                      - name: r
                        limits:
                          - {name: a, algorithm: token_bucket, capacity: "12", refill: 1, key: [k]}
                          - {name: b, algorithm: fixed_window, limit: 5, window: "1 s", key: [k]}
                          - {name: c, algorithm: fixed_window, limit: 5, window: P99999999999999D, key: [k]}
                          - {name: e, algorithm: fixed_window, limit: 99999999999999999999999, window: 1s, key: [k]}
                          - {name: f, algorithm: fixed_window, limit: 1.5, window: 1s, key: [k]}
                """);
        assertProblem(problems, 6, "domains.d.rules[0].limits[0].capacity", "is in quotes, so it is text");
        assertProblem(problems, 7, "domains.d.rules[0].limits[1].window", "1 s");
        assertProblem(problems, 8, "domains.d.rules[0].limits[2].window", "too long");
        assertProblem(problems, 9, "domains.d.rules[0].limits[3].limit", "too large");
        assertProblem(problems, 10, "domains.d.rules[0].limits[4].limit", "whole number");
    }

    @Test
    void invalidUtf8IsRefusedWithItsByteOffsetAndLine() {
        byte[] good = "domains:\n  d:\n    rules: []\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] bad = java.util.Arrays.copyOf(good, good.length);
        bad[17] = (byte) 0xC3; // "rules" becomes an unfinished two-byte character
        bad[18] = (byte) 0x28;
        Problem problem = assertThrows(PolicyException.class, () -> PolicyLoader.parse(bad, "p.yaml")).problems().get(0);
        assertEquals(3, problem.line(), problem.toString());
        assertTrue(problem.message().contains("byte 17 (0xc3)"), problem.toString());
    }

    @Test
    void aliasBombsAndDeepNestingAreRefusedWithALine() {
        StringBuilder bomb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 60; i++) {
            bomb.append("a").append(i).append(": &a").append(i).append(" [*a").append(i == 1 ? "" : i - 1)
                    .append(", *a").append(i == 1 ? "" : i - 1).append("]\n");
        }
        List<Problem> aliases = problems(bomb.toString());
        assertTrue(aliases.stream().anyMatch(p -> p.line() > 1 && p.message().contains("aliases")), aliases.toString());

        String deep = "domains:\n" + "  ".repeat(1) + "d: " + "[".repeat(200) + "]".repeat(200) + "\n";
        List<Problem> nesting = problems(deep);
        assertTrue(nesting.stream().anyMatch(p -> p.line() == 2 && p.message().contains("nested")), nesting.toString());
    }

    @Test
    void aMetricsLabelMustBeADescriptorThePolicyLists() {
        assertProblem(problems("""
                domains:
                  d:
                    metrics_label: user
                    rules: [{name: r, limits: [{name: l, algorithm: token_bucket, capacity: 5, refill: 1, key: [user]}]}]
                """), 3, "domains.d.metrics_label", "lists no values of 'user'");
        Domain d = load("""
                domains:
                  d:
                    metrics_label: tier
                    rules:
                      - {name: vip, match: {tier: [gold, platinum]}, unlimited: true}
                      - {name: r, match: {tier: free}, limits: [{name: l, algorithm: token_bucket, capacity: 5, refill: 1, key: [user]}]}
                """).domain("d");
        assertEquals("gold", d.metricsLabelValue(Map.of("tier", "gold")));
        assertEquals("free", d.metricsLabelValue(Map.of("tier", "free")));
        assertEquals("other", d.metricsLabelValue(Map.of("tier", "bronze")));
        assertEquals("none", d.metricsLabelValue(Map.of()));
    }
}
