package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bucket remembers the request ids it applied: repeats are answered, not applied again. */
class RequestMemoryTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static final FixedWindow WINDOW = FixedWindow.ofLength(10, Duration.ofHours(1));
    private static List<HazelcastInstance> members;
    private static BucketStore store;

    @BeforeAll
    static void start() {
        members = TestMembers.cluster(TestNodes.uniqueCluster("memory"), CLOCK, CLOCK);
        store = TestMembers.store(members.get(0));
    }

    @AfterAll
    static void stop() {
        members.forEach(m -> m.getLifecycleService().terminate());
    }

    private static Outcome take(String key, long cost, long id) {
        return store.acquire(new Command(key, WINDOW, cost, true, false, id)).join();
    }

    @Test
    void aRepeatedRequestIsAnsweredWithoutBeingAppliedAgain() {
        assertEquals(7, take("repeat", 3, 11).remaining());
        Outcome again = take("repeat", 3, 11);
        assertTrue(again.allowed());
        assertEquals(7, again.remaining(), "the bucket as it is: nothing taken twice");
        assertEquals(4, take("repeat", 3, 12).remaining(), "another id is another request");
        assertEquals(4, take("repeat", 3, 0).remaining() + 3, "no id: applied every time");
    }

    @Test
    void aRepeatedDenialIsDecidedAfreshBecauseNothingWasTaken() {
        take("denial", 10, 21);
        assertFalse(take("denial", 1, 22).allowed());
        CLOCK.advance(Duration.ofHours(1));
        assertTrue(take("denial", 1, 22).allowed(), "a denied request's id is not remembered as applied");
    }

    @Test
    void aRefundIsAppliedOnceAndARefundedRequestMayBeAppliedAgain() {
        Outcome taken = take("refund", 4, 31);
        assertTrue(store.refund(new Refund("refund", WINDOW, 4, taken.marker(), 31)).join());
        assertFalse(store.refund(new Refund("refund", WINDOW, 4, taken.marker(), 31)).join(), "a repeated refund changes nothing");
        assertEquals(10, store.acquire(new Command("refund", WINDOW, 1, false, false, 0)).join().remaining() + 1);
        assertEquals(6, take("refund", 4, 31).remaining(), "given back, so a retry of the request counts again");
        assertEquals(6, take("refund", 4, 31).remaining());
    }

    @Test
    void idsAreForgottenAfterTheRequestMemory() {
        take("forget", 2, 41);
        CLOCK.advance(Duration.ofSeconds(31));
        assertEquals(6, take("forget", 2, 41).remaining(), "after 30 s the id is new again");
    }

    @Test
    void aBucketWhoseIdsAreAllForgottenIsHeldCompactlyAgain() {
        IMap<BucketKey, BucketRecord> map = members.get(0).getMap(BucketStore.MAP_NAME);
        take("compact", 2, 51);
        assertInstanceOf(BucketRecord.General.class, map.get(BucketKey.of("compact")), "it remembers request 51");
        take("compact", 1, 0);
        assertInstanceOf(BucketRecord.General.class, map.get(BucketKey.of("compact")), "still within the memory time");
        CLOCK.advance(Duration.ofSeconds(31));
        assertEquals(6, take("compact", 1, 0).remaining());
        assertInstanceOf(BucketRecord.Window.class, map.get(BucketKey.of("compact")), "nothing left to remember");
        assertEquals(5, take("compact", 1, 51).remaining(), "request 51 is new again");
    }

    @Test
    void theBackupRemembersTheIdsSoARetryAfterTheOwnerDiesIsNotAppliedTwice() {
        HazelcastInstance owner = members.get(1);
        String key = BackupReceivesStateTest.keyOwnedBy(owner, "crash-");
        assertEquals(5, take(key, 5, 51).remaining());
        owner.getLifecycleService().terminate();
        await().atMost(Duration.ofSeconds(30)).until(() -> members.get(0).getCluster().getMembers().size() == 1);
        Outcome retried = take(key, 5, 51);
        assertTrue(retried.allowed());
        assertEquals(5, retried.remaining(), "the promoted backup knew the request");
        assertEquals(0, take(key, 5, 52).remaining());
    }
}
