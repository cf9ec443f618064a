package dev.sluice.server.json;

/** Text written into JSON: the escapes a JSON string needs, nothing else. */
public final class JsonText {

    private JsonText() {
    }

    /** Appends {@code s} to {@code b} escaped for inside a JSON string (without the quotes). */
    public static void escape(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
    }
}
