package dev.sluice.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.sluice.deploy.Manifests.find;
import static dev.sluice.deploy.Manifests.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The alert rules and the dashboard, checked with Prometheus's own promtool: the rules are valid
 * and their unit tests fire each alert; the operator's PrometheusRule holds the same groups as the
 * plain file; every dashboard query is valid PromQL; and every metric they use is one a node
 * exports (docs/operations.md's list, which a node test checks against a real scrape).
 */
class MonitoringTest {

    private static Path prometheus() {
        return Manifests.deployDir().resolve("prometheus");
    }

    private static void promtool(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Manifests.Result r = Manifests.run(command, dir);
        assertEquals(0, r.exit(), String.join(" ", command) + ":\n" + r.output());
    }

    @Test
    @SuppressWarnings("unchecked")
    void theAlertRulesAreValidAndTheirUnitTestsFireEachAlert() throws Exception {
        promtool(prometheus(), "check", "rules", "sluice-alerts.yaml");
        promtool(prometheus(), "test", "rules", "sluice-alerts-test.yaml");
        Map<String, Object> tests = new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(Files.readString(prometheus().resolve("sluice-alerts-test.yaml")));
        Set<String> fired = new TreeSet<>();
        Set<String> quiet = new TreeSet<>();
        for (Map<String, Object> test : (List<Map<String, Object>>) tests.get("tests")) {
            for (Map<String, Object> check : (List<Map<String, Object>>) test.get("alert_rule_test")) {
                ((List<?>) check.get("exp_alerts")).stream().findAny().ifPresentOrElse(a -> fired.add((String) check.get("alertname")),
                        () -> quiet.add((String) check.get("alertname")));
            }
        }
        assertEquals(new TreeSet<>(alerts()), fired, "a test fires each alert");
        assertEquals(new TreeSet<>(alerts()), quiet, "and checks it quiet when it should be");
    }

    @SuppressWarnings("unchecked")
    private static List<String> alerts() throws Exception {
        Map<String, Object> file = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(prometheus().resolve("sluice-alerts.yaml")));
        List<Map<String, Object>> rules = get(file, "groups", 0, "rules");
        return rules.stream().map(r -> (String) r.get("alert")).toList();
    }

    @Test
    void thePrometheusRuleHoldsTheSameGroupsAsThePlainFile() throws Exception {
        Map<String, Object> file = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(prometheus().resolve("sluice-alerts.yaml")));
        Map<String, Object> rule = find(Manifests.documents(Manifests.render("production-monitoring")), "PrometheusRule", "sluice");
        assertEquals(file.get("groups"), get(rule, "spec", "groups"));
        Map<String, Object> monitor = find(Manifests.documents(Manifests.render("production-monitoring")), "PodMonitor", "sluice");
        assertEquals("metrics", get(monitor, "spec", "podMetricsEndpoints", 0, "port"), "the PodMonitor scrapes the pods' metrics port");
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyDashboardQueryIsValidPromQlOnMetricsANodeExports(@TempDir Path dir) throws Exception {
        String json = Files.readString(Manifests.deployDir().resolve("grafana/sluice-dashboard.json"));
        Map<String, Object> dashboard = new Yaml(new SafeConstructor(new LoaderOptions())).load(json); // JSON is YAML
        List<String> exprs = new ArrayList<>();
        for (Map<String, Object> panel : (List<Map<String, Object>>) dashboard.get("panels")) {
            for (Map<String, Object> target : (List<Map<String, Object>>) panel.get("targets")) {
                exprs.add((String) target.get("expr"));
            }
        }
        assertTrue(exprs.size() >= 12, "panels for decisions, denials, near-limit, shadow, latency, errors, cluster, policy: " + exprs);
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (int i = 0; i < exprs.size(); i++) {
            // Grafana's own variables, as Grafana would fill them in.
            String promql = exprs.get(i).replace("$__rate_interval", "5m").replace("$domain", ".*");
            rules.append("      - record: dashboard:query_").append(i).append("\n        expr: '").append(promql.replace("'", "''")).append("'\n");
        }
        Files.writeString(dir.resolve("dashboard-queries.yaml"), rules);
        promtool(dir, "check", "rules", "dashboard-queries.yaml");

        Set<String> exported = documentedMetrics();
        Set<String> used = new TreeSet<>(metricsIn(String.join("\n", exprs)));
        used.addAll(metricsIn(Files.readString(prometheus().resolve("sluice-alerts.yaml"))));
        for (String m : used) {
            String base = m.replaceAll("_(bucket|count|sum)$", "");
            assertTrue(exported.contains(m) || exported.contains(base), m + " is not a metric a node exports (docs/operations.md): " + exported);
        }
    }

    private static final Pattern METRIC = Pattern.compile("\\b((?:sluice|jvm|process)_[a-z_]+)\\b");

    private static Set<String> metricsIn(String text) {
        Set<String> out = new TreeSet<>();
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** The metrics docs/operations.md lists (first column of its tables: `name`). */
    static Set<String> documentedMetrics() throws Exception {
        String doc = Files.readString(Manifests.deployDir().getParent().resolve("docs/operations.md"));
        Set<String> out = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^\\| `((?:sluice|jvm|process)_[a-z_]+)`").matcher(doc);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }
}
