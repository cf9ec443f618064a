package dev.sluice.server.policy;

import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.path.Caller;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.path.Refusal;
import dev.sluice.server.store.MemoryBuckets;
import dev.sluice.server.store.StoreContext;
import dev.sluice.server.testing.Examples;
import dev.sluice.server.testing.TestThreads;
import dev.sluice.server.time.ManualClock;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutated policy files through the loader: the example policies and the bundled demo, with lines
 * deleted, repeated, moved and re-indented, values swapped for the forms people get wrong (quoted
 * numbers, spaced durations, overflowing numbers, aliases, tags), and bytes that are not UTF-8.
 * Every file either loads, and then decides requests for each of its domains, or is refused with a
 * report whose every problem names the file and a line; nothing else escapes the loader.
 */
class PolicyFuzzTest {

    private static final String SOURCE = "fuzz.yaml";
    private static final List<String> SEEDS = seeds();
    private static final List<String> VALUES = List.of("\"12\"", "'5'", "1 s", "P99999999999999D", "99999999999999999999999",
            "-1", "0", "1.5", "1e9", "0x1F", "1_000_000_000_000_000_000", "&a x", "*a", "*nowhere", "[", "{", "]", "\"", "!!binary AAAA",
            "!!python/object:os.system x", "~", "null", "yes", "\"\"", "[]", "{}", "PT1M", "10ms", "1d", "calendar", "token_bucket",
            "{a: 1, a: 2}", "\t", "%TAG ! x", "---", "...", "? x");
    private static final AtomicLong files = new AtomicLong();
    private static final AtomicLong loaded = new AtomicLong();
    private static final AtomicLong decided = new AtomicLong();

    private static final ManualClock CLOCK = ManualClock.fixed();
    private static final AtomicReference<Policies> IN_FORCE = new AtomicReference<>();
    private static final DecisionPath PATH = new DecisionPath(IN_FORCE::get, new DecisionEngine(
            new MemoryBuckets(new StoreContext(CLOCK, Duration.ofMinutes(10), Duration.ofSeconds(10))), TestThreads.FOLLOW_UPS), CLOCK, 10_000);

    @AfterContainer
    static void report() {
        assertTrue(files.get() >= 2_000, "at least 2,000 files a run: " + files.get());
        System.out.println("policy fuzzing: " + files.get() + " files, " + loaded.get() + " loaded, " + decided.get() + " requests decided");
    }

    @Property(tries = 2_500, seed = "1812", shrinking = ShrinkingMode.OFF)
    void everyFileLoadsOrIsRefusedWithFileAndLine(@ForAll("files") byte[] file) {
        files.incrementAndGet();
        Policies policies;
        try {
            policies = PolicyLoader.parse(file, SOURCE);
        } catch (PolicyException e) {
            assertNotEquals(List.of(), e.problems());
            for (Problem p : e.problems()) {
                assertEquals(SOURCE, p.source());
                assertTrue(p.line() >= 1, "a line for every problem: " + p + "\n--- in\n" + new String(file, StandardCharsets.UTF_8));
                assertTrue(!p.message().isBlank(), p.toString());
            }
            return;
        }
        loaded.incrementAndGet();
        decideOnEveryDomain(policies);
    }

    /** A loaded file is used: each domain decides a request, or refuses it with a clear reason. */
    private static void decideOnEveryDomain(Policies policies) {
        IN_FORCE.set(policies);
        for (String domain : policies.domainNames()) {
            AcquireRequest request = AcquireRequest.newBuilder().setDomain(domain).putAllDescriptors(Map.of("ip", "192.0.2.1",
                    "user", "u", "tier", "BASE", "type", "PAYMENTS", "shop", "s", "app", "a", "plan", "Pro", "method", "POST")).build();
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            DecisionPath.Admitted admitted = PATH.admit(Caller.ANONYMOUS, request, false, (response, refusal) ->
                    outcome.complete(response != null ? response : refusal));
            if (admitted != null) {
                PATH.decide(List.of(admitted));
            }
            Object o = outcome.orTimeout(10, TimeUnit.SECONDS).join();
            if (o instanceof Refusal r) {
                assertEquals(Refusal.Code.INVALID_ARGUMENT, r.code(), r.toString());
                assertTrue(r.message().startsWith("cost: "), r.toString());
            } else {
                decided.incrementAndGet();
            }
        }
    }

