package dev.sluice.server.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line and environment, read from the one table of settings; and the builder, checked the same way. */
class CommandLineSettingsTest {

    private static NodeSettings parse(Map<String, String> env, String... args) throws SettingsException {
        return CommandLineSettings.parse(args, env).settings();
    }

    @Test
    void noArgumentsGiveTheEmbeddedDefault() throws SettingsException {
        NodeSettings s = parse(Map.of());
        assertEquals(8081, s.port());
        assertEquals(5701, s.memberPort());
        assertEquals(List.of(), s.members());
        assertNull(s.policiesFile());
        assertNull(s.memberHost());
    }

    @Test
    void everyFlagHasAnEnvironmentVariableAndTheFlagWins(@TempDir Path dir) throws Exception {
        Path policies = Files.writeString(dir.resolve("p.yaml"), "domains: {}");
        Path secret = Files.writeString(dir.resolve("secret"), "0123456789abcdef0123456789abcdef");
        NodeSettings fromEnv = parse(Map.of("SLUICE_PORT", "9000", "SLUICE_MEMBER_PORT", "5800",
                "SLUICE_MEMBERS", "10.0.0.1:5701, 10.0.0.2:5701", "SLUICE_POLICIES", policies.toString(),
                "SLUICE_SHUTDOWN_GRACE", "30s", "SLUICE_CLUSTER_SECRET_FILE", secret.toString()));
        assertEquals(secret, fromEnv.clusterSecretFile());
        assertEquals(9000, fromEnv.port());
        assertEquals(5800, fromEnv.memberPort());
        assertEquals(List.of("10.0.0.1:5701", "10.0.0.2:5701"), fromEnv.members());
        assertEquals(policies, fromEnv.policiesFile());
        assertEquals(Duration.ofSeconds(30), fromEnv.shutdownGrace());

        NodeSettings flagWins = parse(Map.of("SLUICE_PORT", "9000"), "--port", "9100");
        assertEquals(9100, flagWins.port());
        assertEquals(9200, parse(Map.of(), "--port=9200").port());
        for (Setting<?> o : Settings.commandLine()) {
            assertTrue(o.env().startsWith("SLUICE_"), o.flag());
        }
    }

    @Test
    void badPortIsOneLineNamingTheFlag() {
        SettingsException e = assertThrows(SettingsException.class, () -> parse(Map.of(), "--port", "eighty"));
        assertEquals("--port: 'eighty' is not a port number", e.getMessage());
    }

    @Test
    void badEnvironmentValueNamesTheVariable() {
        SettingsException e = assertThrows(SettingsException.class, () -> parse(Map.of("SLUICE_MEMBER_PORT", "70000")));
        assertEquals("SLUICE_MEMBER_PORT: '70000' is not a port number (1-65535)", e.getMessage());
    }

    @Test
    void flagsAndPoliciesShareOneDurationGrammar() throws SettingsException {
        assertEquals(Duration.ofMinutes(1), parse(Map.of(), "--drain-delay", "1m").drainDelay());
        assertEquals(Duration.ofSeconds(90), parse(Map.of(), "--shutdown-grace", "1m30s").shutdownGrace());
        assertEquals(Duration.ofMillis(1500), parse(Map.of("SLUICE_POLICY_RELOAD_INTERVAL", "PT1.5S")).policyReloadInterval());
        assertEquals("--drain-delay: '1 m' is not a duration; write a number and a unit: ns, us, ms, s, m, h or d (e.g. 500ms, 10s, 1m)",
                assertThrows(SettingsException.class, () -> parse(Map.of(), "--drain-delay", "1 m")).getMessage());
        assertEquals("--drain-delay: '-PT1S' must not be negative",
                assertThrows(SettingsException.class, () -> parse(Map.of(), "--drain-delay", "-PT1S")).getMessage());
    }

