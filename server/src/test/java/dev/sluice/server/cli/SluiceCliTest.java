package dev.sluice.server.cli;

import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code sluice} command line's main, run as a user runs it: files on disk, a node on a real socket. */
class SluiceCliTest {

    private static final String POLICY = """
            domains:
              api:
                rules:
                  - name: per-user
                    limits:
                      - {name: per-second, algorithm: token_bucket, capacity: 2, refill: 2, refill_period: 1s, key: [user]}
                      - {name: per-day, algorithm: fixed_window, limit: 1000, window: 1d, key: [user]}
                  - name: per-ip
                    limits: [{name: per-ip, algorithm: token_bucket, capacity: 100, refill: 100, key: [ip]}]
            """;

    @TempDir
    Path dir;

    private record Ran(int exit, String out, String err) {
    }

    private static Ran sluice(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Sluice.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Ran(exit, out.toString(), err.toString());
    }

    @Test
    void policyCheckPassesAValidFileAndNamesEveryProblemOfAnInvalidOneWithItsLine() throws IOException {
        Path good = Files.writeString(dir.resolve("good.yaml"), POLICY);
        Path bad = Files.writeString(dir.resolve("bad.yaml"), """
                domains:
                  api:
                    rules:
                      - name: r
                        limits:
                          - {name: a, algorithm: token_bucket, capacity: -1, refill: 1, key: [user]}
                          - {name: b, algorithm: no_such_thing, limit: 5, key: [user]}
                """);

        Ran ok = sluice("policy", "check", good.toString());
        assertEquals(0, ok.exit, ok.out + ok.err);
        assertTrue(ok.out.contains(good + ": valid"), ok.out);

        Ran both = sluice("policy", "check", good.toString(), bad.toString(), dir.resolve("missing.yaml").toString());
        assertEquals(1, both.exit, both.out);
        assertTrue(both.out.contains(bad + ":6: "), "the capacity's line: " + both.out);
        assertTrue(both.out.contains("capacity"), both.out);
        assertTrue(both.out.contains(bad + ":7: "), "the algorithm's line: " + both.out);
        assertTrue(both.out.contains("no_such_thing"), both.out);
        assertTrue(both.out.contains("missing.yaml: cannot be read: no such file"), both.out);

        Ran json = sluice("policy", "check", "--output", "json", bad.toString());
        assertEquals(1, json.exit);
        assertTrue(json.out.startsWith("[{\"file\":\"" + bad + "\",\"valid\":false,\"problems\":[{\"line\":6,"), json.out);
    }

    @Test
    void policyDiffSaysWhatEachChangeDoesToTheBucketsHeld() throws IOException {
        Path before = Files.writeString(dir.resolve("before.yaml"), POLICY);
        Path after = Files.writeString(dir.resolve("after.yaml"), """
                domains:
                  api:
                    rules:
                      - name: per-user
                        limits:
                          - {name: per-second, algorithm: token_bucket, capacity: 5, refill: 5, refill_period: 1s, key: [user]}
                          - {name: per-day, algorithm: fixed_window, limit: 1000, window: 1d, key: [org]}
                          - {name: per-minute, algorithm: sliding_window, limit: 60, window: 1m, key: [user]}
                  admin:
                    rules:
                      - name: all
                        limits: [{name: all, algorithm: token_bucket, capacity: 1, refill: 1, key: [user]}]
                """);

        Ran diff = sluice("policy", "diff", before.toString(), after.toString());
        assertEquals(0, diff.exit, diff.err);
        String[] lines = diff.out.strip().split("\n");
        assertEquals(5, lines.length, diff.out);
        assertEquals("added domain admin [buckets new]", lines[0]);
        assertTrue(lines[1].startsWith("removed rule api/per-ip [buckets orphaned]"), diff.out);
        assertTrue(lines[2].startsWith("changed limit api/per-user/per-day: key [user] -> [org]") && lines[2].endsWith("[buckets reset]"), diff.out);
        assertTrue(lines[3].startsWith("added limit api/per-user/per-minute: sliding_window(limit=60"), diff.out);
        assertTrue(lines[4].startsWith("changed limit api/per-user/per-second: token_bucket(capacity=2") && lines[4].contains("capacity=5")
                && lines[4].endsWith("[buckets kept]"), diff.out);

        Ran same = sluice("policy", "diff", before.toString(), before.toString());
        assertEquals(0, same.exit);
        assertTrue(same.out.startsWith("no change"), same.out);

        Ran json = sluice("policy", "diff", "--output", "json", before.toString(), after.toString());
        assertTrue(json.out.contains("{\"change\":\"changed\",\"what\":\"limit\",\"name\":\"api/per-user/per-second\""), json.out);
        assertTrue(json.out.contains("\"buckets\":\"kept\"}"), json.out);

        Path bad = Files.writeString(dir.resolve("bad.yaml"), "domains: [");
        Ran broken = sluice("policy", "diff", before.toString(), bad.toString());
        assertEquals(1, broken.exit);
        assertTrue(broken.err.contains(bad.toString()), broken.err);
    }

