package dev.sluice.server.cli;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import javax.net.ssl.SSLException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * How a command reaches a node: the nodes to try in order, the caller's credentials (a bearer
 * token, a client certificate), TLS, the time allowed per node, and the output format. Shared by
 * every command that asks a node.
 */
final class NodeOptions {

    @Option(names = "--target", paramLabel = "HOST:PORT", split = ",", defaultValue = "localhost:8081",
            description = "nodes to ask, comma-separated, tried in order (default ${DEFAULT-VALUE})")
    List<String> targets;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:SLUICE_TOKEN}",
            description = "bearer token to present (default: the SLUICE_TOKEN environment variable); the admin commands need one "
                    + "the node maps to a caller holding the admin role, or a client certificate")
    String token;

    @Option(names = "--tls", description = "speak TLS to the nodes (implied by --ca-file and --cert)")
    boolean tls;

    @Option(names = "--ca-file", paramLabel = "FILE", description = "PEM certificates to trust as the nodes' issuers (default: the JVM's)")
    Path caFile;

    @Option(names = "--cert", paramLabel = "FILE", description = "PEM client certificate chain, for nodes that verify callers by certificate")
    Path cert;

    @Option(names = "--key", paramLabel = "FILE", description = "PEM private key of --cert")
    Path key;

    @Option(names = "--timeout", paramLabel = "MILLIS", defaultValue = "5000", description = "per node (default ${DEFAULT-VALUE})")
    long timeoutMillis;

    @CommandLine.Mixin
    OutputOption output;

    /** A refusal from a node: the status it answered, for the command to report and exit on. */
    static final class Refused extends Exception {
        final String target;
        final Status status;

        Refused(String target, Status status) {
            super(target + " refused: " + status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription()));
            this.target = target;
            this.status = status;
        }
    }

    /** What a call on one node answered, with the node that answered it. */
    record Answered<T>(String target, T answer) {
    }

    /**
     * Makes {@code call} on each target in order until one answers; a node that cannot be reached
     * (or does not answer in time) is passed over. Returns {@code null} having said on {@code err}
     * that none answered; throws {@link Refused} when a node refused the call.
     */
    <S extends AbstractStub<S>, T> Answered<T> call(Function<ManagedChannel, S> stubs, Function<S, T> call, PrintWriter err,
                                                   CommandLine cli) throws Refused {
        List<String> unreachable = new ArrayList<>();
        for (String target : targets) {
            ManagedChannel channel = channel(target, cli);
            try {
                S stub = stubs.apply(channel).withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
                if (token != null && !token.isEmpty()) {
                    Metadata m = new Metadata();
                    m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
                    stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
                }
                return new Answered<>(target, call.apply(stub));
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
                    unreachable.add(target + " (" + code + (e.getStatus().getDescription() == null ? "" : ": "
                            + e.getStatus().getDescription()) + ")");
                    continue;
                }
                throw new Refused(target, e.getStatus());
            } finally {
                channel.shutdownNow();
            }
        }
        err.println("sluice: no node answered: " + String.join(", ", unreachable));
        err.flush();
        return null;
    }

    private ManagedChannel channel(String target, CommandLine cli) {
        NettyChannelBuilder b = NettyChannelBuilder.forTarget(target);
        if (!tls && caFile == null && cert == null) {
            return b.usePlaintext().build();
        }
        if ((cert == null) != (key == null)) {
            throw new CommandLine.ParameterException(cli, "--cert and --key go together");
        }
        try {
            SslContextBuilder ssl = GrpcSslContexts.forClient();
            if (caFile != null) {
                ssl.trustManager(caFile.toFile());
            }
            if (cert != null) {
                ssl.keyManager(cert.toFile(), key.toFile());
            }
            return b.sslContext(ssl.build()).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, "cannot use the TLS files given: " + e.getMessage());
        }
    }
}
