package dev.sluice.server.policy;

import java.util.List;
import java.util.Map;

/** A compiled rule: when every condition holds, every limit applies. */
record Rule(String name, List<Map.Entry<String, Condition>> match, List<LimitDef> limits, boolean unlimited,
            ResponseStyle response) {

    boolean matches(Map<String, String> descriptors) {
        for (Map.Entry<String, Condition> condition : match) {
            if (!condition.getValue().test(descriptors.get(condition.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
