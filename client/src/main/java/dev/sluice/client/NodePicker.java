package dev.sluice.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ConnectivityState;
import io.grpc.ConnectivityStateInfo;
import io.grpc.EquivalentAddressGroup;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.LoadBalancer;
import io.grpc.LoadBalancerProvider;
import io.grpc.LoadBalancerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The client channel's load balancing: a connection to every node the resolver names, and each
 * call on the node its call options ask for ({@link #NODE}: the node owning the request's bucket)
 * while that node's connection is ready, otherwise on the next ready node in turn, as round robin
 * would. A call asking for no node, or for one that is down or unknown, is never held back for it.
 *
 * <p>Connection states are gRPC's: the channel is ready while any node is; a node whose
 * connection failed counts as failed until it is ready again (so a channel whose nodes are all
 * down fails calls at once instead of holding them while it reconnects); a connection gone idle is
 * reconnected.
 */
final class NodePicker extends LoadBalancer {

    /** The policy's name in gRPC's registry. */
    static final String POLICY = "sluice_nodes";

    /** The node a call should go to, when its connection is ready. */
    static final CallOptions.Key<SocketAddress> NODE = CallOptions.Key.create("sluice-node");

    /** Where a call asking for a node landed: set, when the call's answer headers come, to the node it runs on. */
    static final CallOptions.Key<AtomicReference<SocketAddress>> LANDED = CallOptions.Key.create("sluice-landed");

    /**
     * Tells a call that carries {@link #LANDED} which node it landed on: a call asking for a node
     * whose connection was not ready runs on another, and one long-lived (a stream) would stay there.
     */
    static final ClientInterceptor LANDING = new ClientInterceptor() {
        @Override
        public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
            AtomicReference<SocketAddress> landed = options.getOption(LANDED);
            ClientCall<Q, A> call = next.newCall(method, options);
            if (landed == null) {
                return call;
            }
            return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
                @Override
                public void start(Listener<A> listener, Metadata headers) {
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onHeaders(Metadata answerHeaders) {
                            landed.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
                            super.onHeaders(answerHeaders);
                        }
                    }, headers);
                }
            };
        }
    };

    private static boolean registered;

    private final Helper helper;
    /** By address, in the resolver's order; touched only from the channel's synchronization context. */
    private final Map<SocketAddress, Node> nodes = new LinkedHashMap<>();
    private Status lastError = Status.UNAVAILABLE.withDescription("no Sluice node resolved yet");

    private NodePicker(Helper helper) {
        this.helper = helper;
    }

    /** Makes the policy known to gRPC, once; channels name it by {@link #POLICY}. */
    static synchronized void register() {
        if (registered) {
            return;
        }
        LoadBalancerRegistry.getDefaultRegistry().register(new LoadBalancerProvider() {
            @Override
            public boolean isAvailable() {
                return true;
            }

            @Override
            public int getPriority() {
                return 5;
            }

            @Override
            public String getPolicyName() {
                return POLICY;
            }

            @Override
            public LoadBalancer newLoadBalancer(Helper helper) {
                return new NodePicker(helper);
            }
        });
        registered = true;
    }

    /** One node: its connection, the state it was last in, and whether it failed since it was last ready. */
    private static final class Node {
        final SocketAddress address;
        final Subchannel subchannel;
        ConnectivityState state = ConnectivityState.CONNECTING;
        boolean failed;

        Node(SocketAddress address, Subchannel subchannel) {
            this.address = address;
            this.subchannel = subchannel;
        }
    }

    @Override
    public Status acceptResolvedAddresses(ResolvedAddresses resolved) {
        List<EquivalentAddressGroup> groups = resolved.getAddresses();
        if (groups.isEmpty()) {
            Status none = Status.UNAVAILABLE.withDescription("no Sluice node found");
            handleNameResolutionError(none);
            return none;
        }
        Set<SocketAddress> wanted = new HashSet<>();
        for (EquivalentAddressGroup group : groups) {
            for (SocketAddress address : group.getAddresses()) {
                wanted.add(address);
                if (!nodes.containsKey(address)) {
                    Subchannel s = helper.createSubchannel(CreateSubchannelArgs.newBuilder()
                            .setAddresses(new EquivalentAddressGroup(address, group.getAttributes())).build());
                    Node n = new Node(address, s);
                    nodes.put(address, n);
                    s.start(info -> changed(n, info));
                    s.requestConnection();
                }
            }
        }
        nodes.values().removeIf(n -> {
            if (wanted.contains(n.address)) {
                return false;
            }
            n.subchannel.shutdown();
            return true;
        });
        publish();
        return Status.OK;
    }

    @Override
    public void handleNameResolutionError(Status error) {
        lastError = error;
        if (nodes.values().stream().noneMatch(n -> n.state == ConnectivityState.READY)) {
            helper.updateBalancingState(ConnectivityState.TRANSIENT_FAILURE, new FixedResultPicker(PickResult.withError(error)));
        }
    }

    private void changed(Node n, ConnectivityStateInfo info) {
        if (nodes.get(n.address) != n || info.getState() == ConnectivityState.SHUTDOWN) {
            return;
        }
        switch (info.getState()) {
            case TRANSIENT_FAILURE -> {
                n.failed = true;
                lastError = info.getStatus();
                helper.refreshNameResolution();
            }
            case READY -> n.failed = false;
            case IDLE -> n.subchannel.requestConnection();
            default -> { }
        }
        n.state = info.getState();
        publish();
    }

    /** Tells the channel its state and how to pick, from the nodes' states. */
    private void publish() {
        List<Subchannel> ready = new ArrayList<>(nodes.size());
        Map<SocketAddress, Subchannel> byAddress = new HashMap<>();
        boolean connecting = false;
        for (Node n : nodes.values()) {
            if (n.state == ConnectivityState.READY) {
                ready.add(n.subchannel);
                byAddress.put(n.address, n.subchannel);
            } else if (!n.failed) {
                connecting = true;
            }
        }
        if (!ready.isEmpty()) {
            helper.updateBalancingState(ConnectivityState.READY, new Ready(List.copyOf(ready), Map.copyOf(byAddress)));
        } else if (connecting) {
            helper.updateBalancingState(ConnectivityState.CONNECTING, new FixedResultPicker(PickResult.withNoResult()));
        } else {
            helper.updateBalancingState(ConnectivityState.TRANSIENT_FAILURE, new FixedResultPicker(PickResult.withError(lastError)));
        }
    }

    @Override
    public void requestConnection() {
        for (Node n : nodes.values()) {
            if (n.state == ConnectivityState.IDLE) {
                n.subchannel.requestConnection();
            }
        }
    }

    @Override
    public void shutdown() {
        for (Node n : nodes.values()) {
            n.subchannel.shutdown();
        }
        nodes.clear();
    }

    /** Picks among the nodes ready now: the one a call asks for, else the next in turn. */
    private static final class Ready extends SubchannelPicker {
        private final List<Subchannel> ready;
        private final Map<SocketAddress, Subchannel> byAddress;
        private final AtomicInteger next = new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 16));

        Ready(List<Subchannel> ready, Map<SocketAddress, Subchannel> byAddress) {
            this.ready = ready;
            this.byAddress = byAddress;
        }

        @Override
        public PickResult pickSubchannel(PickSubchannelArgs args) {
            SocketAddress wanted = args.getCallOptions().getOption(NODE);
            if (wanted != null) {
                Subchannel owner = byAddress.get(wanted);
                if (owner != null) {
                    return PickResult.withSubchannel(owner);
                }
            }
            return PickResult.withSubchannel(ready.get(Math.floorMod(next.getAndIncrement(), ready.size())));
        }
    }
}
