package dev.sluice.server.envoy;

import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.Ports;
import dev.sluice.server.testing.Scrape;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.Code;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.envoyproxy.envoy.type.v3.RateLimitUnit;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * envoyproxy/ratelimit's observable behaviour, from its own configuration and service tests, asked
 * of a Sluice node over a real socket with Envoy's generated stub: the same codes, limits,
 * remaining counts and resets for the same request sequences. Time is the node's clock, set to
 * 2222 s after the epoch as those tests set theirs.
 */
class EnvoyConformanceTest {

    private final ManualClock clock = new ManualClock(Instant.ofEpochSecond(2222));
    private SluiceNode node;
    private ManagedChannel channel;
    private RateLimitServiceGrpc.RateLimitServiceBlockingStub envoy;

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (node != null) {
            node.close();
        }
    }

    private void start(Path config, boolean headers, boolean globalShadow) {
        start(config, headers, globalShadow, "RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset");
    }

    private void start(Path config, boolean headers, boolean globalShadow, String headerNames) {
        node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("envoy"), clock).envoyConfig(config)
                .envoyResponseHeaders(headers).envoyHeaderNames(headerNames).envoyShadowMode(globalShadow).metricsPort(Ports.free())
                .policyReloadInterval(Duration.ofMillis(100)).build());
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        envoy = RateLimitServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private void start() {
        start(EnvoyConfigLoaderTest.resources("conformance"), false, false);
    }

    private static RateLimitDescriptor descriptor(String... kv) {
        RateLimitDescriptor.Builder d = RateLimitDescriptor.newBuilder();
        for (int i = 0; i < kv.length; i += 2) {
            d.addEntries(RateLimitDescriptor.Entry.newBuilder().setKey(kv[i]).setValue(kv[i + 1]));
        }
        return d.build();
    }

    private RateLimitResponse ask(String domain, RateLimitDescriptor... descriptors) {
        return envoy.shouldRateLimit(RateLimitRequest.newBuilder().setDomain(domain).addAllDescriptors(List.of(descriptors)).build());
    }

    private RateLimitResponse.DescriptorStatus one(String domain, String... kv) {
        RateLimitResponse r = ask(domain, descriptor(kv));
        assertEquals(1, r.getStatusesCount());
        return r.getStatuses(0);
    }

    private static String fresh() {
        return UUID.randomUUID().toString();
    }

    @Test
    void eachDescriptorGetsTheLimitItsPathLeadsTo() {
        start();
        RateLimitResponse.DescriptorStatus none = one("test-domain", "key1", "something");
        assertEquals(Code.OK, none.getCode());
        assertFalse(none.hasCurrentLimit());
        assertEquals(0, none.getLimitRemaining());
        assertFalse(one("test-domain", "key1", "value1").hasCurrentLimit());
        assertFalse(one("test-domain", "key2", "value2", "subkey", "subvalue").hasCurrentLimit());
        assertFalse(one("test-domain", "key2", "value3").hasCurrentLimit());
        assertFalse(one("nowhere", "key2", "x").hasCurrentLimit(), "an unknown domain limits nothing");

        RateLimitResponse.RateLimit five = one("test-domain", "key1", "value1", "subkey1", fresh()).getCurrentLimit();
        assertEquals(5, five.getRequestsPerUnit());
        assertEquals(RateLimitResponse.RateLimit.Unit.SECOND, five.getUnit());
        assertEquals(10, one("test-domain", "key1", "value1", "subkey1", "subvalue1").getCurrentLimit().getRequestsPerUnit());
        assertEquals(30, one("test-domain", "key2", "value2").getCurrentLimit().getRequestsPerUnit());
        RateLimitResponse.RateLimit hour = one("test-domain", "key3", fresh()).getCurrentLimit();
        assertEquals(RateLimitResponse.RateLimit.Unit.HOUR, hour.getUnit());
        assertEquals("", hour.getName());
        assertEquals("key4_rate_limit", one("test-domain", "key4", fresh()).getCurrentLimit().getName());

        RateLimitResponse.DescriptorStatus unlimited = one("test-domain", "key6", "foo");
        assertEquals(Code.OK, unlimited.getCode());
        assertFalse(unlimited.hasCurrentLimit());
        assertEquals(4_294_967_295L, Integer.toUnsignedLong(unlimited.getLimitRemaining()));
    }

    @Test
    void aLimitOfNCountsNThenRefusesWithTheTimeToTheWindowsEnd() {
        start();
        String user = fresh();
        for (int i = 0; i < 25; i++) {
            RateLimitResponse r = ask("test-domain", descriptor("key2", user));
            RateLimitResponse.DescriptorStatus s = r.getStatuses(0);
            assertEquals(20, s.getCurrentLimit().getRequestsPerUnit());
            assertEquals(RateLimitResponse.RateLimit.Unit.MINUTE, s.getCurrentLimit().getUnit());
            assertEquals(i < 20 ? Code.OK : Code.OVER_LIMIT, s.getCode(), "call " + i);
            assertEquals(i < 20 ? Code.OK : Code.OVER_LIMIT, r.getOverallCode());
            assertEquals(i < 20 ? 19 - i : 0, s.getLimitRemaining(), "call " + i);
            assertEquals(58, s.getDurationUntilReset().getSeconds(), "2222 s is 2 s into its minute");
        }
        clock.advance(Duration.ofSeconds(58));
        assertEquals(19, one("test-domain", "key2", user).getLimitRemaining(), "a new minute, a new count");
    }

    @Test
    void descriptorsCountOnTheirOwnAndAnOverLimitOneGivesNothingBack() {
        start();
        String r = fresh();
        for (int i = 0; i < 15; i++) {
            RateLimitResponse resp = ask("test-domain", descriptor("key2", r), descriptor("key8", r));
            assertEquals(Code.OK, resp.getStatuses(0).getCode());
            assertEquals(19 - i, resp.getStatuses(0).getLimitRemaining(), "the other descriptor's refusals take nothing back");
            assertEquals(i < 10 ? Code.OK : Code.OVER_LIMIT, resp.getStatuses(1).getCode());
            assertEquals(i < 10 ? 9 - i : 0, resp.getStatuses(1).getLimitRemaining());
            assertEquals(i < 10 ? Code.OK : Code.OVER_LIMIT, resp.getOverallCode());
        }
    }

    @Test
    void hitsAreTheRequestsOrTheDescriptorsAndZeroAsksWithoutCounting() {
        start();
        String u = fresh();
        RateLimitResponse three = envoy.shouldRateLimit(RateLimitRequest.newBuilder().setDomain("test-domain").setHitsAddend(3)
                .addDescriptors(descriptor("key2", u)).build());
        assertEquals(17, three.getStatuses(0).getLimitRemaining());
        RateLimitDescriptor ownHits = descriptor("key2", u).toBuilder().setHitsAddend(com.google.protobuf.UInt64Value.of(18)).build();
        RateLimitResponse over = envoy.shouldRateLimit(RateLimitRequest.newBuilder().setDomain("test-domain").setHitsAddend(3)
                .addDescriptors(ownHits).build());
        assertEquals(Code.OVER_LIMIT, over.getStatuses(0).getCode(), "the descriptor's 18, not the request's 3: 3 + 18 > 20");
        RateLimitDescriptor ask = descriptor("key2", u).toBuilder().setHitsAddend(com.google.protobuf.UInt64Value.of(0)).build();
        assertEquals(Code.OVER_LIMIT, envoy.shouldRateLimit(RateLimitRequest.newBuilder().setDomain("test-domain").addDescriptors(ask).build())
                .getStatuses(0).getCode(), "the refused 18 were counted: 21 > 20, and a check of zero hits says so");
        String v = fresh();
        RateLimitResponse.DescriptorStatus check = envoy.shouldRateLimit(RateLimitRequest.newBuilder().setDomain("test-domain")
                .addDescriptors(descriptor("key2", v).toBuilder().setHitsAddend(com.google.protobuf.UInt64Value.of(0))).build())
                .getStatuses(0);
        assertEquals(Code.OK, check.getCode());
        assertEquals(20, check.getLimitRemaining(), "nothing taken");
        assertEquals(19, one("test-domain", "key2", v).getLimitRemaining());
    }

    @Test
    void zeroRequestsPerUnitRefusesEveryRequest() {
        start();
        for (int i = 0; i < 3; i++) {
            RateLimitResponse.DescriptorStatus s = one("test-domain", "banned", "anyone");
            assertEquals(Code.OVER_LIMIT, s.getCode());
            assertEquals(0, s.getLimitRemaining());
        }
    }

    @Test
    void aDescriptorsOwnLimitIsUsedInsteadOfTheConfigurationsWhenItsDomainExists() {
        start();
        RateLimitDescriptor d = descriptor("key1", "value1", "subkey1", fresh()).toBuilder()
                .setLimit(RateLimitDescriptor.RateLimitOverride.newBuilder().setRequestsPerUnit(2).setUnit(RateLimitUnit.DAY)).build();
        RateLimitResponse r = ask("test-domain", d);
        assertEquals(2, r.getStatuses(0).getCurrentLimit().getRequestsPerUnit());
        assertEquals(RateLimitResponse.RateLimit.Unit.DAY, r.getStatuses(0).getCurrentLimit().getUnit());
        assertEquals("", r.getStatuses(0).getCurrentLimit().getName());
        assertEquals(1, r.getStatuses(0).getLimitRemaining());
        ask("test-domain", d);
        assertEquals(Code.OVER_LIMIT, ask("test-domain", d).getOverallCode());
        RateLimitDescriptor unmatched = descriptor("no-rule", "x").toBuilder()
                .setLimit(RateLimitDescriptor.RateLimitOverride.newBuilder().setRequestsPerUnit(1).setUnit(RateLimitUnit.HOUR)).build();
        assertTrue(ask("test-domain", unmatched).getStatuses(0).hasCurrentLimit(), "no rule needs to match");
        assertFalse(ask("nowhere", unmatched).getStatuses(0).hasCurrentLimit(), "but the domain must exist");
        StatusRuntimeException unknownUnit = assertThrows(StatusRuntimeException.class, () -> ask("test-domain", descriptor("k", "v")
                .toBuilder().setLimit(RateLimitDescriptor.RateLimitOverride.newBuilder().setRequestsPerUnit(1)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, unknownUnit.getStatus().getCode());
        assertTrue(unknownUnit.getStatus().getDescription().startsWith("descriptors[0].limit.unit:"));
    }

    @Test
    void aReplacedLimitIsNeitherAppliedNorCounted() {
        start();
        String user = fresh();
        for (int i = 0; i < 4; i++) {
            RateLimitResponse r = ask("replaces", descriptor("category", "account"), descriptor("user", user), descriptor("route", "r1"));
            assertEquals(Code.OK, r.getOverallCode(), "call " + i);
            assertEquals(3 - i, r.getStatuses(0).getLimitRemaining());
            assertFalse(r.getStatuses(1).hasCurrentLimit(), "per-user is replaced");
            assertFalse(r.getStatuses(2).hasCurrentLimit(), "per-route is replaced");
        }
        assertEquals(Code.OVER_LIMIT, ask("replaces", descriptor("category", "account"), descriptor("user", user)).getOverallCode());
        assertEquals(1, one("replaces", "user", user).getLimitRemaining(), "per-user was never counted while replaced");
        assertEquals(Code.OVER_LIMIT, ask("replaces", descriptor("user", user), descriptor("user", user)).getStatuses(1).getCode(),
                "two identical descriptors count twice");
        // A descriptor that ends on an entry with a limit gets it, though the entry has children.
        assertEquals(3, one("replaces", "parent", fresh()).getCurrentLimit().getRequestsPerUnit());
        assertEquals(1, one("replaces", "parent", fresh(), "child", "c").getCurrentLimit().getRequestsPerUnit());
    }

    @Test
    void aShadowLimitCountsAndNeverRefuses() {
        start();
        for (int i = 0; i < 5; i++) {
            RateLimitResponse r = ask("test-domain", descriptor("shady", "x"));
            assertEquals(Code.OK, r.getOverallCode());
            assertEquals(Code.OK, r.getStatuses(0).getCode());
            assertEquals(Math.max(0, 2 - i), r.getStatuses(0).getLimitRemaining());
            assertEquals(3, r.getStatuses(0).getCurrentLimit().getRequestsPerUnit());
        }
    }

    @Test
    void theGlobalShadowSwitchMakesTheOverallCodeOkAndKeepsEachDescriptorsOwn() {
        start(EnvoyConfigLoaderTest.resources("conformance"), false, true);
        RateLimitResponse r = ask("test-domain", descriptor("banned", "x"), descriptor("key2", fresh()));
        assertEquals(Code.OK, r.getOverallCode());
        assertEquals(Code.OVER_LIMIT, r.getStatuses(0).getCode());
        assertEquals(Code.OK, r.getStatuses(1).getCode());
    }

    @Test
    void responseHeadersDescribeTheDescriptorOverOrNearestItsLimit() {
        start(EnvoyConfigLoaderTest.resources("conformance"), true, false);
        String u = fresh();
        RateLimitResponse ok = ask("test-domain", descriptor("key2", u), descriptor("key3", u), descriptor("key6", "x"));
        Map<String, String> h = ok.getResponseHeadersToAddList().stream()
                .collect(Collectors.toMap(x -> x.getKey(), x -> x.getValue()));
        assertEquals(Map.of("RateLimit-Limit", "1", "RateLimit-Remaining", "0", "RateLimit-Reset", "1378"), h,
                "key3 (1 an hour, 0 left) is nearest its limit; 3600 - 2222 s to the hour's end");
        RateLimitResponse over = ask("test-domain", descriptor("key3", u), descriptor("key2", u));
        Map<String, String> o = over.getResponseHeadersToAddList().stream()
                .collect(Collectors.toMap(x -> x.getKey(), x -> x.getValue()));
        assertEquals("1", o.get("RateLimit-Limit"), "the descriptor over its limit");
        assertEquals("0", o.get("RateLimit-Remaining"));
        assertTrue(ask("test-domain", descriptor("key1", "nothing")).getResponseHeadersToAddList().isEmpty(), "no limit, no headers");
    }

    @Test
    void theHeadersMayBeNamedAsTheGatewayExpectsThem() {
        start(EnvoyConfigLoaderTest.resources("conformance"), true, false, "X-RateLimit-Limit,X-RateLimit-Remaining,X-RateLimit-Reset");
        Map<String, String> h = ask("test-domain", descriptor("key3", fresh())).getResponseHeadersToAddList().stream()
                .collect(Collectors.toMap(x -> x.getKey(), x -> x.getValue()));
        assertEquals(Map.of("X-RateLimit-Limit", "1", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1378"), h);
    }

    @Test
    void aDomainMayAnswerInSluicesIetfDialectOrWithNoHeadersAtAll() {
        start(EnvoyConfigLoaderTest.resources("conformance"), true, false);
        String u = fresh();
        RateLimitResponse r = ask("dialect", descriptor("user", u), descriptor("tenant", u), descriptor("trial", u), descriptor("none", u));
        Map<String, String> h = r.getResponseHeadersToAddList().stream().collect(Collectors.toMap(x -> x.getKey(), x -> x.getValue()));
        // Minutes end 58 s after 2222 s, hours 1378 s after; the shadow limit and the unmatched descriptor say nothing.
        assertEquals(Map.of("RateLimit-Policy", "\"per-user\";q=3;w=60, \"tenant\";q=100;w=3600",
                "RateLimit", "\"per-user\";r=2;t=58, \"tenant\";r=99;t=1378"), h);
        ask("dialect", descriptor("user", u));
        ask("dialect", descriptor("user", u));
        RateLimitResponse over = ask("dialect", descriptor("user", u));
        assertEquals(Code.OVER_LIMIT, over.getOverallCode());
        assertEquals("\"per-user\";r=0;t=58", over.getResponseHeadersToAddList().stream()
                .filter(x -> x.getKey().equals("RateLimit")).findFirst().orElseThrow().getValue());
        assertTrue(ask("quiet", descriptor("user", u)).getResponseHeadersToAddList().isEmpty(),
                "response_headers: none wins over --envoy-response-headers");
    }

    @Test
    void badRequestsAreInvalidArgumentNamingTheField() {
        start();
        StatusRuntimeException noDomain = assertThrows(StatusRuntimeException.class, () -> ask("", descriptor("k", "v")));
        assertEquals(Status.Code.INVALID_ARGUMENT, noDomain.getStatus().getCode());
        assertEquals("domain: rate limit domain must not be empty", noDomain.getStatus().getDescription());
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class, () -> ask("test-domain"));
        assertEquals("descriptors: rate limit descriptor list must not be empty", none.getStatus().getDescription());
    }

    @Test
    void sluicesExtensionsOtherAlgorithmsAnyWindowAndAllOrNothing() {
        start();
        // all_or_nothing: b refuses, so a takes nothing.
        assertEquals(Code.OK, ask("extensions", descriptor("a", "1"), descriptor("b", "1")).getOverallCode());
        RateLimitResponse second = ask("extensions", descriptor("a", "1"), descriptor("b", "1"));
        assertEquals(Code.OVER_LIMIT, second.getOverallCode());
        assertEquals(Code.OVER_LIMIT, second.getStatuses(1).getCode());
        assertEquals(3, one("extensions", "a", "1").getLimitRemaining(), "a took one for the first request and this one, none for the second");
        // A token bucket of 2 a second refills between calls; a fixed window would not until the second ends.
        assertEquals(Code.OK, one("extensions", "tb", "x").getCode());
        assertEquals(Code.OK, one("extensions", "tb", "x").getCode());
        assertEquals(Code.OVER_LIMIT, one("extensions", "tb", "x").getCode());
        clock.advance(Duration.ofMillis(500));
        assertEquals(Code.OK, one("extensions", "tb", "x").getCode(), "a token came back in half a second");
        // A window of 30 s, though the unit is a second.
        RateLimitResponse.DescriptorStatus thirty = one("extensions", "thirty", "x");
        assertTrue(thirty.getDurationUntilReset().getSeconds() <= 30 && thirty.getDurationUntilReset().getSeconds() > 1, thirty.toString());
        // Calendars in a zone: 2222 s after the epoch is 01:37:02 in Berlin (UTC+1), whose day ends at 23:00 UTC
        // and whose January ends at 31 days less an hour; the epoch's own day and 30-day month would end later and earlier.
        RateLimitResponse.DescriptorStatus day = one("extensions", "berlin_day", "x");
        assertEquals(82_800 - 2222, day.getDurationUntilReset().getSeconds());
        assertEquals(RateLimitResponse.RateLimit.Unit.DAY, day.getCurrentLimit().getUnit());
        assertEquals(31 * 86_400 - 3_600 - 2222, one("extensions", "berlin_month", "x").getDurationUntilReset().getSeconds());
        one("extensions", "berlin_day", "x");
        assertEquals(Code.OVER_LIMIT, one("extensions", "berlin_day", "x").getCode());
        clock.advance(Duration.ofSeconds(82_800 - 2222));
        assertEquals(Code.OK, one("extensions", "berlin_day", "x").getCode(), "a new day in Berlin");
    }

    @Test
    void detailedMetricsCarryTheRequestsKeyAndOthersThePolicysNames() {
        start();
        one("test-domain", "key7", "unspecified_value");
        one("test-domain", "key2", fresh());
        Scrape s = Scrape.of(node.metricsPort());
        assertEquals(1, s.sum("sluice_limit_decisions_total", "domain", "test-domain", "label", "test-domain.key7_unspecified_value"));
        assertEquals(1, s.sum("sluice_limit_decisions_total", "domain", "test-domain", "rule", "key2", "label", ""));
        assertEquals(2, s.sum("sluice_rpc_duration_seconds_count", "rpc", "ShouldRateLimit"));
    }

    @Test
    void aChangedConfigurationIsPickedUpAndAnInvalidOneRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("api.yaml"), "domain: api\ndescriptors:\n  - key: user\n    rate_limit: {unit: minute, requests_per_unit: 5}\n");
        start(dir, false, false);
        assertEquals(5, one("api", "user", "u").getCurrentLimit().getRequestsPerUnit());
        Files.writeString(dir.resolve("api.yaml"), "domain: api\ndescriptors:\n  - key: user\n    rate_limit: {unit: minute, requests_per_unit: 50}\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> one("api", "user", "u").getCurrentLimit().getRequestsPerUnit() == 50);
        String version = node.envoyConfig().version();
        Files.writeString(dir.resolve("api.yaml"), "domain: api\ndescriptors:\n  - key: user\n    rate_limit: {unit: fortnight, requests_per_unit: 5}\n");
        Files.writeString(dir.resolve("other.yaml"), "domain: other\ndescriptors:\n");
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> node.envoyConfig().version().equals(version));
        assertEquals(50, one("api", "user", "u").getCurrentLimit().getRequestsPerUnit(), "the invalid change is refused whole");
    }
}
