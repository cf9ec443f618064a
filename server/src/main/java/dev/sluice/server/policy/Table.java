package dev.sluice.server.policy;

import java.util.List;
import java.util.Map;

/**
 * A tier table: rows chosen by descriptor values (e.g. {@code tier} and {@code type}), each row
 * giving the numbers of the limits that use the table. The first row whose every cell matches
 * wins; a cell {@code "*"} matches any value, or none.
 */
record Table(String name, List<String> by, List<String> columns, List<Row> rows) {

    /** A row: its match cells, its values, which values were written in quotes (text, never a number), and its line. */
    record Row(List<Condition> match, List<String> values, List<Boolean> quoted, int line) {
    }

    /** Index of the first row matching {@code descriptors}, or -1. */
    int find(Map<String, String> descriptors) {
        for (int r = 0; r < rows.size(); r++) {
            List<Condition> match = rows.get(r).match();
            boolean all = true;
            for (int c = 0; c < by.size() && all; c++) {
                Condition m = match.get(c);
                all = m == null || m.test(descriptors.get(by.get(c)));
            }
            if (all) {
                return r;
            }
        }
        return -1;
    }
}
