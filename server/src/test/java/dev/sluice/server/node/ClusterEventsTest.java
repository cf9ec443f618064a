package dev.sluice.server.node;

import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.awaitility.Awaitility.await;

/** Members leaving, partitions migrating and partitions lost show up in the node's log. */
class ClusterEventsTest {

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger(ClusterEvents.class.getName());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            lines.add(r.getLevel() + " " + r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final List<SluiceNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        logger.removeHandler(capture);
        nodes.forEach(SluiceNode::crash);
    }

    @Test
    void migrationsDeparturesAndLostPartitionsAreLogged() {
        logger.addHandler(capture);
        logger.setLevel(Level.ALL);
        List<NodeSettings> settings = TestNodes.cluster(TestNodes.uniqueCluster("events"), ManualClock.fixed(),
                PolicyLoader.bundledDemo(), 3);
        for (NodeSettings each : settings) {
            // The first node assigns the partitions as it starts, so later members cause migrations.
            nodes.add(TestNodes.start(each));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> lines.stream().anyMatch(l -> l.contains("partition migration finished")));

        // Two of three members die at once: partitions whose owner and backup were both on them are lost.
        nodes.get(1).crash();
        nodes.get(2).crash();
        await().atMost(Duration.ofSeconds(60)).until(() -> lines.stream().anyMatch(l -> l.startsWith("WARNING member left")));
        await().atMost(Duration.ofSeconds(60)).until(() -> lines.stream()
                .anyMatch(l -> l.startsWith("WARNING partition") && l.contains("was lost")));
    }
}