    @Test
    void acquireAsksARealNodeAndAnswersWithTheDecisionsExitCode() throws IOException {
        try (SluiceNode node = TestNodes.single(TestNodes.uniqueCluster("cli"), ManualClock.fixed(), TestNodes.policies(POLICY))) {
            String target = "127.0.0.1:" + node.port();
            Ran first = sluice("acquire", "--target", target, "--domain", "api", "-d", "user=u1");
            assertEquals(0, first.exit, first.out + first.err);
            assertTrue(first.out.startsWith("allowed by " + target), first.out);
            assertTrue(first.out.contains("per-second"), first.out);
            assertEquals(0, sluice("acquire", "--target", target, "--domain", "api", "-d", "user=u1").exit);

            Ran third = sluice("acquire", "--target", target, "--domain", "api", "-d", "user=u1", "--output", "json");
            assertEquals(1, third.exit, third.out + third.err);
            assertTrue(third.out.startsWith("{\"node\":\"" + target + "\",\"decision\":\"denied\",\"http_status\":429"), third.out);

            Ran unknown = sluice("acquire", "--target", target, "--domain", "nope", "-d", "user=u1");
            assertEquals(2, unknown.exit);
            assertTrue(unknown.err.contains("NOT_FOUND"), unknown.err);

            int closed;
            try (ServerSocket s = new ServerSocket(0)) {
                closed = s.getLocalPort();
            }
            Ran failover = sluice("acquire", "--target", "127.0.0.1:" + closed + "," + target, "--domain", "api", "-d", "user=u2");
            assertEquals(0, failover.exit, "the next node answers: " + failover.err);
            Ran none = sluice("acquire", "--target", "127.0.0.1:" + closed, "--timeout", "500", "--domain", "api", "-d", "user=u2");
            assertEquals(3, none.exit);
            assertTrue(none.err.contains("no node answered: 127.0.0.1:" + closed + " (UNAVAILABLE"), none.err);
        }
    }

