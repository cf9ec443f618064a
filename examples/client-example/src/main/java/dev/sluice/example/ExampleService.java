package dev.sluice.example;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.client.Acquire;
import dev.sluice.client.AcquireResult;
import dev.sluice.client.ResponseWriter;
import dev.sluice.client.SluiceClient;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * A small HTTP service that asks Sluice before answering, using the demo policy (10 requests per
 * second per client IP). Run a node, then:
 *
 * <pre>
 * java -cp examples/client-example/target/sluice-client-example.jar:... dev.sluice.example.ExampleService 8080 localhost:8081
 * curl -i localhost:8080/hello
 * </pre>
 *
 * <p>Against nodes that speak TLS ({@code --tls-cert}) and know their callers, the environment
 * tells the client how: {@code SLUICE_TLS_CA} (the nodes' CA certificate, PEM), with
 * {@code SLUICE_TLS_CERT} and {@code SLUICE_TLS_KEY} for mutual TLS, or {@code SLUICE_TOKEN} for a
 * bearer token.
 */
public final class ExampleService implements AutoCloseable {

    private final HttpServer http;
    private final SluiceClient sluice;

    public ExampleService(int port, SluiceClient sluice) throws IOException {
        this.sluice = sluice;
        this.http = HttpServer.create(new InetSocketAddress(port), 0);
        http.setExecutor(Executors.newFixedThreadPool(8));
        http.createContext("/", this::handle);
        http.start();
    }

    public int port() {
        return http.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String ip = exchange.getRemoteAddress().getAddress().getHostAddress();
        AcquireResult decision = sluice.acquire(Acquire.domain("demo").with("ip", ip));
        HttpExchangeWriter writer = new HttpExchangeWriter(exchange);
        decision.writeTo(writer);
        if (decision.denied()) {
            writer.send();
            return;
        }
        writer.status(200);
        writer.body("hello from a rate-limited service\n");
        writer.send();
    }

    /** Adapts a JDK {@link HttpExchange} to the client's {@link ResponseWriter}. */
    private static final class HttpExchangeWriter implements ResponseWriter {
        private final HttpExchange exchange;
        private int status = 200;
        private String body = "";

        HttpExchangeWriter(HttpExchange exchange) {
            this.exchange = exchange;
        }

        @Override
        public void status(int code) {
            status = code;
        }

        @Override
        public void header(String name, String value) {
            exchange.getResponseHeaders().add(name, value);
        }

        @Override
        public void body(String text) {
            body = text;
        }

        void send() throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
        sluice.close();
    }

    /**
     * The client this service uses: plaintext by default; TLS with the CA in {@code SLUICE_TLS_CA},
     * mutual TLS with {@code SLUICE_TLS_CERT} and {@code SLUICE_TLS_KEY} too, and a bearer token
     * from {@code SLUICE_TOKEN}.
     */
    static SluiceClient.Builder client(String target, Map<String, String> env) {
        SluiceClient.Builder b = SluiceClient.builder().target(target);
        String ca = env.get("SLUICE_TLS_CA");
        if (ca != null) {
            String cert = env.get("SLUICE_TLS_CERT");
            b = cert == null ? b.tls(Path.of(ca)) : b.tls(Path.of(ca), Path.of(cert), Path.of(env.get("SLUICE_TLS_KEY")));
        }
        String token = env.get("SLUICE_TOKEN");
        return token == null ? b : b.bearerToken(token);
    }

    /** {@code ExampleService [port] [sluice host:port]}: defaults 8080 and localhost:8081. */
    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        String target = args.length > 1 ? args[1] : "localhost:8081";
        ExampleService service = new ExampleService(port, client(target, System.getenv()).build());
        System.out.println("example service on :" + service.port() + ", asking Sluice at " + target);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close));
    }
}
