package dev.sluice.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The benchmark's output: a table on stdout, results.json and results.svg. */
final class Report {

    private Report() {
    }

    static String table(List<Run.Result> results, Run.Result baseline) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-20s %-16s %-8s %12s %9s %9s %9s %11s %11s %8s %6s %7s%n", "target", "mode", "keys",
                "decisions/s", "p50 us", "p99 us", "p999 us", "cpu us/dec", "gen us/dec", "errors", "steal", "ratio"));
        for (Run.Result r : results) {
            b.append(String.format(Locale.ROOT, "%-20s %-16s %-8s %12.0f %9.0f %9.0f %9.0f %11.1f %11.1f %8d %5.0f%% %7s%n", r.target(),
                    r.mode(), r.keys(), r.decisionsPerSecond(), r.p50Micros(), r.p99Micros(), r.p999Micros(),
                    r.targetCpuMicrosPerDecision(), r.generatorCpuMicrosPerDecision(), r.errors(), 100 * r.stolenShare(),
                    baseline == null ? "" : String.format(Locale.ROOT, "%.2fx", r.decisionsPerSecond() / baseline.decisionsPerSecond())));
        }
        return b.toString();
    }

    static void json(Path file, Map<String, Object> environment, List<Run.Result> results, List<String> checks,
                     Map<String, Object> figures) throws IOException {
        StringBuilder b = new StringBuilder("{\n  \"environment\": {");
        object(b, environment);
        b.append("\n  },\n  \"figures\": {");
        object(b, figures);
        b.append("\n  },\n  \"checks\": [");
        for (int c = 0; c < checks.size(); c++) {
            b.append(c == 0 ? "" : ",").append("\n    ").append(value(checks.get(c)));
        }
        b.append("\n  ],\n  \"results\": [");
        for (int r = 0; r < results.size(); r++) {
            Run.Result x = results.get(r);
            b.append(r == 0 ? "" : ",").append(String.format(Locale.ROOT,
                    "\n    {\"target\": %s, \"nodes\": %d, \"mode\": %s, \"keys\": %s, \"seconds\": %.2f, \"calls\": %d, \"decisions\": %d, "
                            + "\"allowed\": %d, \"errors\": %d, \"decisions_per_second\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, "
                            + "\"p999_us\": %.1f, \"max_us\": %.1f, \"target_cpu_seconds\": %.3f, \"generator_cpu_seconds\": %.3f, "
                            + "\"target_cpu_seconds_per_million\": %.3f, \"offered_per_second\": %s, \"stolen_share\": %s}",
                    value(x.target()), x.target().contains("@") ? Integer.parseInt(x.target().substring(x.target().lastIndexOf('@') + 1)) : 1,
                    value(x.mode()), value(x.keys()), x.seconds(), x.calls(), x.decisions(), x.allowed(),
                    x.errors(), x.decisionsPerSecond(), x.p50Micros(), x.p99Micros(), x.p999Micros(), x.maxMicros(),
                    x.targetCpuSeconds(), x.generatorCpuSeconds(), x.targetCpuMicrosPerDecision(),
                    Double.isNaN(x.offeredPerSecond()) ? "null" : String.format(Locale.ROOT, "%.0f", x.offeredPerSecond()),
                    Double.isNaN(x.stolenShare()) ? "null" : String.format(Locale.ROOT, "%.3f", x.stolenShare())));
        }
        b.append("\n  ]\n}\n");
        Files.createDirectories(file.getParent());
        Files.writeString(file, b.toString());
    }

    private static void object(StringBuilder b, Map<String, Object> fields) {
        int i = 0;
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            b.append(i++ == 0 ? "" : ",").append("\n    \"").append(e.getKey()).append("\": ").append(value(e.getValue()));
        }
    }

    private static String value(Object v) {
        if (v instanceof Number) {
            return v.toString();
        }
        return "\"" + String.valueOf(v).replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Throughput bars, each labelled with its p99, one row per run. */
    static void svg(Path file, List<Run.Result> results) throws IOException {
        double max = results.stream().mapToDouble(Run.Result::decisionsPerSecond).max().orElse(1);
        int rowHeight = 26;
        int labelWidth = 330;
        int barWidth = 520;
        int height = 40 + rowHeight * results.size() + 20;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n", labelWidth + barWidth + 180, height));
        b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        b.append("<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">Decisions per second (bar) and p99 latency</text>\n");
        for (int i = 0; i < results.size(); i++) {
            Run.Result r = results.get(i);
            int y = 40 + i * rowHeight;
            int w = (int) Math.max(1, barWidth * r.decisionsPerSecond() / max);
            String colour = r.target().startsWith("sluice") ? "#2b6cb0" : "#a0aec0";
            b.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"%d\">%s %s %s</text>%n", y + 15, esc(r.target()), esc(r.mode()),
                    esc(r.keys())));
            b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\" fill=\"%s\"/>%n", labelWidth, y + 2, w,
                    colour));
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%,.0f/s  p99 %,.0f us</text>%n", labelWidth + w + 6, y + 15,
                    r.decisionsPerSecond(), r.p99Micros()));
        }
        b.append("</svg>\n");
        Files.writeString(file, b.toString());
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
