package dev.sluice.server.api;

import dev.sluice.server.path.Caller;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Learns who a call comes from and hands that to the decision path through the call's context:
 * the owner of a bearer token in the {@code authorization} metadata, checked against the node's
 * tokens, or else the identity of a verified client certificate (its first SAN URI, such as a
 * SPIFFE id, else its first DNS name, else its subject). A call with an unknown token, or with
 * neither when the node expects one, is refused with UNAUTHENTICATED before anything else is
 * looked at; the refusal does not say which tokens or callers exist.
 */
public final class CallerIdentity implements ServerInterceptor {

    static final Context.Key<Caller> CALLER = Context.key("sluice-caller");

    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String BEARER = "Bearer ";

    private final Function<String, String> tokens;
    private final boolean certificates;

    /**
     * @param tokens       the owner of a bearer token, or {@code null} for an unknown one; {@code null}
     *                     when the node takes no tokens
     * @param certificates whether callers present verified client certificates (mutual TLS)
     */
    public CallerIdentity(Function<String, String> tokens, boolean certificates) {
        this.tokens = tokens;
        this.certificates = certificates;
    }

    /** The caller of the call being served; anonymous when the node verifies no identity. */
    static Caller current() {
        Caller c = CALLER.get();
        return c == null ? Caller.ANONYMOUS : c;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        String id;
        String authorization = headers.get(AUTHORIZATION);
        if (authorization != null && tokens != null) {
            if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                return refuse(call, "the authorization metadata is not a bearer token (authorization: Bearer TOKEN)");
            }
            id = tokens.apply(authorization.substring(BEARER.length()).strip());
            if (id == null) {
                return refuse(call, "the bearer token is not one this node knows");
            }
        } else {
            id = certificates ? certificateIdentity(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)) : null;
            if (id == null && tokens != null) {
                return refuse(call, "this node answers only callers it knows: send authorization: Bearer TOKEN"
                        + (certificates ? " or present a client certificate" : ""));
            }
        }
        Context context = Context.current().withValue(CALLER, id == null ? Caller.ANONYMOUS : new Caller(id));
        return Contexts.interceptCall(context, call, headers, next);
    }

    private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, String why) {
        call.close(Status.UNAUTHENTICATED.withDescription(why), new Metadata());
        return new ServerCall.Listener<>() { };
    }

    /** The identity a verified client certificate carries, or {@code null} when there is none. */
    static String certificateIdentity(SSLSession session) {
        if (session == null) {
            return null;
        }
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
            return null;
        }
        String dns = null;
        try {
            Collection<List<?>> names = leaf.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> name : names) {
                    int type = (Integer) name.get(0);
                    if (type == 6) {
                        return (String) name.get(1); // URI, e.g. a SPIFFE id
                    }
                    if (type == 2 && dns == null) {
                        dns = (String) name.get(1);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return null;
        }
        return dns != null ? dns : leaf.getSubjectX500Principal().getName();
    }
}
