package dev.sluice.server.store;

import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.AlgorithmContract;
import dev.sluice.server.algorithm.Outcome;
import dev.sluice.server.testing.TwoMembers;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

import java.time.Duration;

/**
 * The algorithm contract against the stores: the Hazelcast-backed one on two members over TCP
 * (every decision an entry processor on the key's owner, half of them on the other member, state
 * serialized), through its internal path and through Hazelcast's public API alone; and the
 * in-memory one.
 */
class StoreAlgorithmContractTest {

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static TwoMembers cluster;

    @BeforeAll
    static void start() {
        cluster = new TwoMembers("contract", CLOCK);
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    /** The contract over one store. */
    abstract static class OnAStore extends AlgorithmContract {
        abstract Buckets store();

        @Override
        protected ManualClock clock() {
            return CLOCK;
        }

        @Override
        protected Outcome acquire(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied) {
            return store().acquire(new Command(key, algorithm, cost, consume, countDenied, 0)).join();
        }

        @Override
        protected void refund(String key, Algorithm algorithm, long cost, long marker) {
            store().refund(new Refund(key, algorithm, cost, marker, 0)).join();
        }
    }

    @Nested
    class ThroughHazelcastsInternals extends OnAStore {
        @Override
        Buckets store() {
            return cluster.internal;
        }
    }

    @Nested
    class ThroughHazelcastsPublicApi extends OnAStore {
        @Override
        Buckets store() {
            return cluster.publicApi;
        }
    }

    @Nested
    class InMemory extends OnAStore {
        private final MemoryBuckets memory = new MemoryBuckets(new StoreContext(CLOCK, Duration.ofMinutes(10), Duration.ofSeconds(10)));

        @Override
        Buckets store() {
            return memory;
        }
    }
}
