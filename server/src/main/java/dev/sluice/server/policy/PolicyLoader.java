package dev.sluice.server.policy;

import dev.sluice.server.algorithm.Algorithm;
import dev.sluice.server.algorithm.ConcurrencyLimit;
import dev.sluice.server.algorithm.FixedWindow;
import dev.sluice.server.algorithm.LeakyBucket;
import dev.sluice.server.algorithm.SlidingWindow;
import dev.sluice.server.algorithm.TokenBucket;
import dev.sluice.server.algorithm.TrickleWindow;
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

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a YAML policy file into validated, compiled {@link Policies}. Every problem found is
 * reported with file, line and reason, and nothing is returned unless there are none: a node
 * never runs on half a policy. The language is documented in {@code docs/policies.md}.
 */
public final class PolicyLoader {

    /** The policies a node serves when none are given: domain {@code demo}, 10 per second per {@code ip}. */
    public static final String BUNDLED_DEMO_RESOURCE = "/dev/sluice/server/policy/demo-policies.yaml";

    static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
    static final Pattern DESCRIPTOR = Pattern.compile("[A-Za-z0-9_.:\\-]{1,64}");

    private static final Set<String> ALGORITHMS = Set.of("token_bucket", "leaky_bucket", "fixed_window", "sliding_window", "concurrency");
    private static final Map<String, Set<String>> ALGORITHM_FIELDS = Map.of(
            "token_bucket", Set.of("capacity", "refill", "refill_period", "initial"),
            "leaky_bucket", Set.of("capacity", "leak", "leak_period"),
            "fixed_window", Set.of("limit", "window", "calendar", "zone", "week_start", "trickle", "trickle_period"),
            "sliding_window", Set.of("limit", "window", "granularity"),
            "concurrency", Set.of("limit", "lease"));
    private static final Set<String> LIMIT_KEYS = Set.of("name", "algorithm", "key", "shadow", "count_denied", "unlimited", "numbers",
            "overdraft", "settle_within");

    /** The longest a limit's buckets may remember a request for a settle: memory grows with the rate times this. */
    static final Duration MOST_SETTLE_WITHIN = Duration.ofHours(1);
    private static final Set<String> RULE_KEYS = Set.of("name", "match", "limits", "unlimited", "shadow", "response");
    private static final Set<String> DOMAIN_KEYS = Set.of("rules", "response", "tables", "defaults", "callers", "when_full",
            "metrics_label");
    private static final Set<String> RESPONSE_KEYS = Set.of("status", "headers", "retry_after", "body", "content_type", "extra_headers",
            "values");
    private static final Set<String> TABLE_KEYS = Set.of("by", "columns", "rows");
    private static final Set<String> MATCH_KEYS = Set.of("equals", "one_of", "prefix", "glob", "present", "not", "all_of", "any_of");

    private final String source;
    private final List<Problem> problems = new ArrayList<>();
    /** The callers the file names as administrators. */
    private CallerPatterns admins = CallerPatterns.NONE;

    private PolicyLoader(String source) {
        this.source = source;
    }

    /** Loads and validates a policy file. */
    public static Policies load(Path file) throws IOException, PolicyException {
        return parse(Files.readAllBytes(file), file.toString());
    }

    /**
     * Parses and validates a policy file's bytes, which must be UTF-8: a byte that is not is a
     * problem with its offset and line, like any other.
     */
    public static Policies parse(byte[] bytes, String sourceName) throws PolicyException {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = d.decode(in, out, true);
        if (r.isError()) {
            int at = in.position();
            int line = 1;
            for (int i = 0; i < at; i++) {
                line += bytes[i] == '\n' ? 1 : 0;
            }
            throw new PolicyException(List.of(new Problem(sourceName, line, "", "not valid UTF-8: byte " + at + " (0x"
                    + String.format("%02x", bytes[at] & 0xff) + ") does not start or continue a character; save the file as UTF-8")));
        }
        d.flush(out);
        return parse(out.flip().toString(), sourceName);
    }

    /** The bundled demo policy. */
    public static Policies bundledDemo() {
        try (InputStream in = PolicyLoader.class.getResourceAsStream(BUNDLED_DEMO_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("bundled demo policy missing from the jar: " + BUNDLED_DEMO_RESOURCE);
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "bundled demo");
        } catch (IOException | PolicyException e) {
            throw new IllegalStateException("bundled demo policy is unusable", e);
        }
    }

    /** Parses and validates policy text; {@code sourceName} is used in problem reports. */
    public static Policies parse(String text, String sourceName) throws PolicyException {
        PolicyLoader loader = new PolicyLoader(sourceName);
        Map<String, Domain> domains = loader.document(text);
        if (!loader.problems.isEmpty()) {
            throw new PolicyException(loader.problems);
        }
        return new Policies(domains, loader.admins, sourceName, version(text), text);
    }

    /** Most aliases a policy file may use (a file needs none; many would be an alias bomb). */
    static final int MAX_ALIASES = 50;

    /** Deepest nesting of mappings and lists a policy file may have (the deepest real policy nests about ten). */
    static final int MAX_DEPTH = 40;

