package dev.sluice.server.api;

import dev.sluice.server.path.DecisionPath;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Gathers the requests an event loop reads in one turn and decides them together once the turn
 * is over, whatever call or stream they came on: the store then starts their calls together (one
 * wake-up per partition thread instead of one per request) and visits a hot key once. A request
 * that did not arrive on an event loop is decided at once.
 */
final class TurnBatcher {

    private final DecisionPath path;
    private final ThreadLocal<Turn> turns = ThreadLocal.withInitial(Turn::new);

    TurnBatcher(DecisionPath path) {
        this.path = path;
    }

    /** Decides {@code a} after the current turn of {@code loop}, or at once when {@code loop} is {@link EventLoops#DIRECT}. */
    void decideSoon(DecisionPath.Admitted a, Executor loop) {
        if (loop == EventLoops.DIRECT) {
            path.decide(List.of(a));
            return;
        }
        Turn turn = turns.get();
        turn.items.add(a);
        if (!turn.scheduled) {
            turn.scheduled = true;
            loop.execute(() -> {
                turn.scheduled = false;
                List<DecisionPath.Admitted> batch = turn.items;
                turn.items = new ArrayList<>();
                path.decide(batch);
            });
        }
    }

    /** Requests an event loop has read and not yet decided; touched only by that loop's thread. */
    private static final class Turn {
        private List<DecisionPath.Admitted> items = new ArrayList<>();
        private boolean scheduled;
    }
}
