package dev.sluice.client;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.PartitionsResponse;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which node to send a request to: the one owning its first bucket, so that the node deciding it
 * holds the bucket and no call between members is needed. The client cannot work out a bucket from
 * a request (that takes the domain's policy), so it learns: the first time it sends a request it
 * asks with {@code route_hint}, and the answer names the bucket's partition, kept here by request
 * in two generations of at most half of {@code capacity} each (the newer filled, the older dropped
 * when it is full: requests still asked survive a turn). Which node owns which partition comes
 * from a node's {@code Partitions} table, asked for again every refresh. A hint or table gone stale
 * (a partition moved, a node left) sends a request to another node, which decides it as any node
 * does, one hop inside the cluster further: never a wrong answer. A retry is never routed.
 */
final class Routes {

    private final int capacity;
    private volatile Map<Acquire, Integer> recent = new ConcurrentHashMap<>();
    private volatile Map<Acquire, Integer> older = Map.of();
    /** The node owning each partition, {@code null} where the client reaches no node that owns it. */
    private volatile SocketAddress[] owners = new SocketAddress[0];
    /** Set once a node has said it gives no partition table: routing is then off. */
    private volatile boolean off;

    /** @param capacity the most requests whose partitions are kept; 0 turns routing off */
    Routes(int capacity) {
        this.capacity = Math.max(2, capacity);
        this.off = capacity == 0;
    }

    /** Whether to ask the node for {@code request}'s partition: routing is on and it is not known yet. */
    boolean wantsHint(Acquire request) {
        return !off && partition(request) < 0;
    }

    /** The node to send {@code attempt} to, or {@code null} for whichever is next. */
    SocketAddress nodeFor(Attempt attempt) {
        SocketAddress[] o = owners;
        if (o.length == 0 || attempt.number() > 1) {
            return null;
        }
        int p = partition(attempt.request());
        return p >= 0 && p < o.length ? o[p] : null;
    }

    /** Keeps the partition {@code response} names for {@code request}, if it names one. */
    void learned(Acquire request, AcquireResponse response) {
        if (!off && response.hasPartition()) {
            keep(request, response.getPartition());
        }
    }

    private void keep(Acquire request, int partition) {
        Map<Acquire, Integer> m = recent;
        m.put(request, partition);
        if (m.size() >= capacity / 2) {
            turn(m);
        }
    }

    private synchronized void turn(Map<Acquire, Integer> full) {
        if (recent == full) {
            older = full;
            recent = new ConcurrentHashMap<>();
        }
    }

    private int partition(Acquire request) {
        Integer p = recent.get(request);
        if (p == null) {
            p = older.get(request);
            if (p == null) {
                return -1;
            }
            keep(request, p);
        }
        return p;
    }

    /**
     * Takes a table a node gave; {@code reached} are the addresses the client connects to. A node
     * of the table it does not connect to by that address (one behind a proxy, say) gets no
     * request routed to it: its partitions' requests go to whichever node is next.
     */
    void table(PartitionsResponse table, Collection<? extends SocketAddress> reached) {
        SocketAddress[] nodes = new SocketAddress[table.getNodesCount()];
        for (int i = 0; i < nodes.length; i++) {
            InetSocketAddress a = new InetSocketAddress(table.getNodes(i).getHost(), table.getNodes(i).getPort());
            nodes[i] = reached.contains(a) ? a : null;
        }
        SocketAddress[] o = new SocketAddress[table.getOwnersCount()];
        for (int p = 0; p < o.length; p++) {
            int node = table.getOwners(p);
            o[p] = node >= 0 && node < nodes.length ? nodes[node] : null;
        }
        owners = o;
    }

    /** A node gives no table (a version before routing): no more hints asked, nothing routed. */
    void off() {
        off = true;
        owners = new SocketAddress[0];
    }

    /** The nodes requests are routed to now: those owning a partition in the newest table that the client reaches. */
    Set<SocketAddress> nodes() {
        Set<SocketAddress> nodes = new HashSet<>();
        for (SocketAddress a : owners) {
            if (a != null) {
                nodes.add(a);
            }
        }
        return nodes;
    }

    /** Whether requests are routed now (a table is known and routing is on). */
    boolean routing() {
        return !off && owners.length > 0;
    }

    /** Requests whose partitions are kept now. */
    int known() {
        return recent.size() + older.size();
    }
}
