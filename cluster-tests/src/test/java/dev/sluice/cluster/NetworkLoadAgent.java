package dev.sluice.cluster;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.client.Acquire;
import dev.sluice.client.AcquireResult;
import dev.sluice.client.FailureMode;
import dev.sluice.client.RetryPolicy;
import dev.sluice.client.SluiceClient;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.EquivalentAddressGroup;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The load client of the real-network tests, run in a network namespace of its own: the Java
 * client (unary calls, its retries on {@code UNAVAILABLE}, a fresh request id per request, failing
 * closed) spread over every node, and a history line for every request: when it was sent and
 * answered (wall-clock microseconds), the node that answered (the last attempt's), its id, its
 * key, its outcome and its attempts. The test drives it over stdin, one command a line, and reads
 * one answer a line on stdout:
 *
 * <pre>
 * load FILE RATE THREADS DOMAIN KEY,KEY,...   start load at RATE requests a second in all
 * stop                                        stop it, write the history; answers "stopped N"
 * health HOST:PORT                            the node's gRPC health; answers "health STATUS"
 * members HOST:PORT                           the cluster size the node's /metrics reports (-1: no answer)
 * safe HOST:PORT                              whether the node's console reports its cluster safe (every partition's
 *                                             owner and backup in place): "safe true", "safe false" or "safe unknown"
 * quit
 * </pre>
 *
 * Usage: {@code NetworkLoadAgent HOST:PORT,HOST:PORT,...}.
 */
public final class NetworkLoadAgent {

    /** One request's record. */
    record Operation(long sentMicros, long answeredMicros, String node, String requestId, String key, String outcome, List<String> attempts) {
        String line() {
            return sentMicros + "\t" + answeredMicros + "\t" + node + "\t" + requestId + "\t" + key + "\t" + outcome + "\t"
                    + (attempts.isEmpty() ? "-" : String.join("|", attempts));
        }

        static Operation parse(String line) {
            String[] f = line.split("\t");
            return new Operation(Long.parseLong(f[0]), Long.parseLong(f[1]), f[2], f[3], f[4], f[5],
                    f[6].equals("-") ? List.of() : List.of(f[6].split("\\|")));
        }

        boolean admitted() {
            return outcome.equals("ALLOWED");
        }

        /** No node answered in time: the failure mode did. */
        boolean failed() {
            return outcome.startsWith("FAILED");
        }
    }

    /** Each request id's attempts: the node each went to and how it ended. */
    private final Map<String, List<String>> attempts = new ConcurrentHashMap<>();
    private final ManagedChannel channel;
    private final SluiceClient client;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final Map<String, ManagedChannel> probes = new ConcurrentHashMap<>();
    private Load load;

    private NetworkLoadAgent(List<InetSocketAddress> nodes) {
        channel = ManagedChannelBuilder.forTarget("fixed:///nodes").nameResolverFactory(new Fixed(nodes))
                .defaultLoadBalancingPolicy("round_robin").usePlaintext().intercept(new Recorder())
                // As the Java client's own channel finds connections a fault left dead.
                .keepAliveTime(5, TimeUnit.SECONDS).keepAliveTimeout(2, TimeUnit.SECONDS).build();
        client = SluiceClient.builder().channel(channel).streaming(false).batching(0, 1).denialCache(false)
                .deadline(Duration.ofMillis(1500)).failureMode(FailureMode.FAIL_CLOSED)
                .retryPolicy(new RetryPolicy(4, Duration.ofMillis(20), Duration.ofMillis(200), 2.0)).build();
    }

