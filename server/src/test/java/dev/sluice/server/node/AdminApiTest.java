package dev.sluice.server.node;

import dev.sluice.api.admin.v1.AdminGrpc;
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

    private AdminGrpc.AdminBlockingStub admin(boolean tokens, String token) throws Exception {
        NodeSettings.Builder b = TestNodes.settings(TestNodes.uniqueCluster("admin"), ManualClock.fixed()).policies(TestNodes.policies(POLICY));
        if (tokens) {
            b.callerTokens(Files.writeString(dir.resolve("tokens"), "ops-oncall sha256:" + CallerTokens.sha256("ops-token")
                    + "\ncheckout-service sha256:" + CallerTokens.sha256("shop-token") + "\n"));
        }
        var node = TestNodes.start(b.build());
        open.add(node::close);
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        open.add(() -> c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        AdminGrpc.AdminBlockingStub stub = AdminGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS);
        if (token != null) {
            Metadata m = new Metadata();
            m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
            stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
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
}
