package dev.sluice.server.algorithm;

import dev.sluice.server.time.ManualClock;

import java.util.HashMap;
import java.util.Map;

/** The contract against the pure algorithms, state in a map. */
class PureAlgorithmContractTest extends AlgorithmContract {

    private final ManualClock clock = ManualClock.fixed();
    private final Map<String, BucketState> states = new HashMap<>();

    @Override
    protected ManualClock clock() {
        return clock;
    }

    @Override
    protected Outcome acquire(String key, Algorithm algorithm, long cost, boolean consume, boolean countDenied) {
        Outcome o = algorithm.acquire(states.get(key), clock.nanos(), cost, consume, countDenied);
        if (o.next() != null) {
            states.put(key, o.next());
        }
        return o;
    }

    @Override
    protected void refund(String key, Algorithm algorithm, long cost, long marker) {
        BucketState next = algorithm.refund(states.get(key), clock.nanos(), cost, marker);
        if (next != null) {
            states.put(key, next);
        }
    }
}