    private Map<String, Domain> document(String text) {
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(MAX_ALIASES);
            options.setNestingDepthLimit(MAX_DEPTH + 10);
            if (!shapeWithinLimits(text, options)) {
                return Map.of();
            }
            root = new Yaml(new SafeConstructor(options)).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 0;
            problem(line, "", "not valid YAML: " + e.getProblem());
            return Map.of();
        } catch (YAMLException e) {
            problem(0, "", "not valid YAML: " + e.getMessage());
            return Map.of();
        }
        if (root == null) {
            problem(1, "", "the file is empty; it must hold a 'domains' mapping");
            return Map.of();
        }
        duplicateKeys(root, "");
        Map<String, Node> top = fields(root, "", Set.of("domains", "admins"));
        if (top == null) {
            return Map.of();
        }
        if (top.containsKey("admins")) {
            admins = callers(top.get("admins"), "admins");
        }
        Node domainsNode = top.get("domains");
        if (domainsNode == null) {
            problem(line(root), "", "missing 'domains': a policy file holds a mapping of domain names to their rules");
            return Map.of();
        }
        if (!(domainsNode instanceof MappingNode domainsMap)) {
            problem(line(domainsNode), "domains", "must be a mapping of domain names to domains");
            return Map.of();
        }
        Map<String, Domain> domains = new LinkedHashMap<>();
        for (NodeTuple t : domainsMap.getValue()) {
            String name = scalarText(t.getKeyNode());
            String path = "domains." + name;
            if (name == null || !NAME.matcher(name).matches()) {
                problem(line(t.getKeyNode()), "domains", "domain name '" + name + "' must be 1 to 64 letters, digits, '_', '-' or '.'");
                continue;
            }
            if (domains.containsKey(name)) {
                problem(line(t.getKeyNode()), path, "domain '" + name + "' is defined twice");
                continue;
            }
            Domain d = domain(name, t.getValueNode(), path);
            if (d != null) {
                domains.put(name, d);
            }
        }
        if (domains.isEmpty() && problems.isEmpty()) {
            problem(line(domainsNode), "domains", "no domains defined");
        }
        return domains;
    }

    private Domain domain(String name, Node node, String path) {
        Map<String, Node> f = fields(node, path, DOMAIN_KEYS);
        if (f == null) {
            return null;
        }
        ResponseStyle response = f.containsKey("response")
                ? response(f.get("response"), path + ".response", ResponseStyle.DEFAULT) : ResponseStyle.DEFAULT;
        Map<String, Table> tables = new LinkedHashMap<>();
        if (f.containsKey("tables") && f.get("tables") instanceof MappingNode tm) {
            for (NodeTuple t : tm.getValue()) {
                String tableName = scalarText(t.getKeyNode());
                String tpath = path + ".tables." + tableName;
                if (tableName == null || !NAME.matcher(tableName).matches()) {
                    problem(line(t.getKeyNode()), path + ".tables", "table name '" + tableName + "' must be 1 to 64 letters, digits, '_', '-' or '.'");
                    continue;
                }
                Table table = table(tableName, t.getValueNode(), tpath);
                if (table != null) {
                    tables.put(tableName, table);
                }
            }
        } else if (f.containsKey("tables")) {
            problem(line(f.get("tables")), path + ".tables", "must be a mapping of table names to tables");
        }
        Map<String, String> defaults = new LinkedHashMap<>();
        if (f.containsKey("defaults")) {
            if (f.get("defaults") instanceof MappingNode dm) {
                for (NodeTuple t : dm.getValue()) {
                    String descriptor = scalarText(t.getKeyNode());
                    String value = scalar(t.getValueNode(), path + ".defaults." + descriptor);
                    if (descriptor == null || !DESCRIPTOR.matcher(descriptor).matches()) {
                        problem(line(t.getKeyNode()), path + ".defaults", "descriptor name '" + descriptor
                                + "' must be 1 to 64 letters, digits, '_', '-', '.' or ':'");
                    } else if (value != null) {
                        defaults.put(descriptor, value);
                    }
                }
            } else {
                problem(line(f.get("defaults")), path + ".defaults", "must be a mapping of descriptor names to values");
            }
        }
        CallerPatterns callers = f.containsKey("callers") ? callers(f.get("callers"), path + ".callers") : null;
        WhenFull whenFull = WhenFull.REFUSE;
        if (f.containsKey("when_full")) {
            String w = scalar(f.get("when_full"), path + ".when_full");
            whenFull = java.util.Arrays.stream(WhenFull.values()).filter(v -> v.configName().equals(w)).findFirst().orElse(null);
            if (whenFull == null) {
                problem(line(f.get("when_full")), path + ".when_full", "'" + w + "' is not refuse, deny or allow");
                whenFull = WhenFull.REFUSE;
            }
        }
        Node rulesNode = f.get("rules");
        if (rulesNode == null) {
            problem(line(node), path, "missing 'rules': a domain needs a list of rules");
            return null;
        }
        if (!(rulesNode instanceof SequenceNode rulesSeq)) {
            problem(line(rulesNode), path + ".rules", "must be a list of rules");
            return null;
        }
        List<Rule> rules = new ArrayList<>();
        Set<String> ruleNames = new HashSet<>();
        Set<String> limitNames = new HashSet<>();
        List<Node> items = rulesSeq.getValue();
        for (int i = 0; i < items.size(); i++) {
            Rule r = rule(name, items.get(i), path + ".rules[" + i + "]", response, tables, ruleNames, limitNames);
            if (r != null) {
                rules.add(r);
            }
        }
        String label = null;
        Set<String> labelValues = Set.of();
        if (f.containsKey("metrics_label")) {
            label = scalar(f.get("metrics_label"), path + ".metrics_label");
            if (label != null && !DESCRIPTOR.matcher(label).matches()) {
                problem(line(f.get("metrics_label")), path + ".metrics_label", "descriptor name '" + label
                        + "' must be 1 to 64 letters, digits, '_', '-', '.' or ':'");
                label = null;
            } else if (label != null) {
                labelValues = listedValues(label, rules, tables.values());
                if (labelValues.isEmpty()) {
                    problem(line(f.get("metrics_label")), path + ".metrics_label", "the policy lists no values of '" + label
                            + "' (in a tier table's column or a rule's match), so a label from it could take any number of values;"
                            + " label by a descriptor the policy lists, such as a tier");
                    label = null;
                }
            }
        }
        return new Domain(name, rules, response, defaults, callers, whenFull, label, labelValues);
    }

    /** A list of caller ids, each exact or a pattern ({@code *} any run of characters, {@code ?} one). */
    private CallerPatterns callers(Node node, String path) {
        if (!(node instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
            problem(line(node), path, "must be a non-empty list of caller ids or patterns, e.g. [\"spiffe://example.org/ns/shop/*\"]");
            return CallerPatterns.NONE;
        }
        List<String> patterns = new ArrayList<>();
        for (int i = 0; i < seq.getValue().size(); i++) {
            Node item = seq.getValue().get(i);
            String p = scalar(item, path + "[" + i + "]");
            if (p == null) {
                continue;
            }
            if (p.isEmpty() || p.length() > 256) {
                problem(line(item), path + "[" + i + "]", "a caller id or pattern is 1 to 256 characters");
                continue;
            }
            patterns.add(p);
        }
        return CallerPatterns.of(patterns);
    }

    private Rule rule(String domain, Node node, String path, ResponseStyle domainResponse, Map<String, Table> tables,
                      Set<String> ruleNames, Set<String> limitNames) {
        Map<String, Node> f = fields(node, path, RULE_KEYS);
        if (f == null) {
            return null;
        }
        String name = requiredName(f, "name", node, path);
        if (name != null && !ruleNames.add(name)) {
            problem(line(f.get("name")), path + ".name", "rule name '" + name + "' is used twice in domain '" + domain + "'");
        }
        List<Map.Entry<String, Condition>> match = f.containsKey("match") ? match(f.get("match"), path + ".match") : List.of();
        boolean unlimited = f.containsKey("unlimited") && bool(f.get("unlimited"), path + ".unlimited");
        boolean shadow = f.containsKey("shadow") && bool(f.get("shadow"), path + ".shadow");
        ResponseStyle response = f.containsKey("response")
                ? response(f.get("response"), path + ".response", domainResponse) : domainResponse;
        List<LimitDef> limits = new ArrayList<>();
        Node limitsNode = f.get("limits");
        if (limitsNode == null) {
            if (!unlimited) {
                problem(line(node), path, "missing 'limits': a rule needs at least one limit (or 'unlimited: true')");
            }
        } else if (unlimited) {
            problem(line(limitsNode), path + ".limits", "an unlimited rule exempts matching requests from every rule; it cannot have limits");
        } else if (!(limitsNode instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
            problem(line(limitsNode), path + ".limits", "must be a non-empty list of limits");
        } else {
            List<Node> items = seq.getValue();
            for (int i = 0; i < items.size(); i++) {
                LimitDef l = limit(domain, name, items.get(i), path + ".limits[" + i + "]", shadow, tables, limitNames);
                if (l != null) {
                    limits.add(l.metered(domain, name));
                }
            }
        }
        if (name == null) {
            return null;
        }
        return new Rule(name, match, limits, unlimited, response);
    }

    /** The values of {@code descriptor} the domain's tables and rules name one by one (exact or in a list). */
    private static Set<String> listedValues(String descriptor, List<Rule> rules, java.util.Collection<Table> tables) {
        Set<String> values = new java.util.TreeSet<>();
        for (Rule r : rules) {
            for (Map.Entry<String, Condition> m : r.match()) {
                if (m.getKey().equals(descriptor)) {
                    listed(m.getValue(), values);
                }
            }
        }
        for (Table t : tables) {
            int column = t.by().indexOf(descriptor);
            if (column < 0) {
                continue;
            }
            for (Table.Row row : t.rows()) {
                listed(row.match().get(column), values);
            }
        }
        return values;
    }

    private static void listed(Condition c, Set<String> into) {
        if (c instanceof Condition.Exact e) {
            into.add(e.expected());
        } else if (c instanceof Condition.OneOf o) {
            into.addAll(o.values());
        } else if (c instanceof Condition.AnyOf any) {
            any.any().forEach(inner -> listed(inner, into));
        }
    }

    private List<Map.Entry<String, Condition>> match(Node node, String path) {
        if (!(node instanceof MappingNode m)) {
            problem(line(node), path, "must be a mapping of descriptor names to conditions");
            return List.of();
        }
        List<Map.Entry<String, Condition>> conditions = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (NodeTuple t : m.getValue()) {
            String descriptor = scalarText(t.getKeyNode());
            String cpath = path + "." + descriptor;
            if (descriptor == null || !DESCRIPTOR.matcher(descriptor).matches()) {
                problem(line(t.getKeyNode()), path, "descriptor name '" + descriptor + "' must be 1 to 64 letters, digits, '_', '-', '.' or ':'");
                continue;
            }
            if (!seen.add(descriptor)) {
                continue; // reported by duplicateKeys
            }
            Condition matcher = condition(t.getValueNode(), cpath);
            if (matcher != null) {
                conditions.add(Map.entry(descriptor, matcher));
            }
        }
        return conditions;
    }

    private Condition condition(Node node, String path) {
        if (node instanceof ScalarNode s) {
            return new Condition.Exact(s.getValue());
        }
        if (node instanceof SequenceNode seq) {
            Set<String> values = new LinkedHashSet<>();
            for (Node item : seq.getValue()) {
                String v = scalarText(item);
                if (v == null) {
                    problem(line(item), path, "a list of values must hold plain values only");
                    return null;
                }
                values.add(v);
            }
            if (values.isEmpty()) {
                problem(line(node), path, "an empty list matches nothing; remove the condition or list values");
                return null;
            }
            return new Condition.OneOf(Set.copyOf(values));
        }
        Map<String, Node> f = fields(node, path, MATCH_KEYS);
        if (f == null) {
            return null;
        }
        if (f.size() != 1) {
            problem(line(node), path, "a condition takes exactly one of " + String.join(", ", sorted(MATCH_KEYS)));
            return null;
        }
        Map.Entry<String, Node> e = f.entrySet().iterator().next();
        if (e.getKey().equals("all_of") || e.getKey().equals("any_of")) {
            String cpath = path + "." + e.getKey();
            if (!(e.getValue() instanceof SequenceNode seq) || seq.getValue().size() < 2) {
                problem(line(e.getValue()), cpath, "must list two or more conditions");
                return null;
            }
            List<Condition> parts = new ArrayList<>();
            for (int i = 0; i < seq.getValue().size(); i++) {
                Condition c = condition(seq.getValue().get(i), cpath + "[" + i + "]");
                if (c == null) {
                    return null;
                }
                parts.add(c);
            }
            return e.getKey().equals("all_of") ? new Condition.AllOf(List.copyOf(parts)) : new Condition.AnyOf(List.copyOf(parts));
        }
        if (e.getKey().equals("not")) {
            Condition inner = condition(e.getValue(), path + ".not");
            return inner == null ? null : new Condition.Not(inner);
        }
        if (e.getKey().equals("one_of")) {
            if (!(e.getValue() instanceof SequenceNode)) {
                problem(line(e.getValue()), path + ".one_of", "must be a list of values");
                return null;
            }
            return condition(e.getValue(), path + ".one_of");
        }
        String text = scalar(e.getValue(), path + "." + e.getKey());
        if (text == null) {
            return null;
        }
        return switch (e.getKey()) {
            case "equals" -> new Condition.Exact(text);
            case "prefix" -> new Condition.Prefix(text);
            case "glob" -> Condition.Glob.of(text);
            case "present" -> new Condition.Present(bool(e.getValue(), path + ".present"));
            default -> null;
        };
    }

    private LimitDef limit(String domain, String rule, Node node, String path, boolean ruleShadow,
                           Map<String, Table> tables, Set<String> limitNames) {
        if (!(node instanceof MappingNode)) {
            problem(line(node), path, "a limit must be a mapping with at least 'name', 'algorithm' and 'key'");
            return null;
        }
        String algorithmName = null;
        Map<String, Node> raw = fields(node, path, null);
        if (raw == null) {
            return null;
        }
        if (raw.get("algorithm") != null) {
            algorithmName = scalar(raw.get("algorithm"), path + ".algorithm");
            if (algorithmName != null && !ALGORITHMS.contains(algorithmName)) {
                problem(line(raw.get("algorithm")), path + ".algorithm", "unknown algorithm '" + algorithmName
                        + "'; use one of " + String.join(", ", sorted(ALGORITHMS)));
                algorithmName = null;
            }
        } else {
            problem(line(node), path, "missing 'algorithm' (one of " + String.join(", ", sorted(ALGORITHMS)) + ")");
        }
        Set<String> algorithmFields = algorithmName == null ? Set.of() : ALGORITHM_FIELDS.get(algorithmName);
        Map<String, Value> numbers = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : raw.entrySet()) {
            String k = e.getKey();
            if (LIMIT_KEYS.contains(k)) {
                continue;
            }
            if (algorithmFields.contains(k)) {
                String v = scalar(e.getValue(), path + "." + k);
                if (v != null) {
                    numbers.put(k, new Value(v, line(e.getValue()), path + "." + k, quoted(e.getValue())));
                }
            } else if (algorithmName != null) {
                problem(line(e.getValue()), path + "." + k, "unknown field '" + k + "' for " + algorithmName
                        + "; it takes " + String.join(", ", sorted(algorithmFields)));
            }
        }
        String name = requiredName(raw, "name", node, path);
        if (name != null && !limitNames.add(name)) {
            problem(line(raw.get("name")), path + ".name", "limit name '" + name + "' is used twice in domain '" + domain
                    + "'; names identify limits in responses and must be unique");
        }
        KeySpec key = raw.containsKey("key") ? key(raw.get("key"), path + ".key") : null;
        if (!raw.containsKey("key")) {
            problem(line(node), path, "missing 'key': the descriptors that identify a bucket, e.g. key: [ip]");
        }
        boolean shadow = ruleShadow || (raw.containsKey("shadow") && bool(raw.get("shadow"), path + ".shadow"));
        boolean countDenied = raw.containsKey("count_denied") && bool(raw.get("count_denied"), path + ".count_denied");
        boolean unlimited = raw.containsKey("unlimited") && bool(raw.get("unlimited"), path + ".unlimited");
        boolean overdraft = overdraft(raw.get("overdraft"), path + ".overdraft", algorithmName, countDenied);
        long settleWithin = settleWithin(raw.get("settle_within"), path + ".settle_within", algorithmName);
        Table table = null;
        if (raw.containsKey("numbers")) {
            String tableName = scalar(raw.get("numbers"), path + ".numbers");
            table = tableName == null ? null : tables.get(tableName);
            if (tableName != null && table == null) {
                problem(line(raw.get("numbers")), path + ".numbers", "no table named '" + tableName + "' in domain '" + domain
                        + "'" + (tables.isEmpty() ? " (it has no tables)" : "; tables: " + String.join(", ", tables.keySet())));
            }
        }
        if (algorithmName == null) {
            return null;
        }
        boolean incomplete = name == null || key == null || rule == null;
        String prefix = domain + KeySpec.SEPARATOR + rule + KeySpec.SEPARATOR + name + KeySpec.SEPARATOR + tag(algorithmName);
        if (unlimited) {
            if (table != null) {
                problem(line(raw.get("unlimited")), path + ".unlimited", "a limit cannot be unlimited and take numbers from a table; mark table rows 'unlimited' instead");
            }
            return incomplete ? null : new LimitDef(name, prefix, key, shadow, countDenied, null, null, null, 0);
        }
        if (table == null) {
            Algorithm algorithm = overdrawn(algorithm(algorithmName, numbers, path, line(node)), overdraft, path, line(node));
            return algorithm == null || incomplete ? null
                    : new LimitDef(name, prefix, key, shadow, countDenied, algorithm, null, null, settleWithin);
        }
        for (String column : table.columns()) {
            if (!algorithmFields.contains(column)) {
                problem(line(raw.get("numbers")), path + ".numbers", "table '" + table.name() + "' has column '" + column
                        + "', which is not a field of " + algorithmName + " (" + String.join(", ", sorted(algorithmFields)) + ")");
                return null;
            }
            if (numbers.containsKey(column)) {
                problem(numbers.get(column).line(), numbers.get(column).path(), "'" + column + "' comes from table '" + table.name()
                        + "'; do not set it on the limit too");
                return null;
            }
        }
        Algorithm[] rowAlgorithms = new Algorithm[table.rows().size()];
        for (int r = 0; r < rowAlgorithms.length; r++) {
            Table.Row row = table.rows().get(r);
            if (row.values().size() == 1 && "unlimited".equals(row.values().get(0))) {
                continue;
            }
            Map<String, Value> merged = new LinkedHashMap<>(numbers);
            String rowPath = "domains." + domain + ".tables." + table.name() + ".rows[" + r + "]";
            for (int c = 0; c < table.columns().size(); c++) {
                merged.put(table.columns().get(c), new Value(row.values().get(c), row.line(), rowPath, row.quoted().get(c)));
            }
            String at = rowPath + " (for limit '" + name + "')";
            rowAlgorithms[r] = overdrawn(algorithm(algorithmName, merged, at, row.line()), overdraft, at, row.line());
            incomplete |= rowAlgorithms[r] == null;
        }
        return incomplete ? null : new LimitDef(name, prefix, key, shadow, countDenied, null, table, rowAlgorithms, settleWithin);
    }

    /** Whether a limit's {@code overdraft} field asks for debt ({@code allow}) rather than {@code cap}, the default. */
    private boolean overdraft(Node node, String path, String algorithmName, boolean countDenied) {
        if (node == null) {
            return false;
        }
        String v = scalar(node, path);
        if (v == null) {
            return false;
        }
        if (!v.equals("allow") && !v.equals("cap")) {
            problem(line(node), path, "overdraft must be 'allow' (a cost settled past what is left goes into debt) or 'cap' "
                    + "(it takes what is left), not '" + v + "'");
            return false;
        }
        if (v.equals("cap")) {
            return false;
        }
        if ("concurrency".equals(algorithmName)) {
            problem(line(node), path, "a concurrency limit counts slots held, not units spent: it has no debt to allow");
            return false;
        }
        if (countDenied && "fixed_window".equals(algorithmName)) {
            problem(line(node), path, "overdraft: allow carries a window's excess into the next one; with count_denied every "
                    + "denied request would be carried too: choose one");
            return false;
        }
        return true;
    }

    /** {@code algorithm} allowing debt when {@code overdraft} asks for it; {@code null} (a problem recorded) when it cannot. */
    private Algorithm overdrawn(Algorithm algorithm, boolean overdraft, String path, int line) {
        if (algorithm == null || !overdraft) {
            return algorithm;
        }
        try {
            return algorithm.overdrawn();
        } catch (IllegalArgumentException e) {
            problem(line, path + ".overdraft", (algorithm instanceof dev.sluice.server.algorithm.TrickleWindow
                    ? "a fixed window with a trickle" : algorithm.toString()) + " cannot go into debt; use overdraft: cap");
            return null;
        }
    }

    /** A limit's {@code settle_within} in nanoseconds, or 0 when it has none. */
    private long settleWithin(Node node, String path, String algorithmName) {
        if (node == null) {
            return 0;
        }
        String v = scalar(node, path);
        if (v == null) {
            return 0;
        }
        Duration d = duration(new Value(v, line(node), path, quoted(node)));
        if (d == null) {
            return 0;
        }
        if ("concurrency".equals(algorithmName)) {
            problem(line(node), path, "a concurrency limit's slots are held by leases, which Release gives back; settle_within does not apply");
            return 0;
        }
        if (d.compareTo(MOST_SETTLE_WITHIN) > 0) {
            problem(line(node), path, "settle_within is at most " + format(MOST_SETTLE_WITHIN) + " (a bucket remembers every "
                    + "request with an id that long), got " + v);
            return 0;
        }
        return d.toNanos();
    }

    private static String tag(String algorithm) {
        return switch (algorithm) {
            case "token_bucket" -> "tb";
            case "leaky_bucket" -> "lb";
            case "fixed_window" -> "fw";
            case "concurrency" -> "cc";
            default -> "sw";
        };
    }

    /** A field's text, where it was, and whether it was written in quotes (then it is text, never a number). */
    private record Value(String text, int line, String path, boolean quoted) {
    }

    private static boolean quoted(Node node) {
        return node instanceof ScalarNode s && s.getScalarStyle() != org.yaml.snakeyaml.DumperOptions.ScalarStyle.PLAIN;
    }

    private static final Pattern WHOLE_NUMBER = Pattern.compile("-?[0-9](_?[0-9])*");

    private Algorithm algorithm(String name, Map<String, Value> f, String path, int line) {
        int before = problems.size();
        try {
            switch (name) {
                case "token_bucket" -> {
                    Long capacity = positive(f, "capacity", path, line);
                    Long refill = positive(f, "refill", path, line);
                    Duration period = f.containsKey("refill_period") ? duration(f.get("refill_period")) : Duration.ofSeconds(1);
                    Long initial = f.containsKey("initial") ? nonNegative(f.get("initial")) : capacity;
                    return problems.size() > before ? null : new TokenBucket(capacity, refill, period, initial);
                }
                case "leaky_bucket" -> {
                    Long capacity = positive(f, "capacity", path, line);
                    Long leak = positive(f, "leak", path, line);
                    Duration period = f.containsKey("leak_period") ? duration(f.get("leak_period")) : Duration.ofSeconds(1);
                    return problems.size() > before ? null : new LeakyBucket(capacity, leak, period);
                }
                case "fixed_window" -> {
                    return fixedWindow(f, path, line, before);
                }
                case "sliding_window" -> {
                    Long limit = positive(f, "limit", path, line);
                    Duration window = f.containsKey("window") ? duration(f.get("window")) : null;
                    if (!f.containsKey("window")) {
                        problem(line, path, "missing 'window' for sliding_window, e.g. window: 1m");
                    }
                    Duration granularity = null;
                    if (f.containsKey("granularity")) {
                        granularity = duration(f.get("granularity"));
                    } else if (window != null) {
                        if (window.toNanos() % 1_000_000_000L == 0 && window.toSeconds() <= SlidingWindow.MAX_SLOTS) {
                            granularity = Duration.ofSeconds(1);
                        } else {
                            problem(line, path, "sliding_window over " + format(window)
                                    + " needs an explicit 'granularity' (the default, 1s, fits windows of whole seconds up to 1h)");
                        }
                    }
                    return problems.size() > before ? null : new SlidingWindow(limit, window, granularity);
                }
                case "concurrency" -> {
                    Long limit = positive(f, "limit", path, line);
                    Duration lease = f.containsKey("lease") ? duration(f.get("lease")) : null;
                    if (!f.containsKey("lease")) {
                        problem(line, path, "missing 'lease' for concurrency: the longest a slot is held before it comes back "
                                + "by itself, e.g. lease: 30s");
                    }
                    return problems.size() > before ? null : new ConcurrencyLimit(limit, lease);
                }
                default -> throw new IllegalStateException(name);
            }
        } catch (IllegalArgumentException e) {
            // The algorithm's own checks: numbers that are each valid but do not fit together.
            problem(line, path, e.getMessage());
            return null;
        }
    }

    /** A fixed window, with the trickle that follows its quota when the limit asks for one. */
    private Algorithm fixedWindow(Map<String, Value> f, String path, int line, int before) {
        FixedWindow window = quotaWindow(f, path, line, before);
        if (!f.containsKey("trickle")) {
            if (f.containsKey("trickle_period")) {
                Value v = f.get("trickle_period");
                problem(v.line(), v.path(), "'trickle_period' needs 'trickle': the units admitted per period once the quota is spent");
                return null;
            }
            return window;
        }
        Long trickle = positive(f, "trickle", path, line);
        Duration period = f.containsKey("trickle_period") ? duration(f.get("trickle_period")) : Duration.ofSeconds(1);
        if (window == null || problems.size() > before) {
            return null;
        }
        if (trickle > window.limit()) {
            Value v = f.get("trickle");
            problem(v.line(), v.path(), "trickle " + trickle + " is more than the window's limit " + window.limit()
                    + "; the trickle is what passes once the quota is spent");
            return null;
        }
        return new TrickleWindow(window, trickle, period);
    }

    private FixedWindow quotaWindow(Map<String, Value> f, String path, int line, int before) {
        Long limit = positive(f, "limit", path, line);
        boolean hasWindow = f.containsKey("window");
        boolean hasCalendar = f.containsKey("calendar");
        if (hasWindow == hasCalendar) {
            problem(line, path, "fixed_window takes exactly one of 'window' (a duration, aligned to the epoch) or 'calendar' (day, week or month)");
            return null;
        }
        if (hasWindow) {
            for (String calendarOnly : List.of("zone", "week_start")) {
                if (f.containsKey(calendarOnly)) {
                    Value v = f.get(calendarOnly);
                    problem(v.line(), v.path(), "'" + calendarOnly + "' applies only to calendar windows");
                }
            }
            Duration window = duration(f.get("window"));
            return problems.size() > before ? null : FixedWindow.ofLength(limit, window);
        }
        Value cal = f.get("calendar");
        FixedWindow.CalendarUnit unit = null;
        try {
            unit = FixedWindow.CalendarUnit.valueOf(cal.text().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            problem(cal.line(), cal.path(), "calendar must be day, week or month, not '" + cal.text() + "'");
        }
        ZoneId zone = ZoneId.of("UTC");
        if (f.containsKey("zone")) {
            Value z = f.get("zone");
            try {
                zone = ZoneId.of(z.text());
            } catch (DateTimeException e) {
                problem(z.line(), z.path(), "unknown time zone '" + z.text() + "'; use a region id such as Asia/Shanghai or an offset such as +08:00");
            }
        }
        DayOfWeek weekStart = DayOfWeek.MONDAY;
        if (f.containsKey("week_start")) {
            Value w = f.get("week_start");
            if (unit != null && unit != FixedWindow.CalendarUnit.WEEK) {
                problem(w.line(), w.path(), "'week_start' applies only to 'calendar: week'");
            }
            try {
                weekStart = DayOfWeek.valueOf(w.text().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                problem(w.line(), w.path(), "week_start must be a day name such as monday or sunday, not '" + w.text() + "'");
            }
        }
        return problems.size() > before ? null : FixedWindow.ofCalendar(limit, unit, zone, weekStart);
    }

    /** A required positive whole number; {@code null} (with a problem recorded) when missing or bad. */
    private Long positive(Map<String, Value> f, String field, String path, int line) {
        Value v = f.get(field);
        if (v == null) {
            problem(line, path, "missing '" + field + "'");
            return null;
        }
        Long n = integer(v);
        if (n != null && n <= 0) {
            problem(v.line(), v.path(), field + " must be a positive whole number, not " + v.text());
            return null;
        }
        return n;
    }

    private Long nonNegative(Value v) {
        Long n = integer(v);
        if (n != null && n < 0) {
            problem(v.line(), v.path(), "must not be negative, got " + v.text());
            return null;
        }
        return n;
    }

    private Long integer(Value v) {
        if (v.quoted()) {
            problem(v.line(), v.path(), "'" + v.text() + "' is in quotes, so it is text: write a whole number without quotes");
            return null;
        }
        if (!WHOLE_NUMBER.matcher(v.text()).matches()) {
            problem(v.line(), v.path(), "'" + v.text() + "' is not a whole number (digits, optionally grouped with _: 1_000)");
            return null;
        }
        try {
            return Long.parseLong(v.text().replace("_", ""));
        } catch (NumberFormatException e) {
            problem(v.line(), v.path(), "'" + v.text() + "' is too large: at most " + Long.MAX_VALUE);
            return null;
        }
    }

    private Duration duration(Value v) {
        Duration d;
        try {
            d = Durations.parse(v.text());
        } catch (Durations.NotADuration e) {
            problem(v.line(), v.path(), e.getMessage());
            return null;
        }
        if (d.isZero() || d.isNegative()) {
            problem(v.line(), v.path(), "duration must be positive, got " + v.text());
            return null;
        }
        return d;
    }

    static String format(Duration d) {
        return Durations.format(d);
    }

    private KeySpec key(Node node, String path) {
        if (!(node instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
            problem(line(node), path, "must be a non-empty list of descriptor names, e.g. [app, shop], or {first_of: [...]} entries");
            return null;
        }
        List<List<String>> parts = new ArrayList<>();
        List<Node> items = seq.getValue();
        for (int i = 0; i < items.size(); i++) {
            Node item = items.get(i);
            String ipath = path + "[" + i + "]";
            if (item instanceof ScalarNode s) {
                if (!DESCRIPTOR.matcher(s.getValue()).matches()) {
                    problem(line(item), ipath, "descriptor name '" + s.getValue() + "' must be 1 to 64 letters, digits, '_', '-', '.' or ':'");
                    return null;
                }
                parts.add(List.of(s.getValue()));
                continue;
            }
            Map<String, Node> f = fields(item, ipath, Set.of("first_of"));
            if (f == null) {
                return null;
            }
            Node chain = f.get("first_of");
            if (!(chain instanceof SequenceNode cs) || cs.getValue().size() < 2) {
                problem(line(item), ipath + ".first_of", "must list two or more descriptor names, most specific first");
                return null;
            }
            List<String> names = new ArrayList<>();
            for (Node n : cs.getValue()) {
                String d = scalarText(n);
                if (d == null || !DESCRIPTOR.matcher(d).matches()) {
                    problem(line(n), ipath + ".first_of", "descriptor name '" + d + "' must be 1 to 64 letters, digits, '_', '-', '.' or ':'");
                    return null;
                }
                names.add(d);
            }
            parts.add(List.copyOf(names));
        }
        return new KeySpec(List.copyOf(parts));
    }

    private Table table(String name, Node node, String path) {
        Map<String, Node> f = fields(node, path, TABLE_KEYS);
        if (f == null) {
            return null;
        }
        List<String> by = nameList(f.get("by"), path + ".by", node, DESCRIPTOR, "descriptor");
        List<String> columns = nameList(f.get("columns"), path + ".columns", node, NAME, "column");
        Node rowsNode = f.get("rows");
        if (by == null || columns == null) {
            return null;
        }
        if (!(rowsNode instanceof SequenceNode rowsSeq) || rowsSeq.getValue().isEmpty()) {
            problem(line(rowsNode == null ? node : rowsNode), path + ".rows", "must be a non-empty list of rows, each [" + String.join(", ", by)
                    + ", " + String.join(", ", columns) + "]");
            return null;
        }
        List<Table.Row> rows = new ArrayList<>();
        List<Node> items = rowsSeq.getValue();
        int width = by.size() + columns.size();
        for (int r = 0; r < items.size(); r++) {
            Node item = items.get(r);
            String rpath = path + ".rows[" + r + "]";
            if (!(item instanceof SequenceNode cells)) {
                problem(line(item), rpath, "a row must be a list: [" + String.join(", ", by) + ", " + String.join(", ", columns) + "]");
                continue;
            }
            List<Node> c = cells.getValue();
            boolean unlimited = c.size() == by.size() + 1 && "unlimited".equals(scalarText(c.get(by.size())));
            if (c.size() != width && !unlimited) {
                problem(line(item), rpath, "has " + c.size() + " cells; expected " + width + " (" + String.join(", ", by) + ", "
                        + String.join(", ", columns) + "), or the match cells followed by 'unlimited'");
                continue;
            }
            List<Condition> match = new ArrayList<>();
            for (int i = 0; i < by.size(); i++) {
                Node cell = c.get(i);
                if (cell instanceof ScalarNode s && "*".equals(s.getValue())) {
                    match.add(null);
                } else {
                    match.add(condition(cell, rpath + "[" + i + "]"));
                }
            }
            List<String> values = new ArrayList<>();
            List<Boolean> quoted = new ArrayList<>();
            for (int i = by.size(); i < c.size(); i++) {
                String v = scalar(c.get(i), rpath + "[" + i + "]");
                values.add(v == null ? "" : v);
                quoted.add(quoted(c.get(i)));
            }
            rows.add(new Table.Row(match, List.copyOf(values), List.copyOf(quoted), line(item)));
        }
        return new Table(name, by, columns, List.copyOf(rows));
    }

    private List<String> nameList(Node node, String path, Node parent, Pattern pattern, String what) {
        if (node == null) {
            problem(line(parent), path, "missing; list the " + what + " names");
            return null;
        }
        List<Node> items;
        if (node instanceof ScalarNode) {
            items = List.of(node);
        } else if (node instanceof SequenceNode s && !s.getValue().isEmpty()) {
            items = s.getValue();
        } else {
            problem(line(node), path, "must be a " + what + " name or a non-empty list of them");
            return null;
        }
        List<String> names = new ArrayList<>();
        for (Node n : items) {
            String v = scalarText(n);
            if (v == null || !pattern.matcher(v).matches()) {
                problem(line(n), path, what + " name '" + v + "' must be 1 to 64 letters, digits, '_', '-' or '.'");
                return null;
            }
            names.add(v);
        }
        return List.copyOf(names);
    }

    private ResponseStyle response(Node node, String path, ResponseStyle base) {
        Map<String, Node> f = fields(node, path, RESPONSE_KEYS);
        if (f == null) {
            return base;
        }
        int status = base.denyStatus();
        HeaderStyle headers = base.headers();
        boolean retryAfter = base.retryAfterHeader();
        BodyTemplate body = base.body();
        String contentType = base.contentType();
        if (f.containsKey("status")) {
            String s = scalar(f.get("status"), path + ".status");
            try {
                status = Integer.parseInt(s);
                if (status < 400 || status > 599) {
                    problem(line(f.get("status")), path + ".status", "a denial status must be an HTTP error status (400 to 599), not " + s);
                }
            } catch (NumberFormatException e) {
                problem(line(f.get("status")), path + ".status", "'" + s + "' is not an HTTP status code");
            }
        }
        if (f.containsKey("headers")) {
            String h = scalar(f.get("headers"), path + ".headers");
            headers = h == null ? headers : HeaderStyle.byConfigName(h);
            if (headers == null) {
                List<String> names = new ArrayList<>();
                for (HeaderStyle hs : HeaderStyle.values()) {
                    names.add(hs.configName());
                }
                problem(line(f.get("headers")), path + ".headers", "unknown header style '" + h + "'; use one of " + String.join(", ", names));
                headers = base.headers();
            }
        }
        if (f.containsKey("retry_after")) {
            retryAfter = bool(f.get("retry_after"), path + ".retry_after");
        }
        if (f.containsKey("content_type")) {
            String ct = scalar(f.get("content_type"), path + ".content_type");
            contentType = ct == null ? contentType : ct;
        }
        if (f.containsKey("body")) {
            String b = scalar(f.get("body"), path + ".body");
            if (b != null) {
                try {
                    body = BodyTemplate.parse(b);
                } catch (IllegalArgumentException e) {
                    problem(line(f.get("body")), path + ".body", e.getMessage());
                }
            }
        }
        List<ExtraHeader> extraHeaders = base.extraHeaders();
        if (f.containsKey("extra_headers")) {
            extraHeaders = extraHeaders(f.get("extra_headers"), path + ".extra_headers");
        }
        Map<String, String> values = base.values();
        if (f.containsKey("values")) {
            values = values(f.get("values"), path + ".values");
        }
        return new ResponseStyle(status, headers, retryAfter, body, contentType, extraHeaders, values);
    }

    private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}");
    private static final Set<String> SLUICE_HEADERS = Set.of("retry-after", "content-type", "ratelimit", "ratelimit-policy");

    /** Headers of the policy's own: names as HTTP allows them, values as templates. */
    private List<ExtraHeader> extraHeaders(Node node, String path) {
        Map<String, Node> f = fields(node, path, null);
        if (f == null) {
            return List.of();
        }
        List<ExtraHeader> out = new ArrayList<>();
        for (Map.Entry<String, Node> e : f.entrySet()) {
            String name = e.getKey();
            String at = path + "." + name;
            if (!HEADER_NAME.matcher(name).matches()) {
                problem(line(e.getValue()), at, "'" + name + "' is not a header name (1 to 64 letters, digits or !#$%&'*+.^_`|~-)");
                continue;
            }
            if (SLUICE_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                problem(line(e.getValue()), at, "'" + name + "' is set by the response's header family, retry_after or content_type");
                continue;
            }
            String template = scalar(e.getValue(), at);
            if (template == null) {
                continue;
            }
            try {
                out.add(new ExtraHeader(name, BodyTemplate.parse(template)));
            } catch (IllegalArgumentException ex) {
                problem(line(e.getValue()), at, ex.getMessage());
            }
        }
        return out;
    }

    /** Named texts for the templates; a name may not hide a built-in one. */
    private Map<String, String> values(Node node, String path) {
        Map<String, Node> f = fields(node, path, null);
        if (f == null) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : f.entrySet()) {
            String name = e.getKey();
            String at = path + "." + name;
            if (!name.matches("[A-Za-z0-9_\\-]{1,64}")) {
                problem(line(e.getValue()), at, "'" + name + "' is not a value name (1 to 64 letters, digits, '_' or '-')");
                continue;
            }
            if (BodyTemplate.BUILT_INS.contains(name)) {
                problem(line(e.getValue()), at, "'" + name + "' is a built-in placeholder; choose another name");
                continue;
            }
            String text = scalar(e.getValue(), at);
            if (text != null) {
                out.put(name, text);
            }
        }
        return out;
    }

    // --- YAML helpers -------------------------------------------------------------------------

    /** The fields of a mapping, checking for unknown keys when {@code allowed} is given. */
    private Map<String, Node> fields(Node node, String path, Set<String> allowed) {
        if (!(node instanceof MappingNode m)) {
            problem(line(node), path, "must be a mapping" + (allowed == null ? "" : " with keys from " + String.join(", ", sorted(allowed))));
            return null;
        }
        Map<String, Node> fields = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            String key = scalarText(t.getKeyNode());
            String kpath = path.isEmpty() ? String.valueOf(key) : path + "." + key;
            if (key == null) {
                problem(line(t.getKeyNode()), path, "keys must be plain names");
                continue;
            }
            if (fields.containsKey(key)) {
                continue; // reported by duplicateKeys, the first value kept
            }
            if (allowed != null && !allowed.contains(key)) {
                problem(line(t.getKeyNode()), kpath, "unknown key '" + key + "'; expected one of " + String.join(", ", sorted(allowed)));
                continue;
            }
            fields.put(key, t.getValueNode());
        }
        return fields;
    }

    private String requiredName(Map<String, Node> f, String key, Node parent, String path) {
        Node n = f.get(key);
        if (n == null) {
            problem(line(parent), path, "missing '" + key + "'");
            return null;
        }
        String v = scalar(n, path + "." + key);
        if (v != null && !NAME.matcher(v).matches()) {
            problem(line(n), path + "." + key, "'" + v + "' must be 1 to 64 letters, digits, '_', '-' or '.'");
            return null;
        }
        return v;
    }

    private String scalar(Node node, String path) {
        String v = scalarText(node);
        if (v == null) {
            problem(line(node), path, "must be a single value, not a " + (node instanceof MappingNode ? "mapping" : "list"));
        }
        return v;
    }

    private boolean bool(Node node, String path) {
        String v = scalar(node, path);
        if ("true".equals(v)) {
            return true;
        }
        if (v != null && !"false".equals(v)) {
            problem(line(node), path, "must be true or false, not '" + v + "'");
        }
        return false;
    }

    private static String scalarText(Node node) {
        return node instanceof ScalarNode s ? s.getValue() : null;
    }

    /**
     * Walks the file's events (aliases are not expanded there, so an alias bomb costs no more than
     * its text) and reports, with its line, an alias past {@link #MAX_ALIASES} or nesting past
     * {@link #MAX_DEPTH}. Returns whether the file is within both.
     */
    private boolean shapeWithinLimits(String text, LoaderOptions options) {
        int aliases = 0;
        int depth = 0;
        for (org.yaml.snakeyaml.events.Event e : new Yaml(new SafeConstructor(options)).parse(new StringReader(text))) {
            int line = e.getStartMark() == null ? 0 : e.getStartMark().getLine() + 1;
            if (e instanceof org.yaml.snakeyaml.events.AliasEvent && ++aliases > MAX_ALIASES) {
                problem(line, "", "more than " + MAX_ALIASES + " aliases (*name): a policy file needs none, and many expand into a huge document");
                return false;
            }
            if (e instanceof org.yaml.snakeyaml.events.CollectionStartEvent && ++depth > MAX_DEPTH) {
                problem(line, "", "mappings and lists nested more than " + MAX_DEPTH + " deep");
                return false;
            }
            if (e instanceof org.yaml.snakeyaml.events.CollectionEndEvent) {
                depth--;
            }
        }
        return true;
    }

    /** Reports every key given twice in one mapping, at any depth, with its line and path. */
    private void duplicateKeys(Node node, String path) {
        if (node instanceof MappingNode m) {
            Set<String> seen = new HashSet<>();
            for (NodeTuple t : m.getValue()) {
                String key = scalarText(t.getKeyNode());
                String kpath = path.isEmpty() ? String.valueOf(key) : path + "." + key;
                if (key != null && !seen.add(key)) {
                    problem(line(t.getKeyNode()), kpath, "'" + key + "' is given twice");
                }
                duplicateKeys(t.getValueNode(), kpath);
            }
        } else if (node instanceof SequenceNode seq) {
            for (int i = 0; i < seq.getValue().size(); i++) {
                duplicateKeys(seq.getValue().get(i), path + "[" + i + "]");
            }
        }
    }

    private static int line(Node node) {
        return node == null ? 0 : node.getStartMark().getLine() + 1;
    }

    private void problem(int line, String path, String message) {
        problems.add(new Problem(source, line, path, message));
    }

    private static List<String> sorted(Set<String> s) {
        return s.stream().sorted().toList();
    }

    private static String version(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
