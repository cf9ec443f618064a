package dev.sluice.server.node;

import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireBatchResponse;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.RateLimiterGrpc;
import dev.sluice.api.v1.StreamRequest;
import dev.sluice.api.v1.StreamRequests;
import dev.sluice.api.v1.StreamResponse;
import dev.sluice.api.v1.StreamResponses;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.LogCapture;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.testing.Wire;
import dev.sluice.server.time.ManualClock;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bytes that make no request, sent over a real socket as a careless or hostile caller would: each
 * is answered INVALID_ARGUMENT naming the field (or RESOURCE_EXHAUSTED naming the size), a stream
 * goes on past a bad entry, nothing unrelated is disturbed, and the log does not grow with them.
 */
class HostileInputTest {

    private static final int MAX_MESSAGE = 64 * 1024;
    private static SluiceNode node;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        node = TestNodes.start(TestNodes.settings(TestNodes.uniqueCluster("hostile"), ManualClock.fixed())
                .policies(PolicyLoader.bundledDemo()).maxMessageSize(MAX_MESSAGE).build());
        channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().maxInboundMessageSize(64 << 20).build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        node.close();
    }

    private static Status unaryStatus(byte[] request) {
        return Wire.acquireStatus(channel, request);
    }

    private static final byte[] BAD_UTF8 = {'a', (byte) 0xC3, '(', 'b'};

    private static void assertInvalid(Status s, String field) {
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), String.valueOf(s));
        assertTrue(s.getDescription().startsWith(field), "names " + field + ": " + s.getDescription());
    }

    @Test
    void invalidUtf8InAnyStringFieldIsInvalidArgumentNamingTheField() {
        assertInvalid(unaryStatus(Wire.withString(1, BAD_UTF8)), "domain");
        assertInvalid(unaryStatus(Wire.withString(5, BAD_UTF8)), "request_id");
        Status value = unaryStatus(Wire.withDescriptorValue("ip", BAD_UTF8));
        assertInvalid(value, "descriptors[\"ip\"]");
        assertTrue(value.getDescription().contains("byte 1"), value.getDescription());
    }

    @Test
    void truncatedAndGarbledMessagesAreInvalidArgument() {
        byte[] good = AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "192.0.2.44").build().toByteArray();
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
        assertEquals(Status.Code.INVALID_ARGUMENT, unaryStatus(truncated).getCode());
        assertEquals(Status.Code.INVALID_ARGUMENT, unaryStatus(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01}).getCode());
        assertEquals(Status.OK.getCode(), unaryStatus(good).getCode(), "the same connection goes on");
    }

    @Test
    void anOversizedMessageIsResourceExhaustedNamingTheLimitAndUnrelatedCallsGoOn() throws Exception {
        byte[] huge = AcquireRequest.newBuilder().setDomain("demo").setRequestId("x").putDescriptors("ip", "1")
                .putDescriptors("padding", "p".repeat(500)).build().toByteArray();
        byte[] oversized = java.util.Arrays.copyOf(huge, MAX_MESSAGE + 1024);
        List<CompletableFuture<Status>> unrelated = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int n = i;
            unrelated.add(CompletableFuture.supplyAsync(() -> unaryStatus(AcquireRequest.newBuilder().setDomain("demo")
                    .putDescriptors("ip", "198.51.100." + n).build().toByteArray())));
        }
        Status refused = unaryStatus(oversized);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getCode(), String.valueOf(refused));
        assertTrue(refused.getDescription().contains(Integer.toString(MAX_MESSAGE)), refused.getDescription());
        for (CompletableFuture<Status> u : unrelated) {
            assertEquals(Status.Code.OK, u.get(30, TimeUnit.SECONDS).getCode(), "an unrelated call on the same connection is answered");
        }
    }

    @Test
    void theLargestBatchTheContractAllowsFitsTheDefaultMessageSize() {
        String threeByte = "\u20ac"; // the euro sign: three bytes in UTF-8
        AcquireRequest.Builder largest = AcquireRequest.newBuilder().setDomain(threeByte.repeat(128)).setCost(Long.MAX_VALUE)
                .setDryRun(true).setRequestId(threeByte.repeat(128));
        for (int d = 0; d < 32; d++) {
            largest.putDescriptors(String.format("%02d", d) + threeByte.repeat(62), threeByte.repeat(512));
        }
        AcquireBatchRequest.Builder batch = AcquireBatchRequest.newBuilder();
        for (int i = 0; i < 1000; i++) {
            batch.addRequests(largest);
        }
        int size = batch.build().getSerializedSize();
        assertTrue(size <= NodeSettings.builder().build().maxMessageSize(), "the largest batch, " + size + " bytes, fits the default");
        assertTrue(size > 56_000_000 && size < 57_000_000, "as the docs say, 56.4 MB: " + size);
    }

    @Test
    void aBadEntryOnAStreamIsAnsweredOnItsIdAndTheStreamGoesOn() throws Exception {
        LinkedBlockingQueue<StreamResponse> answers = new LinkedBlockingQueue<>();
        CompletableFuture<Status> ended = new CompletableFuture<>();
        ClientCall<byte[], byte[]> call = channel.newCall(Wire.raw(RateLimiterGrpc.getAcquireStreamMethod()), CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                try {
                    answers.addAll(StreamResponses.parseFrom(message).getResponsesList());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                call.request(1);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                ended.complete(status);
            }
        }, new Metadata());
        call.request(1);
        byte[] good = StreamRequest.newBuilder().setId(1).setRequest(AcquireRequest.newBuilder().setDomain("demo")
                .putDescriptors("ip", "203.0.113.1")).build().toByteArray();
        byte[] bad = Wire.streamEntry(2, Wire.withString(1, BAD_UTF8));
        byte[] alsoGood = StreamRequest.newBuilder().setId(3).setRequest(AcquireRequest.newBuilder().setDomain("demo")
                .putDescriptors("ip", "203.0.113.3")).build().toByteArray();
        call.sendMessage(Wire.repeated(good, bad, alsoGood));
        Map<Long, StreamResponse> byId = new java.util.HashMap<>();
        for (int i = 0; i < 3; i++) {
            StreamResponse r = answers.poll(10, TimeUnit.SECONDS);
            assertNotNull(r, "an answer for every entry, the bad one included");
            byId.put(r.getId(), r);
        }
        assertEquals(Decision.ALLOWED, byId.get(1L).getResult().getResponse().getDecision());
        assertEquals(Status.Code.INVALID_ARGUMENT.value(), byId.get(2L).getResult().getError().getCode());
        assertTrue(byId.get(2L).getResult().getError().getMessage().startsWith("domain"), byId.get(2L).toString());
        assertEquals(Decision.ALLOWED, byId.get(3L).getResult().getResponse().getDecision());
        call.sendMessage(StreamRequests.newBuilder().addRequests(StreamRequest.newBuilder().setId(4).setRequest(AcquireRequest.newBuilder()
                .setDomain("demo").putDescriptors("ip", "203.0.113.4"))).build().toByteArray());
        StreamResponse after = answers.poll(10, TimeUnit.SECONDS);
        assertNotNull(after, "the stream goes on");
        assertEquals(4, after.getId());
        call.halfClose();
        assertEquals(Status.Code.OK, ended.get(10, TimeUnit.SECONDS).getCode());
    }

    @Test
    void aBatchAnswersItsBadEntriesOnTheirOwnAndTheOthersAsUsual() throws Exception {
        byte[] good = AcquireRequest.newBuilder().setDomain("demo").putDescriptors("ip", "203.0.113.9").build().toByteArray();
        byte[] batch = Wire.repeated(good, Wire.withDescriptorValue("ip", BAD_UTF8), good);
        AcquireBatchResponse r = AcquireBatchResponse.parseFrom(Wire.call(channel, RateLimiterGrpc.getAcquireBatchMethod(), batch).bytes());
        assertEquals(3, r.getResultsCount());
        assertTrue(r.getResults(0).hasResponse());
        assertEquals(Status.Code.INVALID_ARGUMENT.value(), r.getResults(1).getError().getCode());
        assertTrue(r.getResults(1).getError().getMessage().startsWith("descriptors[\"ip\"]"), r.getResults(1).toString());
        assertTrue(r.getResults(2).hasResponse());
    }

    @Test
    void twoThousandBadRequestsWriteAFewLogLinesAndNoStackTrace() {
        try (LogCapture log = LogCapture.start()) {
            for (int i = 0; i < 2000; i++) {
                Status s = unaryStatus(i % 2 == 0 ? Wire.withString(1, BAD_UTF8) : new byte[] {(byte) 0x8A, (byte) i});
                assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
            }
            assertTrue(log.records().size() <= 3, "a count an interval, not a line a request: " + log.records().size() + " lines");
            assertEquals(List.of(), log.withStackTraces(), "no stack trace for a caller's mistake");
        }
        assertTrue(node.callsReceived() >= 2000);
    }
}
