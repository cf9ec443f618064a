package dev.sluice.server.node;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;

import java.util.concurrent.TimeUnit;

/**
 * The node's OpenTelemetry tracer: spans batched to an OTLP/HTTP collector ({@code --otlp-endpoint}),
 * or handed at once to an exporter given in code (tests). No SDK at all when neither is set.
 */
final class Tracing implements AutoCloseable {

    private final SdkTracerProvider provider;

    private Tracing(SdkTracerProvider provider) {
        this.provider = provider;
    }

    /** The tracing {@code settings} ask for, or {@code null} for none. */
    static Tracing of(NodeSettings settings, String instance) {
        SpanProcessor processor;
        if (settings.spanExporter() != null) {
            processor = SimpleSpanProcessor.create(settings.spanExporter());
        } else if (settings.otlpEndpoint() != null) {
            String base = settings.otlpEndpoint().replaceAll("/+$", "");
            SpanExporter otlp = OtlpHttpSpanExporter.builder().setEndpoint(base.endsWith("/v1/traces") ? base : base + "/v1/traces")
                    .build();
            processor = BatchSpanProcessor.builder(otlp).build();
        } else {
            return null;
        }
        Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(
                AttributeKey.stringKey("service.name"), "sluice", AttributeKey.stringKey("service.instance.id"), instance)));
        return new Tracing(SdkTracerProvider.builder().setResource(resource).addSpanProcessor(processor).build());
    }

    Tracer tracer() {
        return provider.get("dev.sluice.server");
    }

    @Override
    public void close() {
        provider.shutdown().join(5, TimeUnit.SECONDS);
    }
}
