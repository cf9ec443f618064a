package dev.sluice.client;

import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hot keys decided from leases against a real node: a hot combination is decided here, with the
 * node's headers counted down truthfully, and never more is admitted than the bucket holds; what
 * leases did not use comes back, so in the end exactly the limit is admitted. The node's decision
 * clock stands still, so its buckets never refill.
 */
class HotKeyLeasesTest {

    private static final String POLICY = """
            domains:
              api:
                response: {headers: x-ratelimit}
                rules:
                  - name: hot
                    match: {kind: hot}
                    limits: [{name: calls, algorithm: token_bucket, capacity: 20000, refill: 1, key: [tenant]}]
                  - name: smooth
                    match: {kind: smooth}
                    limits: [{name: smooth_calls, algorithm: sliding_window, limit: 3000, window: 1m, key: [tenant]}]
            """;

    private SluiceNode node;
    private SluiceClient client;

    private void start() {
        node = TestNodes.single(TestNodes.uniqueCluster("hot-leases"), ManualClock.fixed(), TestNodes.policies(POLICY));
        client = SluiceClient.builder().target("127.0.0.1:" + node.port()).deadline(Duration.ofSeconds(2)).hotKeyLeases(200)
                .denialCache(false).build();
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
    }

    @Test
    void aHotKeyIsDecidedFromLeasesAndNeverMoreThanTheLimitIsAdmitted() {
        start();
        Acquire hot = Acquire.domain("api").with("kind", "hot").with("tenant", "t1");
        long allowed = 0;
        long local = 0;
        long lastLocalRemaining = Long.MAX_VALUE;
        long countedDown = 0;
        for (int i = 0; i < 30_000; i++) {
            AcquireResult r = client.acquire(hot);
            if (r.allowed()) {
                allowed++;
            }
            if (r.source() == AcquireResult.Source.LEASE) {
                local++;
                long remaining = r.limits().get(0).remaining();
                assertEquals(Long.toString(remaining), r.headers().stream().filter(h -> h.name().equals("X-RateLimit-Remaining"))
                                .map(HttpHeader::value).findFirst().orElseThrow(),
                        "the node's header, counted down to the limit's remaining");
                assertTrue(remaining < 20_000 && remaining >= 0, "remaining within the bucket: " + remaining);
                if (remaining == lastLocalRemaining - 1) {
                    countedDown++;
                }
                lastLocalRemaining = remaining;
            } else {
                lastLocalRemaining = Long.MAX_VALUE;
            }
            assertTrue(allowed <= 20_000, "never more than the bucket holds: " + allowed + " allowed");
        }
        assertTrue(local > 10_000, "most of a hot key's requests are decided here: " + local);
        assertTrue(countedDown > local * 9 / 10, "a lease counts down one unit a request: " + countedDown + " of " + local);
        assertTrue(client.leasesGranted() > 1, "leases: " + client.leasesGranted());
        // Once the leases have ended and given back what they did not use, those units are admitted too.
        long[] total = {allowed};
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            if (client.acquire(hot).allowed()) {
                total[0]++;
            }
            return client.leasedUnits() == 0 && total[0] == 20_000;
        });
        for (int i = 0; i < 200; i++) {
            assertTrue(client.acquire(hot).denied(), "the limit and nothing more");
        }
    }

    @Test
    void aKeyWhoseUnitsCannotBeLeasedIsAskedOfTheNodeEveryTime() {
        start();
        Acquire smooth = Acquire.domain("api").with("kind", "smooth").with("tenant", "t2");
        long allowed = 0;
        for (int i = 0; i < 4_000; i++) {
            AcquireResult r = client.acquire(smooth);
            assertTrue(r.source() == AcquireResult.Source.SERVER, "asked of the node: " + r.source());
            allowed += r.allowed() ? 1 : 0;
        }
        assertEquals(3_000, allowed);
        assertEquals(0, client.leasesGranted());
    }
}
