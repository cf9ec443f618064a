package dev.sluice.server.node;

import dev.sluice.server.cli.Sluice;
import dev.sluice.server.logging.JsonFormatter;
import dev.sluice.server.logging.TextFormatter;
import dev.sluice.server.policy.PolicyException;

import java.io.IOException;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/** {@code java -jar sluice-server.jar}: starts a node and runs it until SIGTERM or SIGINT. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        CommandLineSettings.Parsed parsed;
        try {
            parsed = CommandLineSettings.parse(args, System.getenv());
        } catch (SettingsException e) {
            System.err.println("sluice: " + e.getMessage());
            return 2;
        } catch (IllegalArgumentException e) {
            System.err.println("sluice: " + e.getMessage());
            return 2;
        }
        if (parsed.help()) {
            System.out.print(CommandLineSettings.usage());
            return 0;
        }
        if (!parsed.check().isEmpty()) {
            return checkPolicies(parsed.check());
        }
        if (parsed.version()) {
            System.out.println("sluice " + version());
            return 0;
        }
        configureLogging(parsed.settings().logLevel(), parsed.settings().logFormat());
        // The hook is registered before the node starts: a SIGTERM that comes as soon as health
        // says SERVING (or while the node is starting) must still stop it gracefully, and a hook
        // cannot be added once the JVM has begun shutting down.
        java.util.concurrent.atomic.AtomicReference<SluiceNode> started = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.CountDownLatch startEnded = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                // A start that never ends (a member port that never binds) must not hold the JVM forever.
                startEnded.await(2, java.util.concurrent.TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            SluiceNode n = started.get();
            if (n == null) {
                return;
            }
            // Written directly: the JDK resets java.util.logging in a shutdown hook of its own,
            // which may run before this one and swallow the node's log lines.
            String format = parsed.settings().logFormat();
            System.err.print(line(format, "stopping: finishing calls in flight, then leaving the cluster"));
            n.close();
            System.err.print(line(format, "stopped"));
        }, "sluice-shutdown"));
        SluiceNode node;
        try {
            node = SluiceNode.start(parsed.settings());
            started.set(node);
        } catch (SettingsException e) {
            System.err.println("sluice: " + e.getMessage());
            return 2;
        } catch (PolicyException e) {
            System.err.println("sluice: not starting: the configuration has " + e.report());
            return 2;
        } catch (IOException e) {
            System.err.println("sluice: could not start: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            System.err.println("sluice: could not start: " + rootMessage(e));
            return 1;
        } finally {
            startEnded.countDown();
        }
        try {
            node.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** Checks policy files as a node would load them; 0 when every one is valid, 1 otherwise. */
    /** {@code --check-policies FILE...}: the command line's {@code sluice policy check}, the same report and exit code. */
    static int checkPolicies(java.util.List<String> files) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("policy", "check"));
        args.addAll(files);
        return Sluice.run(args.toArray(String[]::new), new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true));
    }

    /** A line of the log's format, written without java.util.logging (which a JDK shutdown hook may have reset). */
    private static String line(String format, String message) {
        java.util.logging.LogRecord r = new java.util.logging.LogRecord(Level.INFO, message);
        r.setLoggerName("sluice");
        return ("json".equals(format) ? new JsonFormatter() : new TextFormatter()).format(r);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t + ")";
    }

    /** One line per record, as text or JSON, Hazelcast's and gRPC's too; Hazelcast kept to warnings unless debugging. */
    static void configureLogging(String level, String format) {
        if (System.getProperty("java.util.logging.config.file") != null) {
            return;
        }
        Level root = switch (level) {
            case "error" -> Level.SEVERE;
            case "warn" -> Level.WARNING;
            case "debug" -> Level.FINE;
            default -> Level.INFO;
        };
        Logger rootLogger = Logger.getLogger("");
        rootLogger.setLevel(root);
        for (Handler h : rootLogger.getHandlers()) {
            h.setLevel(root);
            h.setFormatter("json".equals(format) ? new JsonFormatter() : new TextFormatter());
        }
        Logger.getLogger("com.hazelcast").setLevel(level.equals("debug") ? Level.INFO : Level.WARNING);
        Logger.getLogger("io.grpc").setLevel(level.equals("debug") ? Level.INFO : Level.WARNING);
    }

    /** The version this build carries, or "(development build)" when run from classes. */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "(development build)" : v;
    }
}
