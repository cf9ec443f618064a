package dev.sluice.client;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.Status;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Turns the client's targets into node addresses, again every {@code refresh} and whenever gRPC
 * asks (a connection failed): a target that is a DNS name (a Kubernetes headless service) may
 * resolve to many nodes, and nodes that go away are dropped and new ones picked up.
 */
final class NodesResolver extends NameResolver {

    /** Looks a host name up; {@link InetAddress#getAllByName} outside tests. */
    interface Lookup {
        InetAddress[] all(String host) throws UnknownHostException;
    }

    record Target(String host, int port) {
        static Target parse(String text) {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || colon == text.length() - 1) {
                throw new IllegalArgumentException("target '" + text + "' is not host:port");
            }
            String host = text.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("target '" + text + "' has no port number");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("target '" + text + "' has port " + port + ", not 1-65535");
            }
            return new Target(host, port);
        }
    }

    private final List<Target> targets;
    private final Lookup lookup;
    private final ScheduledExecutorService timer;
    private final Duration refresh;
    private Listener2 listener;
    private ScheduledFuture<?> periodic;
    private volatile List<InetSocketAddress> current = List.of();
    private volatile boolean shutdown;

    NodesResolver(List<Target> targets, Lookup lookup, ScheduledExecutorService timer, Duration refresh) {
        this.targets = List.copyOf(targets);
        this.lookup = lookup;
        this.timer = timer;
        this.refresh = refresh;
    }

    @Override
    public String getServiceAuthority() {
        return targets.get(0).host();
    }

    @Override
    public void start(Listener2 listener) {
        this.listener = listener;
        timer.execute(this::resolve);
        long every = refresh.toNanos();
        periodic = timer.scheduleWithFixedDelay(this::resolve, every, every, TimeUnit.NANOSECONDS);
    }

    @Override
    public void refresh() {
        if (!shutdown) {
            timer.execute(this::resolve);
        }
    }

    @Override
    public void shutdown() {
        shutdown = true;
        if (periodic != null) {
            periodic.cancel(false);
        }
    }

    /** The addresses last handed to gRPC. */
    List<InetSocketAddress> addresses() {
        return current;
    }

    void resolve() {
        if (shutdown) {
            return;
        }
        Set<InetSocketAddress> found = new LinkedHashSet<>();
        List<String> failures = new ArrayList<>();
        for (Target t : targets) {
            try {
                for (InetAddress a : lookup.all(t.host())) {
                    found.add(new InetSocketAddress(a, t.port()));
                }
            } catch (UnknownHostException e) {
                failures.add(t.host());
            }
        }
        if (found.isEmpty()) {
            listener.onError(Status.UNAVAILABLE.withDescription("no Sluice node found: cannot resolve " + failures));
            return;
        }
        List<InetSocketAddress> next = List.copyOf(found);
        if (next.equals(current)) {
            return;
        }
        current = next;
        List<EquivalentAddressGroup> groups = new ArrayList<>(next.size());
        for (InetSocketAddress a : next) {
            groups.add(new EquivalentAddressGroup(a));
        }
        listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
    }

    /** Creates resolvers for the {@code sluice} scheme the client's channel uses. */
    static final class Factory extends NameResolver.Factory {
        private final List<Target> targets;
        private final Lookup lookup;
        private final ScheduledExecutorService timer;
        private final Duration refresh;
        private volatile NodesResolver last;

        Factory(List<Target> targets, Lookup lookup, ScheduledExecutorService timer, Duration refresh) {
            this.targets = targets;
            this.lookup = lookup;
            this.timer = timer;
            this.refresh = refresh;
        }

        @Override
        public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
            last = new NodesResolver(targets, lookup, timer, refresh);
            return last;
        }

        @Override
        public String getDefaultScheme() {
            return "sluice";
        }

        NodesResolver last() {
            return last;
        }
    }
}
