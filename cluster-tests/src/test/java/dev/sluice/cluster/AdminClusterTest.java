package dev.sluice.cluster;

import dev.sluice.api.admin.v1.AdminGrpc;
import dev.sluice.api.admin.v1.BucketInfo;
import dev.sluice.api.admin.v1.ClusterRequest;
import dev.sluice.api.admin.v1.ClusterResponse;
import dev.sluice.api.admin.v1.HotKey;
import dev.sluice.api.admin.v1.InspectRequest;
import dev.sluice.api.admin.v1.MemberInfo;
import dev.sluice.api.admin.v1.ResetRequest;
import dev.sluice.api.admin.v1.TopKeysRequest;
import dev.sluice.api.admin.v1.TopKeysResponse;
import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.BatchEntry;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API on three nodes in JVMs of their own, over real sockets: Cluster lists every
 * member; Inspect on one node shows what the next Acquire on another sees; Reset puts a bucket
 * back at rest on its owner and its backup, so it stays reset when the owner is killed; TopKeys
 * finds the hot keys among a hundred thousand cold ones, with counts within the bound it states.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminClusterTest {

    static final String POLICY = """
            admins: [ops]
            domains:
              shop:
                rules:
                  - name: orders
                    match: {kind: orders}
                    limits: [{name: per_tenant, algorithm: token_bucket, capacity: 5, refill: 1, refill_period: 1h, key: [tenant]}]
                  - name: traffic
                    match: {kind: traffic}
                    limits: [{name: per_key, algorithm: fixed_window, limit: 1000000, window: 1h, key: [key]}]
            """;

    private final Closer closer = new Closer();
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final List<NodeProcess.Addresses> addresses = new ArrayList<>();

    @BeforeAll
    void startThreeNodes() throws Exception {
        Path dir = Files.createTempDirectory("admin-cluster");
        Path policies = Files.writeString(dir.resolve("shop.yaml"), POLICY);
        Path tokens = Files.writeString(dir.resolve("tokens"), "ops sha256:" + sha256("ops-token") + "\n");
        String cluster = TestNodes.uniqueCluster("admin");
        for (int i = 0; i < 3; i++) {
            addresses.add(NodeProcess.Addresses.free());
        }
        List<String> members = addresses.stream().map(NodeProcess.Addresses::member).toList();
        for (int i = 0; i < 3; i++) {
            NodeProcess node = NodeProcess.start("admin-node-" + i, addresses.get(i), members, cluster, policies, Path.of("target", "node-logs"),
                    List.of(), List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), List.of("--caller-tokens", tokens.toString()));
            closer.add(node);
            nodes.add(node);
        }
        nodes.forEach(NodeProcess::awaitServing);
        await().atMost(Duration.ofSeconds(60)).until(() -> admin(0).cluster(ClusterRequest.getDefaultInstance()).getSafe());
    }

    static String sha256(String token) throws java.security.NoSuchAlgorithmException {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @AfterAll
    void stop() throws Exception {
        closer.afterEach(null);
    }

    private static <S extends AbstractStub<S>> S asOps(S stub) {
        Metadata m = new Metadata();
        m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer ops-token");
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private AdminGrpc.AdminBlockingStub admin(int node) {
        return asOps(AdminGrpc.newBlockingStub(nodes.get(node).channel()));
    }

    private RateLimiterGrpc.RateLimiterBlockingStub limiter(int node) {
        return asOps(RateLimiterGrpc.newBlockingStub(nodes.get(node).channel()));
    }

    private static AcquireRequest order(String tenant) {
        return AcquireRequest.newBuilder().setDomain("shop").putDescriptors("kind", "orders").putDescriptors("tenant", tenant).build();
    }

    private BucketInfo inspect(int node, String tenant) {
        return admin(node).inspect(InspectRequest.newBuilder().setDomain("shop").putDescriptors("kind", "orders")
                .putDescriptors("tenant", tenant).build()).getBuckets(0);
    }

    @Test
    void clusterListsEveryMemberWithTheAddressesCallersAndMembersUse() throws Exception {
        ClusterResponse cluster = admin(1).cluster(ClusterRequest.getDefaultInstance());
        assertEquals(3, cluster.getMembersCount(), cluster.toString());
        Set<String> grpc = addresses.stream().map(a -> "127.0.0.1:" + a.port()).collect(Collectors.toCollection(TreeSet::new));
        Set<String> member = addresses.stream().map(a -> "[127.0.0.1]:" + a.memberPort()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(grpc, cluster.getMembersList().stream().map(MemberInfo::getGrpcAddress).collect(Collectors.toCollection(TreeSet::new)));
        assertEquals(member, cluster.getMembersList().stream().map(MemberInfo::getMemberAddress)
                .collect(Collectors.toCollection(TreeSet::new)));
        String version = PolicyLoader.parse(POLICY, "shop.yaml").version();
        int owned = 0;
        for (MemberInfo m : cluster.getMembersList()) {
            assertEquals("SERVING", m.getState(), m.toString());
            assertEquals(version, m.getPolicyVersion());
            assertTrue(m.getUptime().getSeconds() >= 0 && !m.getUuid().isEmpty(), m.toString());
            owned += m.getOwnedPartitions();
        }
        assertEquals(cluster.getPartitions(), owned, "every partition has one owner among them");
        assertEquals(1, cluster.getMembersList().stream().filter(MemberInfo::getLocal).count());
        assertEquals("127.0.0.1:" + addresses.get(1).port(),
                cluster.getMembersList().stream().filter(MemberInfo::getLocal).findFirst().orElseThrow().getGrpcAddress());
    }

    @Test
    void inspectOnOneNodeShowsTheRemainingTheNextAcquireOnAnotherSees() {
        for (int i = 0; i < 2; i++) {
            assertEquals(Decision.ALLOWED, limiter(0).acquire(order("inspected")).getDecision());
        }
        BucketInfo seen = inspect(1, "inspected");
        assertEquals(3, seen.getRemaining());
        assertTrue(seen.getHeld());
        assertTrue(addresses.stream().anyMatch(a -> seen.getOwner().equals("[127.0.0.1]:" + a.memberPort())), seen.getOwner());
        for (int node = 0; node < 3; node++) {
            assertEquals(seen.getRemaining(), inspect(node, "inspected").getRemaining(), "every node reads the same bucket");
        }
        AcquireResponse next = limiter(2).acquire(order("inspected"));
        assertEquals(seen.getRemaining() - 1, next.getLimits(0).getRemaining());
    }

    /** Runs last: it kills a member. */
    @Test
    @Order(Integer.MAX_VALUE)
    void resetReachesTheBackupSoABucketStaysResetWhenItsOwnerIsKilled() throws Exception {
        NodeProcess victim = nodes.get(2);
        String victimMember = "[127.0.0.1]:" + addresses.get(2).memberPort();
        List<String> owned = new ArrayList<>();
        for (int i = 0; owned.size() < 2; i++) {
            if (inspect(0, "drained-" + i).getOwner().equals(victimMember)) {
                owned.add("drained-" + i);
            }
        }
        for (String tenant : owned) {
            for (int i = 0; i < 5; i++) {
                assertEquals(Decision.ALLOWED, limiter(0).acquire(order(tenant)).getDecision());
            }
            assertEquals(Decision.DENIED, limiter(1).acquire(order(tenant)).getDecision());
        }
        String reset = owned.get(0);
        String untouched = owned.get(1);
        var answer = admin(0).reset(ResetRequest.newBuilder().setDomain("shop").putDescriptors("kind", "orders")
                .putDescriptors("tenant", reset).setAll(true).build());
        assertEquals(1, answer.getBucketsCount());
        assertTrue(answer.getBuckets(0).getHeld());
        assertEquals(5, inspect(1, reset).getRemaining());

        victim.kill();
        await().atMost(Duration.ofSeconds(60)).until(() -> admin(0).cluster(ClusterRequest.getDefaultInstance()).getMembersCount() == 2
                && !inspect(0, reset).getOwner().equals(victimMember));
        AcquireResponse afterCrash = limiter(1).acquire(order(reset));
        assertEquals(Decision.ALLOWED, afterCrash.getDecision(), "the backup was reset too");
        assertEquals(4, afterCrash.getLimits(0).getRemaining());
        assertEquals(Decision.DENIED, limiter(1).acquire(order(untouched)).getDecision(),
                "a bucket not reset keeps its state through the crash: the backup held it");
    }

    @Test
    void topKeysFindsTheTenHotKeysAmongAHundredThousandColdOnesWithinItsBound() {
        Map<String, Integer> sent = new HashMap<>();
        List<String> stream = new ArrayList<>(110_000);
        for (int i = 0; i < 100_000; i++) {
            stream.add("cold-" + i);
        }
        for (int h = 0; h < 10; h++) {
            for (int i = 0; i < 300 + 40 * h; i++) {
                stream.add("hot-" + h);
            }
        }
        Collections.shuffle(stream, new Random(3));
        for (String k : stream) {
            sent.merge(k, 1, Integer::sum);
        }
        // Through all three nodes, so each member's sketch holds a third and the answer is their merge.
        for (int from = 0, batch = 0; from < stream.size(); from += 500, batch++) {
            AcquireBatchRequest.Builder b = AcquireBatchRequest.newBuilder();
            for (String k : stream.subList(from, Math.min(stream.size(), from + 500))) {
                b.addRequests(AcquireRequest.newBuilder().setDomain("shop").putDescriptors("kind", "traffic").putDescriptors("key", k));
            }
            for (BatchEntry e : limiter(batch % 3).acquireBatch(b.build()).getResultsList()) {
                assertEquals(Decision.ALLOWED, e.getResponse().getDecision(), e.toString());
            }
        }

        TopKeysResponse top = admin(1).topKeys(TopKeysRequest.newBuilder().setDomain("shop").setN(10).build());
        assertEquals(3, top.getMembersAnswered(), top.getMembersMissingList().toString());
        long total = top.getTotal();
        assertTrue(total >= stream.size(), "every request counted (with earlier tests' requests): " + total);
        Set<String> found = new TreeSet<>();
        Map<String, String> figures = new LinkedHashMap<>();
        for (HotKey k : top.getKeysList()) {
            String key = k.getDescriptorsMap().get("key");
            found.add(key);
            long truth = sent.getOrDefault(key, 0);
            assertTrue(k.getCount() - k.getError() <= truth && truth <= k.getCount(), key + " sent " + truth + ", reported " + k);
            assertTrue(k.getError() <= top.getErrorBound(), k + " bound " + top.getErrorBound());
            assertEquals("traffic", k.getRule());
            assertEquals("per_key", k.getLimit());
            figures.put(key, "sent " + truth + ", counted " + k.getCount() + " (error " + k.getError() + ")");
        }
        figures.put("error_bound", Long.toString(top.getErrorBound()));
        figures.put("total", Long.toString(total));
        Figures.report("admin-top-keys", figures);
        Set<String> hot = new TreeSet<>();
        for (int h = 0; h < 10; h++) {
            hot.add("hot-" + h);
        }
        assertEquals(hot, found);
        assertEquals("hot-9", top.getKeys(0).getDescriptorsMap().get("key"));
    }
}
