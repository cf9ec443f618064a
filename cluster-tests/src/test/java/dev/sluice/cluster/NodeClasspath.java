package dev.sluice.cluster;

import java.io.File;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The class path a node process is started with: this module's, less the test-only libraries. */
final class NodeClasspath {

    private NodeClasspath() {
    }

    static String get() {
        // Surefire runs tests from a manifest-only jar; it publishes the real class path here.
        String all = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return Arrays.stream(all.split(File.pathSeparator))
                .filter(entry -> !entry.matches(".*hazelcast-[^" + File.separator + "]*-tests\\.jar"))
                .filter(entry -> !entry.contains(File.separator + "junit" + File.separator + "junit" + File.separator))
                .filter(entry -> !entry.contains(File.separator + "assertj" + File.separator))
                .collect(Collectors.joining(File.pathSeparator));
    }
}
