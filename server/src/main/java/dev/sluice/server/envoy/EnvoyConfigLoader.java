package dev.sluice.server.envoy;

import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.CountingWindow;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.LeakyBucket;
import dev.sluice.server.algorithm.SlidingWindow;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.policy.LimitMeter;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.Problem;
import dev.sluice.server.time.Durations;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Loads envoyproxy/ratelimit's configuration files as that service reads them: one domain a file,
 * nested {@code descriptors} of {@code key}, optional {@code value} (with {@code *} wildcards) and
 * {@code rate_limit} ({@code unit}, {@code requests_per_unit}, {@code unlimited}, {@code name},
 * {@code replaces}), {@code shadow_mode} and {@code detailed_metric}. A key it does not know is
 * refused, as it refuses them, and every refusal says the file and line. Sluice's extensions are
 * opt-in keys a file without them never meets: {@code algorithm}, {@code window} and {@code zone} in a
 * {@code rate_limit}, and {@code all_or_nothing} and {@code response_headers} beside {@code domain}.
 */
public final class EnvoyConfigLoader {

    /** The keys envoyproxy/ratelimit knows, anywhere in a file (a known key where it means nothing is ignored, as there). */
    static final Set<String> ENVOY_KEYS = Set.of("domain", "key", "value", "descriptors", "rate_limit", "unit", "requests_per_unit",
            "unlimited", "shadow_mode", "name", "replaces", "detailed_metric");
    /** Sluice's additions. */
    static final Set<String> SLUICE_KEYS = Set.of("algorithm", "window", "zone", "all_or_nothing", "response_headers");
    static final long MAX_REQUESTS_PER_UNIT = 4_294_967_295L;
    private static final Set<String> ALGORITHMS = Set.of("fixed_window", "token_bucket", "leaky_bucket", "sliding_window");

    private final List<Problem> problems = new ArrayList<>();
    private String file;

    private EnvoyConfigLoader() {
    }

    /** Loads a file, or every file of a directory (in name order, dot files and the ConfigMap's {@code ..data} left out). */
    public static EnvoyConfig load(Path path) throws IOException, PolicyException {
        return parse(read(path), path.toString());
    }