    @Test
    void policyReplayDecidesTheLogOnItsOwnClockAndCountsPerLimit() throws IOException {
        Path policy = Files.writeString(dir.resolve("replay.yaml"), """
                domains:
                  api:
                    rules:
                      - name: per-user
                        limits:
                          - {name: per-second, algorithm: token_bucket, capacity: 2, refill: 2, refill_period: 1s, key: [user]}
                          - {name: proposed, algorithm: fixed_window, limit: 3, window: 1m, key: [user], shadow: true}
                """);
        // u1: two allowed, the third denied at once; a second later the bucket has refilled two.
        // The shadow limit of 3 a minute counts u1's allowed requests only (the denied third consumed
        // nothing), so it would have denied the fifth: the fourth allowed one.
        Path log = Files.writeString(dir.resolve("requests.jsonl"), """
                {"time": "2026-12-01T10:00:00Z", "domain": "api", "descriptors": {"user": "u1"}}
                {"time": "2026-12-01T10:00:00.100Z", "domain": "api", "descriptors": {"user": "u1"}}
                {"time": "2026-12-01T10:00:00.200Z", "domain": "api", "descriptors": {"user": "u1"}, "cost": 1}

                {"time": 1796119201200, "domain": "api", "descriptors": {"user": "u1"}}
                {"time": "2026-12-01T10:00:01.100Z", "domain": "api", "descriptors": {"user": "u1"}}
                {"time": "2026-12-01T10:00:01.300Z", "domain": "api", "descriptors": {"user": "u2"}, "cost": 2}
                {"time": "2026-12-01T10:00:01.400Z", "domain": "nope", "descriptors": {"user": "u2"}}
                """);

        Ran replay = sluice("policy", "replay", "--policy", policy.toString(), log.toString());
        assertEquals(0, replay.exit, replay.out + replay.err);
        assertTrue(replay.out.startsWith("7 requests from 2026-12-01T10:00:00Z to 2026-12-01T10:00:01.400Z"), replay.out);
        assertTrue(replay.out.contains(": 5 allowed, 1 denied (1 lines earlier than the one before"), replay.out);
        assertTrue(replay.out.contains("refused 1: NOT_FOUND"), replay.out);

        Ran json = sluice("policy", "replay", "--policy", policy.toString(), "--output", "json", log.toString());
        assertEquals(0, json.exit, json.err);
        assertTrue(json.out.contains("{\"limit\":\"api/per-second\",\"allowed\":5,\"denied\":1}"), json.out);
        assertTrue(json.out.contains("{\"limit\":\"api/proposed\",\"allowed\":5,\"denied\":1}"), json.out);

        Path bad = Files.writeString(dir.resolve("bad.jsonl"), """
                {"time": "2026-12-01T10:00:00Z", "domain": "api", "descriptors": {"user": "u1"}}
                {"time": "yesterday", "domain": "api"}
                """);
        Ran broken = sluice("policy", "replay", "--policy", policy.toString(), bad.toString());
        assertEquals(1, broken.exit);
        assertTrue(broken.err.contains(bad + ":2: time: not an RFC 3339 instant"), broken.err);
        Ran notJson = sluice("policy", "replay", "--policy", policy.toString(), Files.writeString(dir.resolve("x.jsonl"), "{\"time\": 1,").toString());
        assertEquals(1, notJson.exit);
        assertTrue(notJson.err.contains("x.jsonl:1: not valid JSON"), notJson.err);
    }

