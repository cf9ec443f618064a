package dev.sluice.server.policy;

import dev.sluice.server.algorithm.Algorithm;

import java.util.Map;

/**
 * A compiled limit. Its numbers are fixed, or chosen per request from a tier table whose rows
 * were all turned into algorithms at load time; a {@code null} algorithm means unlimited. The
 * text its headers carry for each set of numbers is written here too, once.
 */
record LimitDef(String name, String keyPrefix, KeySpec key, boolean shadow, boolean countDenied,
                Algorithm algorithm, Table table, Algorithm[] rowAlgorithms, LimitText text, LimitText[] rowTexts, LimitMeter meter,
                long settleWithinNanos) {

    /**
     * @param settleWithinNanos how long its buckets remember a request, so its cost can be settled after the fact,
     *                          when longer than the node's request memory; 0 for the node's
     */
    LimitDef(String name, String keyPrefix, KeySpec key, boolean shadow, boolean countDenied,
             Algorithm algorithm, Table table, Algorithm[] rowAlgorithms, long settleWithinNanos) {
        this(name, keyPrefix, key, shadow, countDenied, algorithm, table, rowAlgorithms, LimitText.of(name, algorithm),
                texts(name, rowAlgorithms), null, settleWithinNanos);
    }

    /** This limit, named for the metrics as limit {@code name} of rule {@code rule} in domain {@code domain}. */
    LimitDef metered(String domain, String rule) {
        return new LimitDef(name, keyPrefix, key, shadow, countDenied, algorithm, table, rowAlgorithms, text, rowTexts,
                new LimitMeter(domain, rule, name, shadow), settleWithinNanos);
    }

    private static LimitText[] texts(String name, Algorithm[] algorithms) {
        if (algorithms == null) {
            return null;
        }
        LimitText[] out = new LimitText[algorithms.length];
        for (int i = 0; i < algorithms.length; i++) {
            out[i] = LimitText.of(name, algorithms[i]);
        }
        return out;
    }

    /** No row of the table matches the request. */
    static final int NO_ROW = -1;

    /** The choice for a limit without a table. */
    static final int FIXED = -2;

    /** Which numbers apply to this request: the index of the first matching table row, {@link #FIXED} or {@link #NO_ROW}. */
    int choose(Map<String, String> descriptors) {
        return table == null ? FIXED : table.find(descriptors);
    }

    /** The algorithm for a choice, or {@code null} when the limit does not apply (unlimited, or no row). */
    Algorithm algorithm(int choice) {
        return choice == FIXED ? algorithm : choice == NO_ROW ? null : rowAlgorithms[choice];
    }

    /** The header text for a choice that has an algorithm. */
    LimitText text(int choice) {
        return choice == FIXED ? text : rowTexts[choice];
    }
}
