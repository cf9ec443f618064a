package dev.sluice.server.node;

import dev.sluice.api.admin.v1.AdminGrpc;
import dev.sluice.api.admin.v1.BucketInfo;
import dev.sluice.api.admin.v1.ClusterRequest;
import dev.sluice.api.admin.v1.ClusterResponse;
import dev.sluice.api.admin.v1.HotKey;
import dev.sluice.api.admin.v1.InspectRequest;
import dev.sluice.api.admin.v1.MemberInfo;
import dev.sluice.api.admin.v1.ResetRequest;
import dev.sluice.api.admin.v1.ResetResponse;
import dev.sluice.api.admin.v1.TopKeysRequest;
import dev.sluice.api.admin.v1.TopKeysResponse;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.admin.v1.CheckPolicyRequest;
import dev.sluice.api.admin.v1.CheckPolicyResponse;
import dev.sluice.api.admin.v1.PolicyRequest;
import dev.sluice.api.admin.v1.PolicyResponse;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin API on a real node's gRPC port: what it answers an admin, and whom it refuses. */
class AdminApiTest {

    private static final String POLICY = """
            admins: [ops-*]
            domains:
              shop:
                rules:
                  - name: r
                    limits: [{name: l, algorithm: fixed_window, limit: 10, window: 1h, key: [k]}]
              demo:
                rules:
                  - name: r
                    limits: [{name: l, algorithm: token_bucket, capacity: 5, refill: 5, key: [ip]}]
            """;

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /** The rate limiter on the channel the last {@link #admin} call opened, as the same caller. */
    private RateLimiterGrpc.RateLimiterBlockingStub limiter;
    private int limiterPort;

    private int metricsPort;

    private boolean countTopKeys = true;

