package dev.sluice.server.policy;

import dev.sluice.server.algorithm.Algorithm;

import java.util.Map;

/**
 * A compiled limit. Its numbers are fixed, or chosen per request from a tier table whose rows
 * were all turned into algorithms at load time; a {@code null} algorithm means unlimited.
 */
record LimitDef(String name, String keyPrefix, KeySpec key, boolean shadow, boolean countDenied,
                Algorithm algorithm, Table table, Algorithm[] rowAlgorithms) {

    /** The algorithm for this request, or {@code null} when the limit does not apply (unlimited, or no row). */
    Algorithm algorithmFor(Map<String, String> descriptors) {
        if (table == null) {
            return algorithm;
        }
        int row = table.find(descriptors);
        return row < 0 ? null : rowAlgorithms[row];
    }
}
