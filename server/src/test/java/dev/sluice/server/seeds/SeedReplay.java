package dev.sluice.server.seeds;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.time.Instant;
import java.util.Map;

/**
 * A seed document's sentences replayed against a node of their own: the seed's example policy,
 * as shipped or with other numbers ({@link #replacements}), so each seed runs its replay twice.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SeedReplay {

    private final String file;
    private final String domain;
    private final Instant start;
    SeedNode seed;

    /**
     * @param file   the example policy's file in {@code examples/policies/}
     * @param domain the domain it serves
     * @param start  where the node's clock starts
     */
    SeedReplay(String file, String domain, Instant start) {
        this.file = file;
        this.domain = domain;
        this.start = start;
    }

    /** Texts of the file to replace (none: the document's own numbers). */
    abstract Map<String, String> replacements();

    @BeforeAll
    void startNode() {
        seed = new SeedNode(file, domain, start, replacements());
    }

    @AfterAll
    void stopNode() throws InterruptedException {
        seed.close();
    }
}
