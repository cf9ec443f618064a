package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A caller's W3C trace context continues in the node: a span per decision, and a child for the store's part. */
class TracingTest {

    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CALLER_SPAN = "00f067aa0ba902b7";

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private SluiceNode node;
    private ManagedChannel channel;

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    @Test
    void theCallersTraceIdIsOnTheNodesSpansWithTheDecision() {
        node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("tracing"), ManualClock.fixed())
                .policies(TestNodes.policies("""
                        domains:
                          shop:
                            rules:
                              - {name: per-user, limits: [{name: burst, algorithm: token_bucket, capacity: 1, refill: 1, refill_period: 1h, key: [user]}]}
                        """)).spanExporter(spans).build());
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), "00-" + TRACE_ID + "-" + CALLER_SPAN + "-01");
        var stub = RateLimiterGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        AcquireRequest u1 = AcquireRequest.newBuilder().setDomain("shop").putDescriptors("user", "u1").build();
        stub.acquire(u1);
        stub.acquire(u1);

        await().atMost(Duration.ofSeconds(10)).until(() -> spans.getFinishedSpanItems().size() >= 4);
        List<SpanData> decisions = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("sluice.decide")).toList();
        assertEquals(2, decisions.size());
        for (SpanData d : decisions) {
            assertEquals(TRACE_ID, d.getTraceId(), "the caller's trace continues");
            assertEquals(CALLER_SPAN, d.getParentSpanId(), "under the caller's span");
            assertEquals(SpanKind.SERVER, d.getKind());
            assertEquals("shop", d.getAttributes().get(AttributeKey.stringKey("sluice.domain")));
            assertEquals(List.of("per-user"), d.getAttributes().get(AttributeKey.stringArrayKey("sluice.rules")));
            SpanData store = spans.getFinishedSpanItems().stream()
                    .filter(s -> s.getName().equals("sluice.store") && s.getParentSpanId().equals(d.getSpanId())).findFirst().orElseThrow();
            assertEquals(TRACE_ID, store.getTraceId());
            assertTrue(store.getEndEpochNanos() <= d.getEndEpochNanos());
        }
        assertEquals(List.of("allowed", "denied"), decisions.stream()
                .sorted(java.util.Comparator.comparingLong(SpanData::getStartEpochNanos))
                .map(d -> d.getAttributes().get(AttributeKey.stringKey("sluice.decision"))).toList());

        // A call without trace context starts traces of its own, one for each request of a batch.
        spans.reset();
        RateLimiterGrpc.newBlockingStub(channel).acquireBatch(AcquireBatchRequest.newBuilder()
                .addRequests(AcquireRequest.newBuilder().setDomain("shop").putDescriptors("user", "u2"))
                .addRequests(AcquireRequest.newBuilder().setDomain("shop").putDescriptors("user", "u3")).build());
        await().atMost(Duration.ofSeconds(10)).until(() -> spans.getFinishedSpanItems().size() >= 4);
        List<SpanData> fresh = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("sluice.decide")).toList();
        assertEquals(2, fresh.size());
        for (SpanData d : fresh) {
            assertNotEquals(TRACE_ID, d.getTraceId());
            assertEquals("0000000000000000", d.getParentSpanId());
        }
    }
}