    public static void main(String[] args) throws Exception {
        List<InetSocketAddress> nodes = new ArrayList<>();
        for (String t : args[0].split(",")) {
            int colon = t.lastIndexOf(':');
            nodes.add(new InetSocketAddress(t.substring(0, colon), Integer.parseInt(t.substring(colon + 1))));
        }
        NetworkLoadAgent agent = new NetworkLoadAgent(nodes);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        out.println("ready");
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] w = line.trim().split(" ");
            switch (w[0]) {
                case "load" -> {
                    agent.load = new Load(agent, Path.of(w[1]), Double.parseDouble(w[2]), Integer.parseInt(w[3]), w[4], List.of(w[5].split(",")));
                    out.println("loading");
                }
                case "stop" -> out.println("stopped " + agent.load.stop());
                case "health" -> out.println("health " + agent.health(w[1]));
                case "members" -> out.println("members " + agent.members(w[1]));
                case "safe" -> out.println("safe " + agent.safe(w[1]));
                case "quit" -> {
                    agent.client.close();
                    agent.channel.shutdownNow();
                    out.println("bye");
                    System.exit(0);
                }
                default -> out.println("unknown command " + w[0]);
            }
        }
        System.exit(0);
    }

    private String health(String target) {
        ManagedChannel c = probes.computeIfAbsent(target, t -> ManagedChannelBuilder.forTarget(t).usePlaintext().build());
        try {
            return HealthGrpc.newBlockingStub(c).withDeadlineAfter(1, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
                    .getStatus().name();
        } catch (RuntimeException e) {
            return "UNKNOWN";
        }
    }

    private String safe(String target) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + target + "/console/overview.json"))
                    .timeout(Duration.ofSeconds(7)).build(), HttpResponse.BodyHandlers.ofString());
            String body = r.body();
            return r.statusCode() != 200 ? "unknown" : body.contains("\"safe\":true") ? "true" : body.contains("\"safe\":false") ? "false" : "unknown";
        } catch (Exception e) {
            return "unknown";
        }
    }

    private long members(String target) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + target + "/metrics"))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            for (String line : r.body().split("\n")) {
                if (line.startsWith("sluice_cluster_members ")) {
                    return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim());
                }
            }
            return -1;
        } catch (Exception e) {
            return -1;
        }
    }

    /** Paced closed-loop load: each thread sends its share of the rate, one request at a time. */
    private static final class Load {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final ConcurrentLinkedQueue<Operation> done = new ConcurrentLinkedQueue<>();
        private final List<Thread> threads = new ArrayList<>();
        private final Path file;

        Load(NetworkLoadAgent agent, Path file, double rate, int threadCount, String domain, List<String> keys) {
            this.file = file;
            long periodNanos = (long) (1e9 * threadCount / rate);
            for (int t = 0; t < threadCount; t++) {
                int worker = t;
                Thread thread = new Thread(() -> {
                    long next = System.nanoTime() + periodNanos * worker / threadCount;
                    long n = worker;
                    while (running.get()) {
                        LockSupport.parkNanos(next - System.nanoTime());
                        next += periodNanos;
                        String key = keys.get((int) (n++ % keys.size()));
                        long sent = micros();
                        AcquireResult r = agent.client.acquire(Acquire.domain(domain).with("k", key));
                        long answered = micros();
                        String id = r.requestId();
                        List<String> tried = agent.attempts.remove(id);
                        List<String> each = tried == null ? List.of() : List.copyOf(tried);
                        String node = each.isEmpty() ? "-" : each.get(each.size() - 1).split(" ")[0];
                        String outcome = r.source() == AcquireResult.Source.SERVER ? (r.allowed() ? "ALLOWED" : "DENIED")
                                : "FAILED:" + (each.isEmpty() ? "NO_ANSWER" : each.get(each.size() - 1).split(" ")[1]);
                        done.add(new Operation(sent, answered, node, id.isEmpty() ? "-" : id, key, outcome,
                                each.stream().map(x -> x.replace(' ', ':')).toList()));
                    }
                }, "load-" + t);
                thread.setDaemon(true);
                thread.start();
                threads.add(thread);
            }
        }

        int stop() throws Exception {
            running.set(false);
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(30));
            }
            List<Operation> all = new ArrayList<>(done);
            try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                for (Operation o : all) {
                    w.write(o.line());
                    w.newLine();
                }
            }
            return all.size();
        }
    }

    /** Wall-clock microseconds, as the history records times. */
    static long micros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    /** Notes, for each request id, every attempt's node and outcome. */
    private final class Recorder implements ClientInterceptor {
        @Override
        public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                private volatile String id;

                @Override
                public void start(Listener<A> listener, Metadata headers) {
                    ClientCall<Q, A> call = this;
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        private boolean answered;

                        // Noted before the client sees it: the client completes a request on its answer, before the call closes.
                        @Override
                        public void onMessage(A message) {
                            answered = true;
                            note("OK");
                            super.onMessage(message);
                        }

                        @Override
                        public void onClose(Status status, Metadata trailers) {
                            if (!answered) {
                                note(status.getCode().name());
                            }
                            super.onClose(status, trailers);
                        }

                        private void note(String outcome) {
                            if (id != null) {
                                SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                                String node = remote instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "?";
                                attempts.computeIfAbsent(id, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(node + " " + outcome);
                            }
                        }
                    }, headers);
                }

                @Override
                public void sendMessage(Q message) {
                    if (message instanceof AcquireRequest r) {
                        id = r.getRequestId();
                    }
                    super.sendMessage(message);
                }
            };
        }
    }

    /** A name resolver that always answers the same nodes. */
    private static final class Fixed extends NameResolver.Factory {
        private final List<EquivalentAddressGroup> groups = new ArrayList<>();

        Fixed(List<InetSocketAddress> nodes) {
            nodes.forEach(n -> groups.add(new EquivalentAddressGroup(n)));
        }

        @Override
        public NameResolver newNameResolver(URI target, NameResolver.Args args) {
            return new NameResolver() {
                @Override
                public String getServiceAuthority() {
                    return "nodes";
                }

                @Override
                public void start(Listener2 listener) {
                    listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
                }

                @Override
                public void shutdown() {
                }
            };
        }

        @Override
        public String getDefaultScheme() {
            return "fixed";
        }
    }
}