    @Test
    void theBuilderChecksEachValueAsTheCommandLineDoesAndNamesTheOption() {
        assertEquals("--drain-delay: -1s must not be negative", assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.builder().drainDelay(Duration.ofSeconds(-1))).getMessage());
        assertEquals("--max-in-flight: 0 must be positive", assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.builder().maxInFlight(0)).getMessage());
        assertEquals("--member-port: 0 is not a port number (1-65535)", assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.builder().memberPort(0)).getMessage());
        assertEquals("--log-level: loud is not a log level (error, warn, info, debug)", assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.builder().logLevel("loud")).getMessage());
        assertEquals(0, NodeSettings.builder().port(0).build().port(), "port 0 picks a free one");
    }

    @Test
    void settingsMadeInCodeOnlyHaveNoFlag() {
        assertFalse(Settings.CLOCK.onCommandLine());
        assertFalse(CommandLineSettings.usage().contains("--clock"));
        assertTrue(CommandLineSettings.usage().contains("--hazelcast-internals"));
    }

    @Test
    void theReadmeTableOfOptionsIsTheTableOfSettings() throws Exception {
        Path readme = Path.of(System.getProperty("maven.multiModuleProjectDirectory", "..")).resolve("README.md");
        if (!Files.exists(readme)) {
            readme = Path.of("..", "README.md");
        }
        String text = Files.readString(readme);
        assertTrue(text.contains(Settings.markdownTable()),
                "README.md's option table must read, as Settings.markdownTable() writes it:\n" + Settings.markdownTable());
    }

    @Test
    void requestMemoryDefaultsToTenSecondsAndMustBePositive() throws SettingsException {
        assertEquals(Duration.ofSeconds(10), parse(Map.of()).requestMemory());
        assertEquals(Duration.ofSeconds(45), parse(Map.of("SLUICE_REQUEST_MEMORY", "45s")).requestMemory());
        assertEquals("--request-memory: '0' must be longer than zero",
                assertThrows(SettingsException.class, () -> parse(Map.of(), "--request-memory", "0")).getMessage());
    }

    @Test
    void memberWithoutPortIsRejected() {
        SettingsException e = assertThrows(SettingsException.class, () -> parse(Map.of(), "--members", "10.0.0.1"));
        assertEquals("--members: '10.0.0.1' is not host:port", e.getMessage());
        assertEquals("--members: '10.0.0.1:x': 'x' is not a port number (1-65535)",
                assertThrows(SettingsException.class, () -> parse(Map.of(), "--members", "10.0.0.1:x")).getMessage());
    }

    @Test
    void missingPolicyFileIsRejectedBeforeStart() {
        SettingsException e = assertThrows(SettingsException.class, () -> parse(Map.of(), "--policies", "/no/such/file.yaml"));
        assertTrue(e.getMessage().startsWith("--policies: no policy file at"), e.getMessage());
    }

    @Test
    void unknownOptionAndMissingValueAreRejected() {
        assertEquals("unknown option --prot; see --help",
                assertThrows(SettingsException.class, () -> parse(Map.of(), "--prot", "1")).getMessage());
        assertEquals("--port: needs a value (PORT)",
                assertThrows(SettingsException.class, () -> parse(Map.of(), "--port")).getMessage());
    }

    @Test
    void kubernetesDiscoveryIsByDnsOrByTheApiAndExcludesAStaticList(@TempDir Path dir) throws Exception {
        String secret = Files.writeString(dir.resolve("secret"), "0123456789abcdef0123456789abcdef").toString();
        NodeSettings dns = parse(Map.of("SLUICE_KUBERNETES_SERVICE_DNS", "sluice-members.default.svc.cluster.local",
                "SLUICE_CLUSTER_SECRET_FILE", secret));
        assertTrue(dns.kubernetesDiscovery());
        var join = MemberConfig.of(dns).getAdvancedNetworkConfig().getJoin();
        assertTrue(join.getKubernetesConfig().isEnabled());
        assertFalse(join.getTcpIpConfig().isEnabled());
        assertEquals("sluice-members.default.svc.cluster.local", join.getKubernetesConfig().getProperty("service-dns"));
        assertEquals("5701", join.getKubernetesConfig().getProperty("service-port"));

        NodeSettings api = parse(Map.of("SLUICE_CLUSTER_SECRET_FILE", secret), "--kubernetes-service-name", "sluice-members",
                "--kubernetes-namespace", "limits");
        var apiJoin = MemberConfig.of(api).getAdvancedNetworkConfig().getJoin();
        assertEquals("sluice-members", apiJoin.getKubernetesConfig().getProperty("service-name"));
        assertEquals("limits", apiJoin.getKubernetesConfig().getProperty("namespace"));

        assertEquals("a static member list and Kubernetes discovery exclude each other", assertThrows(SettingsException.class,
                () -> parse(Map.of(), "--members", "a:5701", "--kubernetes-service-dns", "x")).getMessage());
        assertEquals("Kubernetes discovery is by DNS or by the API, not both", assertThrows(SettingsException.class,
                () -> parse(Map.of(), "--kubernetes-service-name", "a", "--kubernetes-service-dns", "x")).getMessage());
    }

    @Test
    void envoyHeaderNamesAreThreeHeaderNames() throws SettingsException {
        assertEquals(List.of("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"), parse(Map.of()).envoyHeaderNames());
        assertEquals(List.of("X-A", "X-B", "X-C"), parse(Map.of("SLUICE_ENVOY_HEADER_NAMES", "X-A,X-B,X-C")).envoyHeaderNames());
        assertEquals("--envoy-header-names: 'X-A,X-B' must be three header names separated by commas (limit, remaining, reset), got 2",
                assertThrows(SettingsException.class, () -> parse(Map.of(), "--envoy-header-names", "X-A,X-B")).getMessage());
        assertEquals("--envoy-header-names: 'X-A,X B,X-C' 'X B' is not a header name",
                assertThrows(SettingsException.class, () -> parse(Map.of(), "--envoy-header-names", "X-A,X B,X-C")).getMessage());
    }

    @Test
    void failureDetectionIsTunedAndAMemberTimeoutMustOutlastAHeartbeat() throws SettingsException {
        var defaults = MemberConfig.of(parse(Map.of()));
        assertEquals("1", defaults.getProperty("hazelcast.heartbeat.interval.seconds"));
        assertEquals("10", defaults.getProperty("hazelcast.max.no.heartbeat.seconds"));
        assertEquals("30", defaults.getProperty("hazelcast.merge.next.run.delay.seconds"));
        var tuned = MemberConfig.of(parse(Map.of("SLUICE_MEMBER_TIMEOUT", "4s"), "--heartbeat-interval", "2s", "--merge-interval", "5s"));
        assertEquals("2", tuned.getProperty("hazelcast.heartbeat.interval.seconds"));
        assertEquals("4", tuned.getProperty("hazelcast.max.no.heartbeat.seconds"));
        assertEquals("5", tuned.getProperty("hazelcast.merge.first.run.delay.seconds"));
        assertEquals("--member-timeout: '1500ms' must be whole seconds",
                assertThrows(SettingsException.class, () -> parse(Map.of(), "--member-timeout", "1500ms")).getMessage());
        assertEquals("--member-timeout (2s) must be longer than --heartbeat-interval (2s): a member would be taken for gone between"
                + " two heartbeats", assertThrows(SettingsException.class,
                        () -> parse(Map.of(), "--member-timeout", "2s", "--heartbeat-interval", "2s")).getMessage());
    }

    @Test
    void minimumClusterSizeProtectsTheBucketMap() throws SettingsException {
        NodeSettings s = parse(Map.of(), "--min-cluster-size", "2");
        var config = MemberConfig.of(s);
        assertEquals(2, config.getSplitBrainProtectionConfig(MemberConfig.MINIMUM_SIZE_PROTECTION)
                .getMinimumClusterSize());
        assertEquals(MemberConfig.MINIMUM_SIZE_PROTECTION,
                config.getMapConfig(dev.sluice.server.store.BucketStore.MAP_NAME).getSplitBrainProtectionName());
        assertEquals(dev.sluice.server.store.MostConsumedMergePolicy.class.getName(),
                config.getMapConfig(dev.sluice.server.store.BucketStore.MAP_NAME).getMergePolicyConfig().getPolicy());
    }

    @Test
    void helpListsEveryOptionWithItsVariable() throws SettingsException {
        assertTrue(CommandLineSettings.parse(new String[] {"--help"}, Map.of()).help());
        String usage = CommandLineSettings.usage();
        for (Setting<?> o : Settings.commandLine()) {
            assertTrue(usage.contains(o.flag()) && usage.contains(o.env()), o.flag());
        }
    }

    @Test
    void mainPrintsOneLineAndExitsTwoOnABadValue() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(new String[] {"--max-in-flight", "0"});
        } finally {
            System.setErr(err);
        }
        assertEquals(2, code);
        String out = captured.toString(StandardCharsets.UTF_8);
        assertEquals("sluice: --max-in-flight: '0' must be positive\n", out);
        assertFalse(out.contains("Exception"));
    }

    @Test
    void mainRefusesAnInvalidPolicyFileWithFileAndLine(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "domains:\n  demo:\n    rules:\n      - name: r\n        limits: []\n");
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(new String[] {"--policies", bad.toString()});
        } finally {
            System.setErr(err);
        }
        assertEquals(2, code);
        String out = captured.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains(bad + ":5: domains.demo.rules[0].limits: must be a non-empty list of limits"), out);
    }

    @Test
    void aMemberReachableFromOtherHostsNeedsAClusterSecret(@TempDir Path dir) throws Exception {
        SettingsException e = assertThrows(SettingsException.class, () -> parse(Map.of(), "--member-host", "10.1.2.3"));
        assertTrue(e.getMessage().contains("--cluster-secret-file") && e.getMessage().contains("openssl rand"), e.getMessage());
        assertThrows(SettingsException.class, () -> parse(Map.of("SLUICE_KUBERNETES_SERVICE_DNS", "sluice-members.default.svc")));
        assertThrows(SettingsException.class, () -> parse(Map.of(), "--members", "127.0.0.1:5701,10.0.0.9:5701"));
        assertNull(parse(Map.of(), "--members", "127.0.0.1:5701,127.0.0.1:5702", "--member-host", "127.0.0.1").clusterSecretFile(),
                "loopback alone needs none");
        assertThrows(SettingsException.class, () -> parse(Map.of(), "--members", "127.0.0.1:5701,127.0.0.1:5702"),
                "without a member host, Hazelcast picks an address that may not be loopback");

        Path placeholder = Files.writeString(dir.resolve("placeholder"), "REPLACE-ME with a secret of your own");
        assertTrue(assertThrows(SettingsException.class, () -> parse(Map.of(), "--member-host", "10.1.2.3", "--cluster-secret-file",
                placeholder.toString())).getMessage().contains("placeholder"));
        Path shortOne = Files.writeString(dir.resolve("short"), "hunter2");
        assertTrue(assertThrows(SettingsException.class, () -> parse(Map.of(), "--cluster-secret-file", shortOne.toString()))
                .getMessage().contains("at least 16"));
        Path good = Files.writeString(dir.resolve("good"), "1f3a5c7e9b2d4f6a8c0e1a3b5d7f9e2c\n");
        NodeSettings s = parse(Map.of(), "--member-host", "10.1.2.3", "--cluster-secret-file", good.toString());
        String derived = MemberConfig.of(s).getClusterName();
        assertTrue(derived.startsWith("sluice-") && !derived.contains("1f3a5c"), "derived from the secret, which it does not show: " + derived);
        assertEquals(derived, MemberConfig.of(s).getClusterName(), "every member with the secret derives the same name");
    }

    @Test
    void tlsSettingsGoTogether(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("x.pem"), "x");
        assertTrue(assertThrows(SettingsException.class, () -> parse(Map.of(), "--tls-cert", f.toString())).getMessage()
                .contains("--tls-cert and --tls-key go together"));
        assertTrue(assertThrows(SettingsException.class, () -> parse(Map.of(), "--tls-client-ca", f.toString())).getMessage()
                .contains("--tls-client-ca"));
    }

    @Test
    void checkPoliciesReportsEveryProblemAndExitsNonZeroWithoutStartingANode(@TempDir Path dir) throws Exception {
        Path good = Files.writeString(dir.resolve("good.yaml"), """
                domains:
                  d:
                    rules: [{name: r, limits: [{name: l, algorithm: token_bucket, capacity: 5, refill: 1, key: [k]}]}]
                """);
        Path bad = Files.writeString(dir.resolve("bad.yaml"), """
                domains:
                  d:
                    defaults: {tier: BASE, tier: GOLD}
                    rules: [{name: r, limits: [{name: l, algorithm: token_bucket, capacity: "5", refill: 1, key: [k]}]}]
                """);
        PrintStream out = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        int allGood;
        int oneBad;
        try {
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            allGood = Main.run(new String[] {"--check-policies", good.toString()});
            oneBad = Main.run(new String[] {"--check-policies", good.toString(), bad.toString(), dir.resolve("missing.yaml").toString()});
        } finally {
            System.setOut(out);
        }
        String report = printed.toString(StandardCharsets.UTF_8);
        assertEquals(0, allGood, report);
        assertEquals(1, oneBad, report);
        assertTrue(report.contains(good + ": valid (version "), report);
        assertTrue(report.contains(bad + ": 2 problem(s):"), report);
        assertTrue(report.contains(bad + ":3: domains.d.defaults.tier: 'tier' is given twice"), report);
        assertTrue(report.contains(bad + ":4: domains.d.rules[0].limits[0].capacity: '5' is in quotes"), report);
        assertTrue(report.contains("missing.yaml: cannot be read"), report);
    }
}
