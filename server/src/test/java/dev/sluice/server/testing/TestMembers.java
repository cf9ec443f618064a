package dev.sluice.server.testing;

import com.hazelcast.config.Config;
import dev.sluice.server.node.MemberConfig;
import dev.sluice.server.time.Clock;

import java.util.List;

/** Hazelcast member configurations for tests that use the store without a whole node. */
public final class TestMembers {

    private TestMembers() {
    }

    /** A member on loopback over TCP, joining {@code members} (none: alone), deciding with {@code clock}. */
    public static Config config(String clusterName, Clock clock, int port, List<String> members) {
        return MemberConfig.of(TestNodes.settings(clusterName, clock).memberPort(port).members(members).build());
    }

    public static Config config(String clusterName, Clock clock) {
        return config(clusterName, clock, Ports.free(), List.of());
    }
}
