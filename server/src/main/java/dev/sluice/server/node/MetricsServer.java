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
 * {@code GET /metrics} over plain HTTP on a port of its own, on one thread of its own (a scrape
 * never runs on the decision path's threads): the Prometheus text format, or OpenMetrics when the
 * scraper's {@code Accept} asks for it.
 */
final class MetricsServer implements AutoCloseable {

    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService thread;

    /** Serves {@code scrape} (content type to text) on {@code host}:{@code port}; port 0 takes any free one. */
    MetricsServer(String host, int port, Function<String, String> scrape) throws IOException {
        this.server = HttpServer.create(new InetSocketAddress(host, port), 16);
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sluice-metrics");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(thread);
        server.createContext("/", exchange -> {
            try (exchange) {
                if (!"/metrics".equals(exchange.getRequestURI().getPath())) {
                    reply(exchange, 404, "text/plain; charset=utf-8", "not found: metrics are at /metrics\n");
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
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
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