    @Test
    void adminCommandsInspectResetRankAndListTheClusterOfARealNode() throws Exception {
        String hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest("ops-token".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Path tokens = Files.writeString(dir.resolve("tokens"), "ops sha256:" + hash + "\n");
        try (SluiceNode node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("cli-admin"), ManualClock.fixed())
                .policies(TestNodes.policies("admins: [ops]\n" + POLICY)).callerTokens(tokens).build())) {
            String target = "127.0.0.1:" + node.port();
            String[] ops = {"--target", target, "--token", "ops-token"};
            for (int i = 0; i < 2; i++) {
                assertEquals(0, sluice(concat(new String[]{"acquire", "--domain", "api", "-d", "user=u1", "-d", "ip=10.0.0.1"}, ops)).exit);
            }
            Ran inspect = sluice(concat(new String[]{"inspect", "--domain", "api", "-d", "user=u1", "-d", "ip=10.0.0.1"}, ops));
            assertEquals(1, inspect.exit, "per-second is spent: a request would be denied now\n" + inspect.out + inspect.err);
            assertTrue(inspect.out.startsWith("a request of cost 1 would be denied now"), inspect.out);
            assertTrue(inspect.out.matches("(?s).*per-user/per-day\\s+998\\s+1000.*"), inspect.out);
            assertTrue(inspect.out.matches("(?s).*per-user/per-second\\s+0\\s+2\\s.*denied.*"), inspect.out);
            Ran json = sluice(concat(new String[]{"inspect", "--domain", "api", "-d", "user=u1", "--output", "json"}, ops));
            assertTrue(json.out.startsWith("{\"buckets\":[{\"rule\":\"per-user\",\"limit\":\"per-second\""), json.out);
            assertTrue(json.out.contains("\"remembered_requests\":0"), json.out);

            Ran reset = sluice(concat(new String[]{"reset", "--domain", "api", "-d", "user=u1", "--limit", "per-second"}, ops));
            assertEquals(0, reset.exit, reset.out + reset.err);
            assertTrue(reset.out.startsWith("reset per-user/per-second (bucket "), reset.out);
            assertEquals(0, sluice(concat(new String[]{"inspect", "--domain", "api", "-d", "user=u1"}, ops)).exit, "allowed again");
            Ran wrongLimit = sluice(concat(new String[]{"reset", "--domain", "api", "-d", "user=u1", "--limit", "per-hour"}, ops));
            assertEquals(2, wrongLimit.exit);
            assertTrue(wrongLimit.err.contains("INVALID_ARGUMENT: limits: no limit named 'per-hour'"), wrongLimit.err);

            Ran top = sluice(concat(new String[]{"top", "--domain", "api", "-n", "2"}, ops));
            assertEquals(0, top.exit, top.err);
            assertTrue(top.out.startsWith("top 2 of domain api by requests"), top.out);
            assertTrue(top.out.matches("(?s).*\\s2\\s+±0\\s+per-user/per-(second|day)\\s+user=u1.*"), "[" + top.out + "]");

            Ran status = sluice(concat(new String[]{"status"}, ops));
            assertEquals(0, status.exit, status.out + status.err);
            assertTrue(status.out.startsWith("cluster ACTIVE, safe, 1 member(s)"), status.out);
            assertTrue(status.out.contains(target) && status.out.contains("SERVING") && status.out.contains("(answered)"), status.out);
            Ran statusJson = sluice(concat(new String[]{"status", "--output", "json"}, ops));
            assertTrue(statusJson.out.contains("\"grpc_address\":\"" + target + "\""), statusJson.out);

            Ran anonymous = sluice("status", "--target", target);
            assertEquals(2, anonymous.exit);
            assertTrue(anonymous.err.contains("UNAUTHENTICATED"), anonymous.err);
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void usageErrorsExitTwoAndHelpCoversEveryCommand() {
        Ran noCommand = sluice();
        assertEquals(2, noCommand.exit);
        assertTrue(noCommand.err.contains("a command is needed"), noCommand.err);
        Ran missing = sluice("acquire", "-d", "user=u");
        assertEquals(2, missing.exit);
        assertTrue(missing.err.contains("--domain"), missing.err);
        Ran badOutput = sluice("policy", "check", "--output", "yaml", "f.yaml");
        assertEquals(2, badOutput.exit);
        assertTrue(badOutput.err.contains("--output"), badOutput.err);

        Ran help = sluice("--help");
        assertEquals(0, help.exit);
        for (String s : new String[]{"policy", "acquire", "inspect", "reset", "top", "status", "Exit codes", "3   no node reachable"}) {
            assertTrue(help.out.contains(s), s + " in " + help.out);
        }
        assertTrue(sluice("policy", "diff", "--help").out.contains("orphaned"));
        assertTrue(sluice("acquire", "--help").out.contains("--target"));
        for (String command : new String[]{"inspect", "reset", "top", "status"}) {
            Ran h = sluice(command, "--help");
            assertEquals(0, h.exit);
            assertTrue(h.out.contains("--token") && h.out.contains("--target") && h.out.contains("--output"), h.out);
        }
        Ran resetWhich = sluice("reset", "--domain", "api", "-d", "user=u");
        assertEquals(2, resetWhich.exit);
        assertTrue(resetWhich.err.contains("--limit") && resetWhich.err.contains("--all"), resetWhich.err);
        assertTrue(Sluice.completion().contains("sluice"), "picocli writes the completion script");
    }
}
