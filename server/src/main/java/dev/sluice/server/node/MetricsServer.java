package dev.sluice.server.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * {@code GET /metrics} over plain HTTP on a port of its own, on two threads of its own (a scrape
 * never runs on the decision path's threads, nor waits behind a console page asking every
 * member): the Prometheus text format, or OpenMetrics when the scraper's {@code Accept} asks for
 * it. The {@link Console}, when given, answers under {@code /console}.
 */
final class MetricsServer implements AutoCloseable {

    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService thread;

    /** Serves {@code scrape} (content type to text) on {@code host}:{@code port}; port 0 takes any free one. */
    MetricsServer(String host, int port, Function<String, String> scrape) throws IOException {
        this(host, port, scrape, null);
    }

    MetricsServer(String host, int port, Function<String, String> scrape, Console console) throws IOException {
        this.server = HttpServer.create(new InetSocketAddress(host, port), 16);
        this.thread = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "sluice-metrics");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(thread);
        server.createContext("/", exchange -> {
            try (exchange) {
                String path = exchange.getRequestURI().getPath();
                if (console != null && path.startsWith("/console")) {
                    if (!"GET".equals(exchange.getRequestMethod())) {
                        exchange.getResponseHeaders().set("Allow", "GET");
                        reply(exchange, 405, "text/plain; charset=utf-8", "the console is read-only: only GET\n");
                        return;
                    }
                    try {
                        if (console.handle(exchange)) {
                            return;
                        }
                    } catch (RuntimeException e) {
                        StringBuilder b = new StringBuilder("{\"error\":\"");
                        dev.sluice.server.json.JsonText.escape(b, String.valueOf(e.getMessage()));
                        reply(exchange, 503, "application/json; charset=utf-8", b.append("\"}").toString());
                        return;
                    }
                }
                if (!"/metrics".equals(path)) {
                    reply(exchange, 404, "text/plain; charset=utf-8", "not found: metrics are at /metrics"
                            + (console == null ? "" : ", the console at /console") + "\n");
                } else if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    reply(exchange, 405, "text/plain; charset=utf-8", "only GET\n");
                } else {
                    String type = wantsOpenMetrics(exchange.getRequestHeaders().getFirst("Accept")) ? OPEN_METRICS : PROMETHEUS_TEXT;
                    reply(exchange, 200, type, scrape.apply(type));
                }
            }
        });
        server.start();
    }

    /** Whether an {@code Accept} header asks for OpenMetrics (as Prometheus does when it can read it). */
    static boolean wantsOpenMetrics(String accept) {
        return accept != null && accept.contains("application/openmetrics-text");
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        reply(exchange, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    static void reply(HttpExchange exchange, int status, String type, byte[] bytes) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
    }
}