    private AdminGrpc.AdminBlockingStub admin(boolean tokens, String token) throws Exception {
        metricsPort = dev.sluice.server.testing.Ports.free();
        NodeSettings.Builder b = TestNodes.settings(TestNodes.uniqueCluster("admin"), ManualClock.fixed()).policies(TestNodes.policies(POLICY))
                .metricsPort(metricsPort).topKeys(countTopKeys);
        if (tokens) {
            b.callerTokens(Files.writeString(dir.resolve("tokens"), "ops-oncall sha256:" + CallerTokens.sha256("ops-token")
                    + "\ncheckout-service sha256:" + CallerTokens.sha256("shop-token") + "\n"));
        }
        var node = TestNodes.start(b.build());
        open.add(node::close);
        limiterPort = node.port();
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        open.add(() -> c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        AdminGrpc.AdminBlockingStub stub = AdminGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS);
        limiter = RateLimiterGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS);
        if (token != null) {
            Metadata m = new Metadata();
            m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
            stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
            limiter = limiter.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
        }
        return stub;
    }

    @Test
    void anAdminReadsThePolicyInForceAndChecksATextWithoutLoadingIt() throws Exception {
        AdminGrpc.AdminBlockingStub ops = admin(true, "ops-token");
        PolicyResponse inForce = ops.policy(PolicyRequest.getDefaultInstance());
        assertEquals(POLICY, inForce.getText());
        assertEquals(TestNodes.policies(POLICY).version(), inForce.getVersion());
        assertEquals(List.of("demo", "shop"), inForce.getDomainsList());

        CheckPolicyResponse bad = ops.checkPolicy(CheckPolicyRequest.newBuilder().setSource("next.yaml").setText("""
                domains:
                  shop:
                    rules:
                      - name: r
                        limits: [{name: l, algorithm: fixed_window, limit: -3, window: 1h, key: [k]}]
                """).build());
        assertFalse(bad.getValid());
        assertEquals(1, bad.getProblemsCount(), bad.toString());
        assertEquals(5, bad.getProblems(0).getLine());
        assertTrue(bad.getProblems(0).getPath().endsWith("limit"), bad.toString());
        assertTrue(bad.getVersion().isEmpty());

        String next = POLICY.replace("limit: 10", "limit: 20");
        CheckPolicyResponse good = ops.checkPolicy(CheckPolicyRequest.newBuilder().setText(next).build());
        assertTrue(good.getValid(), good.toString());
        assertEquals(TestNodes.policies(next).version(), good.getVersion());
        assertEquals(inForce.getVersion(), ops.policy(PolicyRequest.getDefaultInstance()).getVersion(), "checking loads nothing");
    }

    @Test
    void aCallerWithoutTheAdminRoleIsRefusedWithoutBeingToldWhoHoldsIt() throws Exception {
        StatusRuntimeException shop = assertThrows(StatusRuntimeException.class,
                () -> admin(true, "shop-token").policy(PolicyRequest.getDefaultInstance()));
        assertEquals(Status.Code.PERMISSION_DENIED, shop.getStatus().getCode());
        assertEquals("caller checkout-service does not hold the admin role", shop.getStatus().getDescription());

        StatusRuntimeException anonymous = assertThrows(StatusRuntimeException.class,
                () -> admin(true, null).checkPolicy(CheckPolicyRequest.newBuilder().setText(POLICY).build()));
        assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());
    }

    @Test
    void aNodeThatVerifiesNoIdentityServesTheAdminApiToNobody() throws Exception {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> admin(false, null).policy(PolicyRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("admin role"), e.getStatus().getDescription());
    }

    private AcquireResponse acquire(String domain, String key, String requestId) {
        return limiter.acquire(AcquireRequest.newBuilder().setDomain(domain).putDescriptors("k", key).putDescriptors("ip", key)
                .setRequestId(requestId).build());
    }

    private static boolean allowed(AcquireResponse r) {
        return r.getDecision() == dev.sluice.api.v1.Decision.ALLOWED;
    }

    @Test
    void inspectShowsWhatTheNextAcquireSeesWithoutConsuming() throws Exception {
        AdminGrpc.AdminBlockingStub ops = admin(true, "ops-token");
        InspectRequest ask = InspectRequest.newBuilder().setDomain("shop").putDescriptors("k", "tenant-1").build();
        BucketInfo fresh = ops.inspect(ask).getBuckets(0);
        assertEquals(10, fresh.getRemaining());
        assertFalse(fresh.getHeld(), "nothing decided yet: the bucket is at rest and not held");
        assertEquals(10, ops.inspect(ask).getBuckets(0).getRemaining(), "inspecting consumes nothing");

        for (int i = 0; i < 3; i++) {
            acquire("shop", "tenant-1", "order-" + i);
        }
        BucketInfo b = ops.inspect(ask).getBuckets(0);
        assertEquals("r", b.getRule());
        assertEquals("l", b.getLimit());
        assertEquals(10, b.getLimitValue());
        assertEquals(7, b.getRemaining());
        assertTrue(b.getHeld());
        assertTrue(b.getAllowed());
        assertEquals(3, b.getRememberedRequests());
        assertFalse(b.getShadow());
        assertEquals(32, b.getBucketKey().length());
        assertFalse(b.getOwner().isEmpty(), b.toString());
        assertTrue(b.getAlgorithm().startsWith("fixed_window"), b.getAlgorithm());
        AcquireResponse next = acquire("shop", "tenant-1", "order-3");
        assertEquals(b.getRemaining() - 1, next.getLimits(0).getRemaining(), "the next Acquire sees what Inspect showed, less its cost");

        BucketInfo big = ops.inspect(ask.toBuilder().setCost(7).build()).getBuckets(0);
        assertFalse(big.getAllowed(), "6 left, 7 asked");
        assertTrue(big.getRetryAfter().getSeconds() > 0, big.toString());

        assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class,
                () -> ops.inspect(ask.toBuilder().setDomain("nowhere").build())).getStatus().getCode());
        StatusRuntimeException tooMuch = assertThrows(StatusRuntimeException.class, () -> ops.inspect(ask.toBuilder().setCost(11).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, tooMuch.getStatus().getCode());
        assertTrue(tooMuch.getStatus().getDescription().startsWith("cost: "), tooMuch.getStatus().getDescription());
        StatusRuntimeException noDomain = assertThrows(StatusRuntimeException.class, () -> ops.inspect(ask.toBuilder().setDomain("").build()));
        assertTrue(noDomain.getStatus().getDescription().startsWith("domain: "), noDomain.getStatus().getDescription());
    }

    @Test
    void resetPutsADrainedBucketBackAtRestAndSaysWhatItReset() throws Exception {
        AdminGrpc.AdminBlockingStub ops = admin(true, "ops-token");
        for (int i = 0; i < 10; i++) {
            assertTrue(allowed(acquire("shop", "tenant-2", "")));
        }
        assertFalse(allowed(acquire("shop", "tenant-2", "")));

        ResetRequest.Builder reset = ResetRequest.newBuilder().setDomain("shop").putDescriptors("k", "tenant-2");
        StatusRuntimeException unnamed = assertThrows(StatusRuntimeException.class, () -> ops.reset(reset.build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, unnamed.getStatus().getCode());
        assertTrue(unnamed.getStatus().getDescription().startsWith("limits: "), unnamed.getStatus().getDescription());
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> ops.reset(reset.clone().addLimits("nope").build()));
        assertEquals("limits: no limit named 'nope' applies to this request in domain \"shop\"; those that do: l",
                unknown.getStatus().getDescription());
        assertFalse(allowed(acquire("shop", "tenant-2", "")), "a refused reset resets nothing");

        String scrape = dev.sluice.server.testing.Scrape.fetch(metricsPort, null).body();
        assertTrue(scrape.contains("sluice_admin_resets_total{domain=\"shop\"} 0.0"), "counted from 0 before any reset");
        ResetResponse done;
        try (dev.sluice.server.testing.LogCapture log = dev.sluice.server.testing.LogCapture.start()) {
            done = ops.reset(reset.clone().addLimits("l").build());
            assertTrue(log.records().stream().anyMatch(r -> r.getMessage().startsWith("bucket reset by ops-oncall: domain shop, rule r, limit l")),
                    "the reset is logged with who made it");
        }
        assertTrue(dev.sluice.server.testing.Scrape.fetch(metricsPort, null).body().contains("sluice_admin_resets_total{domain=\"shop\"} 1.0"));
        assertEquals(1, done.getBucketsCount());
        assertTrue(done.getBuckets(0).getHeld());
        assertEquals("l", done.getBuckets(0).getLimit());
        assertEquals(9, acquire("shop", "tenant-2", "").getLimits(0).getRemaining(), "back at rest: the full limit, less this one");
        assertTrue(allowed(acquire("shop", "tenant-3", "")));
        assertEquals(10, ops.inspect(InspectRequest.newBuilder().setDomain("shop").putDescriptors("k", "tenant-3").build())
                .getBuckets(0).getRemaining() + 1, "another tenant's bucket was not touched");

        StatusRuntimeException shop = assertThrows(StatusRuntimeException.class,
                () -> admin(true, "shop-token").reset(reset.clone().setAll(true).build()));
        assertEquals(Status.Code.PERMISSION_DENIED, shop.getStatus().getCode());
    }

    @Test
    void topKeysRanksTheBucketsThatAreAskedAndDeniedMost() throws Exception {
        AdminGrpc.AdminBlockingStub ops = admin(true, "ops-token");
        for (int tenant = 1; tenant <= 4; tenant++) {
            for (int i = 0; i < tenant * 4; i++) {
                acquire("shop", "t" + tenant, "");
            }
        }
        TopKeysResponse top = ops.topKeys(TopKeysRequest.newBuilder().setDomain("shop").setN(3).build());
        assertEquals(3, top.getKeysCount(), top.toString());
        assertEquals(List.of("t4", "t3", "t2"), top.getKeysList().stream().map(k -> k.getDescriptorsMap().get("k")).toList());
        assertEquals(List.of(16L, 12L, 8L), top.getKeysList().stream().map(HotKey::getCount).toList());
        assertEquals(0, top.getKeys(0).getError(), "four keys fit in the sketch: counted exactly");
        assertEquals(40, top.getTotal());
        assertEquals("r", top.getKeys(0).getRule());
        assertEquals(1, top.getMembersAnswered());

        TopKeysResponse denials = ops.topKeys(TopKeysRequest.newBuilder().setDomain("shop").setBy(TopKeysRequest.By.DENIALS).build());
        assertEquals(List.of("t4", "t3"), denials.getKeysList().stream().map(k -> k.getDescriptorsMap().get("k")).toList());
        assertEquals(List.of(6L, 2L), denials.getKeysList().stream().map(HotKey::getCount).toList());

        assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
                () -> ops.topKeys(TopKeysRequest.newBuilder().setDomain("shop").setN(1001).build())).getStatus().getCode());
        assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class,
                () -> ops.topKeys(TopKeysRequest.newBuilder().setDomain("elsewhere").build())).getStatus().getCode());
    }

    @Test
    void aMemberStartedWithoutTopKeysCountsNone() throws Exception {
        countTopKeys = false;
        AdminGrpc.AdminBlockingStub ops = admin(true, "ops-token");
        acquire("shop", "t1", "");
        TopKeysResponse top = ops.topKeys(TopKeysRequest.newBuilder().setDomain("shop").build());
        assertEquals(0, top.getTotal());
        assertEquals(0, top.getKeysCount());
    }

    @Test
    void clusterListsTheMemberWithWhatItServes() throws Exception {
        AdminGrpc.AdminBlockingStub ops = admin(true, "ops-token");
        ClusterResponse cluster = ops.cluster(ClusterRequest.getDefaultInstance());
        assertEquals(1, cluster.getMembersCount());
        MemberInfo m = cluster.getMembers(0);
        assertTrue(m.getLocal());
        assertEquals("SERVING", m.getState());
        assertEquals(cluster.getPartitions(), m.getOwnedPartitions(), "a single member owns every partition");
        assertEquals(TestNodes.policies(POLICY).version(), m.getPolicyVersion());
        assertTrue(m.getGrpcAddress().endsWith(":" + limiterPort), m.getGrpcAddress());
        assertEquals("ACTIVE", cluster.getState());
        assertTrue(cluster.getSafe());
    }
}
