package dev.sluice.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Figures a cluster test measured: printed, and appended as one JSON line per test to
 * {@code cluster-tests/target/figures.jsonl}, from which docs/reliability.md is written. Never
 * asserted on: tests assert behaviour, figures describe it.
 */
final class Figures {

    private Figures() {
    }

    static void report(String test, Map<String, ?> figures) {
        String json = figures.entrySet().stream()
                .map(e -> "\"" + e.getKey() + "\": " + (e.getValue() instanceof Number ? e.getValue() : "\"" + e.getValue() + "\""))
                .collect(Collectors.joining(", ", "{\"test\": \"" + test + "\", \"at\": \"" + Instant.now() + "\", ", "}"));
        System.out.println("FIGURES " + json);
        try {
            Path out = Path.of("target", "figures.jsonl");
            Files.createDirectories(out.getParent());
            Files.writeString(out, json + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
