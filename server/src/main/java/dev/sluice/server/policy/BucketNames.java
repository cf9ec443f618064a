package dev.sluice.server.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a bucket's name back into its parts, for people: the name a policy's limit builds
 * ({@code domain␟rule␟limit␟algorithm␟descriptor=value…}) or the one an Envoy configuration's
 * limit builds ({@code envoy␟domain␟key␟value…␟window}), values unescaped.
 */
public final class BucketNames {

    /** The parts of a bucket's name; rule and limit are empty for an Envoy configuration's bucket. */
    public record Parts(String domain, String rule, String limit, Map<String, String> descriptors) {
    }

    private BucketNames() {
    }

    public static Parts parse(String name) {
        List<String> fields = split(name);
        Map<String, String> descriptors = new LinkedHashMap<>();
        if (fields.size() >= 3 && fields.get(0).equals("envoy")) {
            for (int i = 2; i + 1 < fields.size(); i += 2) {
                descriptors.put(fields.get(i), fields.get(i + 1));
            }
            return new Parts(fields.get(1), "", "", descriptors);
        }
        if (fields.size() < 4) {
            return new Parts(fields.isEmpty() ? "" : fields.get(0), "", "", descriptors);
        }
        for (int i = 4; i < fields.size(); i++) {
            String f = fields.get(i);
            int eq = f.indexOf('=');
            descriptors.put(eq < 0 ? f : f.substring(0, eq), eq < 0 ? "" : f.substring(eq + 1));
        }
        return new Parts(fields.get(0), fields.get(1), fields.get(2), descriptors);
    }

    private static List<String> split(String name) {
        List<String> fields = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '\\' && i + 1 < name.length()) {
                f.append(name.charAt(++i));
            } else if (c == KeySpec.SEPARATOR) {
                fields.add(f.toString());
                f.setLength(0);
            } else {
                f.append(c);
            }
        }
        fields.add(f.toString());
        return fields;
    }
}
