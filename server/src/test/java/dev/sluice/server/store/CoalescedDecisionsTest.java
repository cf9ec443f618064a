package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.testing.TestMembers;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Commands for one bucket that arrive together are decided in order in one visit, and the backup follows. */
class CoalescedDecisionsTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static final FixedWindow WINDOW = FixedWindow.ofLength(5, Duration.ofHours(1));
    private static List<HazelcastInstance> members;

    @BeforeAll
    static void start() {
        members = TestMembers.cluster(TestNodes.uniqueCluster("coalesced"), CLOCK, CLOCK);
    }

    @AfterAll
    static void stop() {
        members.forEach(m -> m.getLifecycleService().terminate());
    }

    @Test
    void aHotKeysCommandsAreDecidedInOrderAndTheBackupHoldsTheResult() {
        HazelcastInstance owner = members.get(1);
        String hot = BackupReceivesStateTest.keyOwnedBy(owner, "hot-");
        List<Command> commands = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            commands.add(new Command(hot, WINDOW, 1, true, false, 100 + i));
        }
        commands.add(new Command("cold-1", WINDOW, 2, true, false, 200));
        commands.add(new Command(hot, WINDOW, 1, false, false, 0));
        Outcome[] out = joined(TestMembers.store(members.get(0)).acquireAll(commands));
        for (int i = 0; i < 5; i++) {
            assertTrue(out[i].allowed());
            assertEquals(4 - i, out[i].remaining(), "command " + i + " saw the ones before it");
        }
        assertFalse(out[5].allowed());
        assertFalse(out[6].allowed());
        assertEquals(3, out[7].remaining(), "another key, its own bucket");
        assertFalse(out[8].allowed(), "a dry run after them sees the bucket full");

        owner.getLifecycleService().terminate();
        await().atMost(Duration.ofSeconds(30)).until(() -> members.get(0).getCluster().getMembers().size() == 1);
        BucketStore survivor = TestMembers.store(members.get(0));
        assertFalse(survivor.acquire(new Command(hot, WINDOW, 1, true, false, 0)).join().allowed(), "the backup had all five");
        Outcome repeat = joined(survivor.acquireAll(List.of(new Command(hot, WINDOW, 1, true, false, 102),
                new Command(hot, WINDOW, 1, true, false, 103))))[1];
        assertTrue(repeat.allowed(), "request 103 was applied before the crash: answered again, not applied again");
        assertEquals(2, survivor.replays());
    }

    @Test
    void aBucketThatCannotAnswerHoldsUpOnlyItsOwnCommands() throws Exception {
        HazelcastInstance member = members.get(0);
        String stuck = "stuck-" + System.nanoTime();
        // A key locked by another thread makes entry processors on it wait until it is unlocked.
        Thread locker = new Thread(() -> member.getMap(BucketStore.MAP_NAME).lock(BucketKey.of(stuck)));
        locker.start();
        locker.join();
        try {
            List<CompletableFuture<Outcome>> out = TestMembers.store(member).acquireAll(List.of(
                    new Command(stuck, WINDOW, 1, true, false, 300),
                    new Command("free-1", WINDOW, 1, true, false, 301),
                    new Command(stuck, WINDOW, 1, true, false, 302),
                    new Command("free-2", WINDOW, 1, true, false, 303),
                    new Command("free-2", WINDOW, 1, true, false, 304)));
            assertTrue(out.get(1).get(30, TimeUnit.SECONDS).allowed());
            assertEquals(3, out.get(4).get(30, TimeUnit.SECONDS).remaining(), "free-2 decided both of its commands");
            assertFalse(out.get(0).isDone(), "the locked bucket has not answered");
            assertFalse(out.get(2).isDone());
            member.getMap(BucketStore.MAP_NAME).forceUnlock(BucketKey.of(stuck));
            assertEquals(3, out.get(2).get(30, TimeUnit.SECONDS).remaining(), "answered once the bucket was free");
        } finally {
            member.getMap(BucketStore.MAP_NAME).forceUnlock(BucketKey.of(stuck));
        }
    }

    private static Outcome[] joined(List<CompletableFuture<Outcome>> futures) {
        return futures.stream().map(CompletableFuture::join).toArray(Outcome[]::new);
    }
}