    // ---- generators

    @Provide
    Arbitrary<byte[]> files() {
        Arbitrary<Edit> edit = Combinators.combine(Arbitraries.of(Edit.Kind.values()), Arbitraries.integers().between(0, 1 << 16),
                Arbitraries.integers().between(0, 1 << 16), Arbitraries.of(VALUES)).as(Edit::new);
        return Combinators.combine(Arbitraries.of(SEEDS), edit.list().ofMinSize(1).ofMaxSize(4)).as((seed, edits) -> {
            List<String> lines = new ArrayList<>(seed.lines().toList());
            byte[] bytes = null;
            for (Edit e : edits) {
                if (e.kind == Edit.Kind.BAD_BYTE) {
                    bytes = e.badByte(bytes != null ? bytes : (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
                } else if (bytes == null) {
                    e.apply(lines);
                }
            }
            return bytes != null ? bytes : (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        });
    }

    /** One change to a policy file, at lines and positions taken modulo its size. */
    record Edit(Kind kind, int at, int other, String value) {
        enum Kind { DELETE, REPEAT, MOVE, INDENT, DEDENT, VALUE, KEY, INSERT, TRUNCATE, BAD_BYTE }

        void apply(List<String> lines) {
            if (lines.isEmpty()) {
                lines.add(value);
                return;
            }
            int i = at % lines.size();
            String line = lines.get(i);
            switch (kind) {
                case DELETE -> lines.remove(i);
                case REPEAT -> lines.add(i, line);
                case MOVE -> lines.add(other % lines.size(), lines.remove(i));
                case INDENT -> lines.set(i, "  " + line);
                case DEDENT -> lines.set(i, line.startsWith("  ") ? line.substring(2) : line);
                case VALUE -> {
                    // The value after a key's colon, or a list entry's, becomes one of the usual mistakes.
                    int colon = line.indexOf(": ");
                    int cut = colon >= 0 ? colon + 2 : Math.min(line.length(), other % (line.length() + 1));
                    lines.set(i, line.substring(0, cut) + value);
                }
                case KEY -> {
                    int colon = line.indexOf(':');
                    String indent = line.substring(0, line.length() - line.stripLeading().length());
                    lines.set(i, colon >= 0 ? indent + value + line.substring(colon) : line);
                }
                case INSERT -> lines.add(i, " ".repeat(other % 9) + value);
                case TRUNCATE -> lines.set(i, line.substring(0, Math.min(line.length(), other % (line.length() + 1))));
                default -> throw new IllegalStateException(kind.toString());
            }
        }

        byte[] badByte(byte[] bytes) {
            byte[] out = java.util.Arrays.copyOf(bytes, bytes.length + 1);
            int i = at % (bytes.length + 1);
            System.arraycopy(bytes, i, out, i + 1, bytes.length - i);
            out[i] = (byte) (0x80 | other & 0x7F);
            return out;
        }
    }

    private static List<String> seeds() {
        List<String> seeds = new ArrayList<>();
        try (var in = PolicyLoader.class.getResourceAsStream(PolicyLoader.BUNDLED_DEMO_RESOURCE)) {
            seeds.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            try (Stream<Path> examples = Files.list(Examples.policies())) {
                for (Path p : examples.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                    seeds.add(Files.readString(p));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertTrue(seeds.size() >= 6, "the demo and the five example policies: " + seeds.size());
        return seeds;
    }
}
