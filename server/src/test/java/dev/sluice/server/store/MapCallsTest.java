package dev.sluice.server.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.sluice.server.algorithm.FixedWindow;
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
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Calls started together: from the partition threads that will run them, answered once each, exactly. */
class MapCallsTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static final FixedWindow WINDOW = FixedWindow.ofLength(3, Duration.ofHours(1));
    private static List<HazelcastInstance> members;

    @BeforeAll
    static void start() {
        members = TestMembers.cluster(TestNodes.uniqueCluster("map-calls"), CLOCK, CLOCK);
        TestMembers.awaitPartitionsSettled(members);
    }

    @AfterAll
    static void stop() {
        members.forEach(m -> m.getLifecycleService().terminate());
    }

    /** A call that records the thread it was started from and passes its answer on. */
    private static final class Recorded extends MapCalls.Call<BucketAnswer> {
        final CompletableFuture<BucketAnswer> answer = new CompletableFuture<>();
        volatile String startedOn;

        Recorded(String name) {
            super(BucketKey.of(name), new AcquireProcessor(new Command(name, WINDOW, 1, true, false, 0)));
        }

        @Override
        void started(CompletionStage<BucketAnswer> result) {
            startedOn = Thread.currentThread().getName();
            result.whenComplete((r, e) -> {
                if (e != null) {
                    answer.completeExceptionally(e);
                } else {
                    answer.complete(r);
                }
            });
        }
    }

    @Test
    void callsForOwnedPartitionsStartOnTheirPartitionThreadsAndEveryBucketCountsExactly() throws Exception {
        startedTogetherCountExactly(true);
    }

    @Test
    void throughThePublicApiEveryCallStartsWhereItWasAskedForAndCountsExactly() throws Exception {
        startedTogetherCountExactly(false);
    }

    private void startedTogetherCountExactly(boolean internals) throws Exception {
        HazelcastInstance member = members.get(0);
        MapCalls calls = MapCalls.of(member.getMap(BucketStore.MAP_NAME), internals, new StoreStats());
        assertEquals(internals, calls.internals());
        String prefix = "spread-" + internals + "-" + System.nanoTime() + "-";
        int keys = 300;
        int owned = 0;
        for (int round = 0; round < 4; round++) {
            List<Recorded> batch = new ArrayList<>();
            for (int k = 0; k < keys; k++) {
                batch.add(new Recorded(prefix + k));
            }
            calls.startTogether(batch);
            owned = 0;
            for (int k = 0; k < keys; k++) {
                Recorded c = batch.get(k);
                BucketAnswer r = c.answer.get(30, TimeUnit.SECONDS);
                assertEquals(round < 3, r.toOutcome().allowed(), "bucket " + k + " in round " + round);
                boolean local = member.getPartitionService().getPartition(c.key).getOwner().localMember();
                if (local && internals) {
                    owned++;
                    assertTrue(c.startedOn.contains("partition-operation"),
                            "a call for a partition this member owns starts on its partition thread, not " + c.startedOn);
                } else {
                    owned += local ? 1 : 0;
                    assertEquals(Thread.currentThread().getName(), c.startedOn,
                            "a call for another member's partition (or any call, on the public API) starts where it was asked for");
                }
            }
        }
        assertTrue(owned > 0 && owned < keys, "the keys spread over both members: " + owned + " of " + keys + " owned here");
    }

    @Test
    void aMemberThatHasStoppedFailsTheCallsAtOnce() {
        HazelcastInstance lone = TestMembers.cluster(TestNodes.uniqueCluster("map-calls-stopped"), CLOCK).get(0);
        IMap<BucketKey, BucketRecord> map = lone.getMap(BucketStore.MAP_NAME);
        MapCalls calls = MapCalls.of(map, true, new StoreStats());
        lone.getLifecycleService().terminate();
        Recorded call = new Recorded("after-stop");
        calls.startTogether(List.of(call));
        ExecutionException e = assertThrows(ExecutionException.class, () -> call.answer.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof com.hazelcast.core.HazelcastInstanceNotActiveException, "failed as not active: " + e.getCause());
    }
}
