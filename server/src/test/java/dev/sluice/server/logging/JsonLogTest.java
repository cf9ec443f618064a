package dev.sluice.server.logging;

import com.hazelcast.internal.json.Json;
import com.hazelcast.internal.json.JsonObject;
import dev.sluice.server.node.SluiceNode;
import dev.sluice.server.testing.LogCapture;
import dev.sluice.server.testing.TestNodes;
import dev.sluice.server.time.ManualClock;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --log-format json}: one JSON object a line, with an event's name and fields, for the node's records and Hazelcast's alike. */
class JsonLogTest {

    private final Logger logger = Logger.getLogger(JsonLogTest.class.getName());

    private static JsonObject json(LogRecord r) {
        String line = new JsonFormatter().format(r);
        assertTrue(line.endsWith(System.lineSeparator()) && line.indexOf('\n') == line.length() - 1, "one line: " + line);
        return Json.parse(line).asObject();
    }

    @Test
    void anEventCarriesItsNameAndFieldsAndTextIsEscaped() {
        try (LogCapture log = LogCapture.start()) {
            Events.log(logger, Level.WARNING, "policy_reload_refused", () -> "policy file p.yaml changed and is invalid:\n  \"quoted\" \\ \u0001",
                    "file", "p.yaml", "problems", List.of("p.yaml:3: a", "p.yaml:4: b"), "count", 2, "message", "not a field");
            JsonObject o = json(log.records().get(0));
            assertEquals("WARNING", o.get("level").asString());
            assertEquals(JsonLogTest.class.getName(), o.get("logger").asString());
            assertEquals("policy file p.yaml changed and is invalid:\n  \"quoted\" \\ \u0001", o.get("message").asString());
            assertEquals("policy_reload_refused", o.get("event").asString());
            assertEquals("p.yaml", o.get("file").asString());
            assertEquals(2, o.get("problems").asArray().size());
            assertEquals("p.yaml:4: b", o.get("problems").asArray().get(1).asString());
            assertEquals(2, o.get("count").asInt());
            assertTrue(o.get("time").asString().endsWith("Z"));
        }
        LogRecord plain = new LogRecord(Level.SEVERE, "a {0} record");
        plain.setLoggerName("com.hazelcast.system");
        plain.setParameters(new Object[] {"Hazelcast"});
        plain.setThrown(new IllegalStateException("boom"));
        JsonObject o = json(plain);
        assertEquals("a Hazelcast record", o.get("message").asString());
        assertTrue(o.get("error").asString().startsWith("java.lang.IllegalStateException: boom"), o.toString());
        assertTrue(new TextFormatter().format(plain).contains("SEVERE com.hazelcast.system: a Hazelcast record"));
    }

    @Test
    void aNodesOwnLinesAreEventsThatFormatAsJson() {
        int port;
        List<LogRecord> records;
        try (LogCapture log = LogCapture.start()) {
            SluiceNode node = TestNodes.single(TestNodes.uniqueCluster("json-log"), ManualClock.fixed(),
                    dev.sluice.server.policy.PolicyLoader.bundledDemo());
            port = node.port();
            node.close();
            records = log.records();
        }
        JsonObject serving = records.stream().map(JsonLogTest::json).filter(o -> o.get("event") != null
                && o.get("event").asString().equals("node_serving")).findFirst().orElseThrow(() -> new AssertionError(records));
        assertEquals(port, serving.get("port").asInt());
        assertEquals(1, serving.get("members").asInt());
        assertTrue(serving.get("message").asString().startsWith("Sluice node serving gRPC"));
        for (LogRecord r : records) {
            json(r);
        }
    }
}