    /** The files {@link #load} reads under {@code path}: each one's name and content, in load order. */
    private static Map<String, byte[]> read(Path path) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (Path f : files(path)) {
            files.put(f.getFileName().toString(), Files.readAllBytes(f));
        }
        return files;
    }

    /**
     * What {@link #load} would read under {@code path}, read once, as one run of bytes: what a
     * watcher compares to see a change, and {@link #parse(byte[], String)} loads, so the
     * configuration in force is the one compared.
     */
    public static byte[] snapshot(Path path) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> f : read(path).entrySet()) {
                out.writeUTF(f.getKey());
                out.writeInt(f.getValue().length);
                out.write(f.getValue());
            }
        }
        return bytes.toByteArray();
    }

    /** Parses a {@link #snapshot}; {@code source} names its files in the result. */
    public static EnvoyConfig parse(byte[] snapshot, String source) throws PolicyException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(snapshot))) {
            while (in.available() > 0) {
                String name = in.readUTF();
                byte[] content = new byte[in.readInt()];
                in.readFully(content);
                files.put(name, content);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("not a snapshot of configuration files", e);
        }
        return parse(files, source);
    }

    /** The files {@link #load} reads under {@code path}. */
    public static List<Path> files(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            return List.of(path);
        }
        try (Stream<Path> s = Files.list(path)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".") && Files.isRegularFile(p)).sorted().toList();
        }
    }

    /** Parses files given as name to content; {@code source} names them all in the result. */
    public static EnvoyConfig parse(Map<String, byte[]> files, String source) throws PolicyException {
        EnvoyConfigLoader loader = new EnvoyConfigLoader();
        Map<String, EnvoyDomain> domains = new LinkedHashMap<>();
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            digest.update(f.getKey().getBytes(StandardCharsets.UTF_8));
            digest.update(f.getValue());
            loader.file = f.getKey();
            EnvoyDomain d = loader.file(f.getValue());
            if (d == null) {
                continue;
            }
            if (domains.containsKey(d.name())) {
                loader.problem(1, "duplicate domain '" + d.name() + "' in config file");
                continue;
            }
            domains.put(d.name(), d);
        }
        if (files.isEmpty()) {
            loader.problems.add(new Problem(source, 0, "", "no configuration files"));
        }
        if (!loader.problems.isEmpty()) {
            throw new PolicyException(loader.problems);
        }
        return new EnvoyConfig(domains, source, HexFormat.of().formatHex(digest.digest()).substring(0, 12));
    }

    private EnvoyDomain file(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            problem(1, "error loading config file: not valid UTF-8");
            return null;
        }
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(50);
            options.setNestingDepthLimit(50);
            root = new Yaml(new SafeConstructor(options)).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            problem(e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 1, "error loading config file: " + e.getProblem());
            return null;
        } catch (YAMLException e) {
            problem(1, "error loading config file: " + e.getMessage());
            return null;
        }
        if (root == null) {
            problem(1, "config file cannot have empty domain");
            return null;
        }
        int before = problems.size();
        check(root);
        if (problems.size() > before) {
            return null;
        }
        if (!(root instanceof MappingNode top)) {
            problem(line(root), "error loading config file: the file must be a mapping with 'domain' and 'descriptors'");
            return null;
        }
        Map<String, Node> f = fields(top);
        String domain = f.get("domain") instanceof ScalarNode s ? s.getValue() : null;
        if (domain == null || domain.isEmpty()) {
            problem(line(top), "config file cannot have empty domain");
            return null;
        }
        boolean allOrNothing = flag(f, "all_or_nothing");
        EnvoyDomain.Headers headers = headers(f.get("response_headers"));
        EnvoyNode.Level level = level(domain, f.get("descriptors"), domain);
        return problems.size() > before ? null : new EnvoyDomain(domain, level, allOrNothing, headers);
    }

    /** envoyproxy/ratelimit's first pass: every key a known string, every list element a mapping, no floats. */
    private void check(Node node) {
        if (node instanceof MappingNode m) {
            for (NodeTuple t : m.getValue()) {
                Node k = t.getKeyNode();
                if (!(k instanceof ScalarNode ks) || !Tag.STR.equals(ks.getTag())) {
                    problem(line(k), "config error, key is not of type string: " + (k instanceof ScalarNode s ? s.getValue() : k));
                    continue;
                }
                if (!ENVOY_KEYS.contains(ks.getValue()) && !SLUICE_KEYS.contains(ks.getValue())) {
                    problem(line(k), "config error, unknown key '" + ks.getValue() + "'");
                    continue;
                }
                check(t.getValueNode());
            }
        } else if (node instanceof SequenceNode seq) {
            for (Node item : seq.getValue()) {
                if (!(item instanceof MappingNode)) {
                    problem(line(item), "config error, yaml file contains list of type other than map: "
                            + (item instanceof ScalarNode s ? s.getValue() : item.getNodeId()));
                    continue;
                }
                check(item);
            }
        } else if (node instanceof ScalarNode s && Tag.FLOAT.equals(s.getTag())) {
            problem(line(s), "error checking config: '" + s.getValue() + "' is a number with a fraction; values are strings,"
                    + " whole numbers or booleans");
        }
    }

    private EnvoyNode.Level level(String domain, Node node, String parentPath) {
        if (node == null || (node instanceof ScalarNode s && Tag.NULL.equals(s.getTag()))) {
            return EnvoyNode.Level.EMPTY;
        }
        if (!(node instanceof SequenceNode seq)) {
            problem(line(node), "error loading config file: 'descriptors' must be a list of descriptors");
            return EnvoyNode.Level.EMPTY;
        }
        Map<String, EnvoyNode> byComposite = new LinkedHashMap<>();
        List<EnvoyNode> wildcards = new ArrayList<>();
        for (Node item : seq.getValue()) {
            Map<String, Node> f = fields((MappingNode) item);
            String key = text(f.get("key"));
            if (key == null || key.isEmpty()) {
                problem(line(item), "descriptor has empty key");
                continue;
            }
            String value = text(f.get("value"));
            String composite = value == null || value.isEmpty() ? key : key + "_" + value;
            String path = parentPath + "." + composite;
            if (byComposite.containsKey(composite) || wildcards.stream().anyMatch(w -> w.composite().equals(composite))) {
                problem(line(item), "duplicate descriptor composite key '" + path + "'");
                continue;
            }
            boolean shadow = flag(f, "shadow_mode");
            boolean detailed = flag(f, "detailed_metric");
            EnvoyLimit limit = f.containsKey("rate_limit") ? limit(domain, path.substring(domain.length() + 1), f.get("rate_limit"),
                    shadow, detailed) : null;
            EnvoyNode.Level children = level(domain, f.get("descriptors"), path);
            List<String> pieces = composite.contains("*") ? List.of(composite.split("\\*", -1)) : null;
            EnvoyNode n = new EnvoyNode(composite, pieces, path, limit, children);
            if (pieces != null) {
                wildcards.add(n);
            } else {
                byComposite.put(composite, n);
            }
        }
        return new EnvoyNode.Level(byComposite, wildcards);
    }

    private EnvoyLimit limit(String domain, String rule, Node node, boolean shadow, boolean detailed) {
        if (!(node instanceof MappingNode m)) {
            problem(line(node), "error loading config file: 'rate_limit' must be a mapping of unit and requests_per_unit");
            return null;
        }
        Map<String, Node> f = fields(m);
        boolean unlimited = flag(f, "unlimited");
        String unitText = text(f.get("unit"));
        EnvoyUnit unit = EnvoyUnit.parse(unitText);
        String name = text(f.get("name")) == null ? "" : text(f.get("name"));
        int before = problems.size();
        if (unlimited && unit != null) {
            problem(line(f.get("unit")), "should not specify rate limit unit when unlimited");
        } else if (!unlimited && unit == null) {
            problem(line(f.containsKey("unit") ? f.get("unit") : m), "invalid rate limit unit '" + (unitText == null ? "" : unitText) + "'");
        }
        Set<String> replaces = new HashSet<>();
        if (f.get("replaces") instanceof SequenceNode rs) {
            for (Node r : rs.getValue()) {
                String replaced = text(fields((MappingNode) r).get("name"));
                if (replaced == null || replaced.isEmpty()) {
                    problem(line(r), "should not have an empty replaces entry");
                } else if (replaced.equals(name)) {
                    problem(line(r), "replaces should not contain name of same descriptor");
                } else {
                    replaces.add(replaced);
                }
            }
        }
        long rpu = 0;
        if (f.containsKey("requests_per_unit")) {
            Node r = f.get("requests_per_unit");
            String v = text(r);
            try {
                rpu = v == null ? 0 : Long.parseLong(v);
            } catch (NumberFormatException e) {
                rpu = -1;
            }
            if (rpu < 0 || rpu > MAX_REQUESTS_PER_UNIT || !(r instanceof ScalarNode s && Tag.INT.equals(s.getTag()))) {
                problem(line(r), "error loading config file: requests_per_unit must be a whole number from 0 to " + MAX_REQUESTS_PER_UNIT
                        + ", not '" + v + "'");
            }
        }
        if (problems.size() > before) {
            return null;
        }
        LimitMeter meter = LimitMeter.of(domain, rule, name.isEmpty() ? rule : name, shadow);
        if (unlimited) {
            return new EnvoyLimit(name, null, 0, true, Set.copyOf(replaces), shadow, detailed, null, false, meter);
        }
        Duration window = unit.length();
        if (f.containsKey("window")) {
            try {
                window = Durations.parse(text(f.get("window")));
            } catch (Durations.NotADuration e) {
                problem(line(f.get("window")), "window: " + e.getMessage());
                return null;
            }
            if (window.isZero() || window.isNegative()) {
                problem(line(f.get("window")), "window must be longer than zero");
                return null;
            }
        }
        String algorithm = f.containsKey("algorithm") ? text(f.get("algorithm")) : "fixed_window";
        if (!ALGORITHMS.contains(algorithm)) {
            problem(line(f.get("algorithm")), "unknown algorithm '" + algorithm + "'; use one of fixed_window, token_bucket, leaky_bucket,"
                    + " sliding_window");
            return null;
        }
        if (rpu == 0 && !algorithm.equals("fixed_window")) {
            problem(line(m), algorithm + " needs requests_per_unit of at least 1 (0, which refuses everything, is fixed_window's)");
            return null;
        }
        FixedWindow calendar = null;
        if (f.containsKey("zone")) {
            calendar = calendar(f, unit, rpu, algorithm);
            if (calendar == null) {
                return null;
            }
        }
        Algorithm a;
        try {
            a = calendar != null ? CountingWindow.ofCalendar(rpu, calendar) : switch (algorithm) {
                case "token_bucket" -> new TokenBucket(rpu, rpu, window);
                case "leaky_bucket" -> new LeakyBucket(rpu, rpu, window);
                case "sliding_window" -> new SlidingWindow(rpu, window, granularity(window));
                default -> new CountingWindow(rpu, window);
            };
        } catch (IllegalArgumentException e) {
            problem(line(m), e.getMessage());
            return null;
        }
        return new EnvoyLimit(name, unit, rpu, false, Set.copyOf(replaces), shadow, detailed, a, algorithm.equals("fixed_window"), meter);
    }

    /**
     * {@code zone}: the unit's day, week (from Monday) or month as the zone's calendar has them,
     * for the counting fixed window only; {@code null} after a problem.
     */
    private FixedWindow calendar(Map<String, Node> f, EnvoyUnit unit, long rpu, String algorithm) {
        Node z = f.get("zone");
        FixedWindow.CalendarUnit calendarUnit = switch (unit) {
            case DAY -> FixedWindow.CalendarUnit.DAY;
            case WEEK -> FixedWindow.CalendarUnit.WEEK;
            case MONTH -> FixedWindow.CalendarUnit.MONTH;
            default -> null;
        };
        if (calendarUnit == null) {
            problem(line(z), "zone applies to the units day, week and month, not " + unit.name().toLowerCase(java.util.Locale.ROOT));
            return null;
        }
        if (f.containsKey("window") || !algorithm.equals("fixed_window")) {
            problem(line(z), "zone applies to fixed windows of the unit's calendar length, without 'window' or another 'algorithm'");
            return null;
        }
        ZoneId zone;
        try {
            zone = ZoneId.of(String.valueOf(text(z)));
        } catch (java.time.DateTimeException e) {
            problem(line(z), "unknown time zone '" + text(z) + "'; use a region id such as Europe/Berlin or an offset such as +08:00");
            return null;
        }
        return FixedWindow.ofCalendar(Math.max(1, rpu), calendarUnit, zone, DayOfWeek.MONDAY);
    }

    /** A sliding window's slots: as many of up to 60 as divide the window evenly. */
    private static Duration granularity(Duration window) {
        long nanos = window.toNanos();
        for (int slots : new int[] {60, 50, 40, 30, 20, 10, 5, 4, 2}) {
            if (nanos % slots == 0) {
                return Duration.ofNanos(nanos / slots);
            }
        }
        return window;
    }

    private static Map<String, Node> fields(MappingNode m) {
        Map<String, Node> f = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            if (t.getKeyNode() instanceof ScalarNode k) {
                f.put(k.getValue(), t.getValueNode());
            }
        }
        return f;
    }

    private static String text(Node node) {
        return node instanceof ScalarNode s && !Tag.NULL.equals(s.getTag()) ? s.getValue() : null;
    }

    /** A boolean field: absent is false; anything but true or false is refused. */
    private EnvoyDomain.Headers headers(Node node) {
        if (node == null || (node instanceof ScalarNode n && Tag.NULL.equals(n.getTag()))) {
            return EnvoyDomain.Headers.DEFAULT;
        }
        if (node instanceof ScalarNode s) {
            switch (s.getValue()) {
                case "ratelimit":
                    return EnvoyDomain.Headers.RATELIMIT;
                case "ietf":
                    return EnvoyDomain.Headers.IETF;
                case "none":
                    return EnvoyDomain.Headers.NONE;
                default:
                    break;
            }
        }
        problem(line(node), "error loading config file: response_headers must be ratelimit, ietf or none, not '" + text(node) + "'");
        return EnvoyDomain.Headers.DEFAULT;
    }

    private boolean flag(Map<String, Node> f, String key) {
        Node node = f.get(key);
        if (node == null || (node instanceof ScalarNode n && Tag.NULL.equals(n.getTag()))) {
            return false;
        }
        if (node instanceof ScalarNode s && Tag.BOOL.equals(s.getTag())) {
            return List.of("true", "yes", "on").contains(s.getValue().toLowerCase(java.util.Locale.ROOT));
        }
        problem(line(node), "error loading config file: " + key + " must be true or false, not '" + text(node) + "'");
        return false;
    }

    private static int line(Node node) {
        return node == null || node.getStartMark() == null ? 1 : node.getStartMark().getLine() + 1;
    }

    private void problem(int line, String message) {
        problems.add(new Problem(file, line, "", message));
    }
}
