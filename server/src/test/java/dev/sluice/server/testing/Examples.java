package dev.sluice.server.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** The project's example files, found from wherever the tests run (the module or the checkout). */
public final class Examples {

    private Examples() {
    }

    /** {@code examples/policies/}. */
    public static Path policies() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("examples/policies");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("examples/policies not found above " + Path.of("").toAbsolutePath());
    }
}
