package dev.sluice.client;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.NodeAddress;
import dev.sluice.api.v1.PartitionsResponse;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoutesTest {

    private static final InetSocketAddress A = new InetSocketAddress("127.0.0.1", 7001);
    private static final InetSocketAddress B = new InetSocketAddress("127.0.0.1", 7002);

    /** Two nodes, A owning partitions 0 and 2, B partition 1; partition 3 has no owner. */
    private static final PartitionsResponse TABLE = PartitionsResponse.newBuilder()
            .addNodes(NodeAddress.newBuilder().setHost("127.0.0.1").setPort(7001))
            .addNodes(NodeAddress.newBuilder().setHost("127.0.0.1").setPort(7002))
            .addAllOwners(List.of(0, 1, 0, -1)).build();

    private static Acquire user(int u) {
        return Acquire.domain("api").with("user", "u" + u);
    }

    private static Attempt first(Acquire a) {
        return new Attempt(a, AcquireRequest.getDefaultInstance(), 0, 0, 1, new CompletableFuture<>());
    }

    private static AcquireResponse naming(int partition) {
        return AcquireResponse.newBuilder().setPartition(partition).build();
    }

    @Test
    void aRequestGoesToTheOwnerOfThePartitionItsAnswerNamed() {
        Routes routes = new Routes(100);
        routes.table(TABLE, List.of(A, B));
        assertTrue(routes.wantsHint(user(1)));
        assertNull(routes.nodeFor(first(user(1))), "not learned yet: whichever node is next");

        routes.learned(user(1), naming(1));
        routes.learned(user(2), naming(2));
        routes.learned(user(3), naming(3));
        routes.learned(user(4), AcquireResponse.getDefaultInstance()); // an answer naming no partition (no limit applied)

        assertFalse(routes.wantsHint(user(1)));
        assertEquals(B, routes.nodeFor(first(user(1))));
        assertEquals(A, routes.nodeFor(first(user(2))));
        assertNull(routes.nodeFor(first(user(3))), "a partition without an owner");
        assertTrue(routes.wantsHint(user(4)));
        assertNull(routes.nodeFor(first(user(1)).next(0)), "a retry goes to whichever node is next");
        assertNull(routes.nodeFor(first(user(1).cost(2))), "another cost is another request to learn");
    }

    @Test
    void aNodeTheClientDoesNotReachByTheTablesAddressGetsNothing() {
        Routes routes = new Routes(100);
        routes.table(TABLE, List.of(A)); // B is behind another address (a proxy, say)
        routes.learned(user(1), naming(1));
        routes.learned(user(2), naming(0));
        assertNull(routes.nodeFor(first(user(1))));
        assertEquals(A, routes.nodeFor(first(user(2))));
    }

    @Test
    void keepsAtMostItsCapacityTheLeastRecentlyAskedDroppedFirst() {
        Routes routes = new Routes(10);
        routes.table(TABLE, List.of(A, B));
        routes.learned(user(0), naming(1));
        for (int u = 1; u < 1000; u++) {
            routes.learned(user(u), naming(0));
            assertEquals(B, routes.nodeFor(first(user(0))), "asked after every new one, user 0 stays: " + u);
            assertTrue(routes.known() <= 10, routes.known() + " kept");
        }
        assertTrue(routes.wantsHint(user(500)), "one asked once, long ago, is dropped");
    }

    @Test
    void offWithCapacityZeroOrWhenTheNodesGiveNoTable() {
        Routes none = new Routes(0);
        none.table(TABLE, List.of(A, B));
        none.learned(user(1), naming(1));
        assertFalse(none.wantsHint(user(1)));
        assertNull(none.nodeFor(first(user(1))));

        Routes old = new Routes(100);
        old.table(TABLE, List.of(A, B));
        old.learned(user(1), naming(1));
        assertTrue(old.routing());
        old.off();
        assertFalse(old.routing());
        assertFalse(old.wantsHint(user(2)));
        assertNull(old.nodeFor(first(user(1))));
    }
}
