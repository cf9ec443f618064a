package dev.sluice.server.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.TextMapGetter;

/**
 * Reads the caller's W3C trace context ({@code traceparent}, {@code tracestate}) from the call's
 * metadata, so the node's spans continue the caller's trace. Installed only when tracing is on.
 */
public final class TraceContext implements ServerInterceptor {

    private static final Context.Key<io.opentelemetry.context.Context> PARENT = Context.key("sluice-trace-parent");

    private static final TextMapGetter<Metadata> METADATA = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Metadata carrier) {
            return carrier.keys();
        }

        @Override
        public String get(Metadata carrier, String key) {
            return carrier == null ? null : carrier.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        }
    };

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        io.opentelemetry.context.Context parent = W3CTraceContextPropagator.getInstance()
                .extract(io.opentelemetry.context.Context.root(), headers, METADATA);
        return Contexts.interceptCall(Context.current().withValue(PARENT, parent), call, headers, next);
    }

    /** The current call's trace context, or {@code null} when tracing is off. */
    static io.opentelemetry.context.Context current() {
        return PARENT.get();
    }
}
