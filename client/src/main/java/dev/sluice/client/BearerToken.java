package dev.sluice.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;

import java.util.concurrent.Executor;

/** A bearer token on every call, as {@code authorization: Bearer TOKEN}; refused on a connection without privacy. */
final class BearerToken extends CallCredentials {

    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final String header;

    BearerToken(String token) {
        this.header = "Bearer " + token;
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        if (info.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY) {
            applier.fail(Status.UNAUTHENTICATED.withDescription("the bearer token is not sent over a connection without TLS"));
            return;
        }
        Metadata m = new Metadata();
        m.put(AUTHORIZATION, header);
        applier.apply(m);
    }
}
