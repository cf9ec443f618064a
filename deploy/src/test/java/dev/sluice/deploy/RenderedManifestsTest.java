package dev.sluice.deploy;

import dev.sluice.server.node.NodeSettings;
import dev.sluice.server.policy.PolicyLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.sluice.deploy.Manifests.find;
import static dev.sluice.deploy.Manifests.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kustomize overlays as {@code kubectl kustomize} renders them: valid against the Kubernetes
 * API schemas, and consistent with what a node accepts (ports, names, environment variables,
 * probe targets, the mounted policy file).
 */
class RenderedManifestsTest {

    static final List<String> OVERLAYS = Manifests.OVERLAYS;

    private static Manifests.Result validate(Path file) throws Exception {
        Path validator = Manifests.deployDir().resolve("validate");
        return Manifests.run(List.of("node", "validate.mjs", file.toString()), validator);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyOverlayPassesTheKubernetesSchemas(String overlay, @TempDir Path dir) throws Exception {
        Path rendered = Files.writeString(dir.resolve(overlay + ".yaml"), Manifests.render(overlay));
        Manifests.Result r = validate(rendered);
        assertEquals(0, r.exit(), r.output());
        List<String> kinds = new java.util.ArrayList<>(List.of("Deployment/sluice", "Service/sluice-members", "Service/sluice",
                "ConfigMap/sluice-policies", "ServiceAccount/sluice", "Role/sluice-discovery", "PodDisruptionBudget/sluice",
                "NetworkPolicy/sluice"));
        if (overlay.equals("dev")) {
            kinds.add("Secret/sluice-cluster-secret");
        }
        if (overlay.endsWith("-tls")) {
            kinds.add("Certificate/sluice-tls");
        }
        for (String kind : kinds) {
            assertTrue(r.output().contains("ok ") && r.output().contains(kind), kind + " validated:\n" + r.output());
        }
    }

    @Test
    void theValidatorRejectsAManifestThatBreaksTheSchema(@TempDir Path dir) throws Exception {
        String broken = Manifests.render("dev").replace("replicas: 1", "replicas: one");
        Manifests.Result r = validate(Files.writeString(dir.resolve("broken.yaml"), broken));
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("replicas must be integer"), r.output());
    }

    @Test
    void theImageRunsAsThePodsUserAndExposesThePortsTheManifestsUse() throws Exception {
        String dockerfile = Files.readString(Manifests.deployDir().resolve("Dockerfile"));
        Map<String, Object> pod = get(find(Manifests.documents(Manifests.render("dev")), "Deployment", "sluice"),
                "spec", "template", "spec");
        assertTrue(dockerfile.contains("USER " + get(pod, "securityContext", "runAsUser") + ":"), "image user matches runAsUser");
        assertTrue(dockerfile.contains("EXPOSE 8081 5701 9090"));
        assertTrue(dockerfile.contains("ENTRYPOINT [\"java\", \"-jar\", \"/opt/sluice/sluice-server.jar\"]"));
        assertTrue(dockerfile.contains("MaxRAMPercentage"), "the heap follows the container's memory limit");
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void manifestsMatchWhatANodeAccepts(String overlay, @TempDir Path dir) throws Exception {
        List<Map<String, Object>> docs = Manifests.documents(Manifests.render(overlay));
        Map<String, Object> deployment = find(docs, "Deployment", "sluice");
        Map<String, Object> pod = get(deployment, "spec", "template", "spec");
        Map<String, Object> container = get(pod, "containers", 0);
        Map<String, String> podLabels = get(deployment, "spec", "template", "metadata", "labels");

        // The environment a node would start with: namespace from the downward API, and the
        // policy ConfigMap written where the volume mounts it.
        Map<String, Object> mount = ((List<Map<String, Object>>) get(container, "volumeMounts")).stream()
                .filter(m -> "policies".equals(m.get("name"))).findFirst().orElseThrow();
        String mountPath = (String) mount.get("mountPath");
        Map<String, Object> configMap = find(docs, "ConfigMap", "sluice-policies");
        Map<String, String> data = get(configMap, "data");
        Path volume = Files.createDirectories(dir.resolve("volume"));
        for (Map.Entry<String, String> e : data.entrySet()) {
            Files.writeString(volume.resolve(e.getKey()), e.getValue());
            PolicyLoader.parse(e.getValue(), e.getKey()); // the shipped policy is valid
        }
        // The secrets the pod mounts, written where their volumes would put them: the dev overlay's
        // own cluster secret, or for the others one an operator made; TLS files as cert-manager writes them.
        Map<String, Object> secretDoc = docs.stream().filter(d -> "Secret".equals(d.get("kind"))).findFirst().orElse(null);
        String clusterSecret = secretDoc != null ? (String) ((Map<String, Object>) secretDoc.get("stringData")).get("secret")
                : "an-operator-made-secret-0123456789abcdef";
        Map<String, String> mounted = new HashMap<>();
        for (Map<String, Object> m : (List<Map<String, Object>>) get(container, "volumeMounts")) {
            mounted.put((String) m.get("mountPath"), (String) m.get("name"));
        }
        Map<String, String> env = new HashMap<>();
        for (Map<String, Object> var : (List<Map<String, Object>>) get(container, "env")) {
            String name = (String) var.get("name");
            String value = var.containsKey("value") ? (String) var.get("value") : "default";
            for (Map.Entry<String, String> m : mounted.entrySet()) {
                if (!m.getKey().equals(mountPath) && value.startsWith(m.getKey() + "/")) {
                    Path file = dir.resolve(m.getValue()).resolve(value.substring(m.getKey().length() + 1));
                    Files.createDirectories(file.getParent());
                    Files.writeString(file, name.equals("SLUICE_CLUSTER_SECRET_FILE") ? clusterSecret : "PEM");
                    value = file.toString();
                }
            }
            env.put(name, value.replace("$(POD_NAMESPACE)", "default").replace(mountPath, volume.toString()));
            assertTrue(name.equals("POD_NAMESPACE") || NodeSettings.environmentVariables().contains(name),
                    name + " is not a variable a node reads: " + NodeSettings.environmentVariables());
        }
        NodeSettings settings = NodeSettings.fromEnvironment(env);

        Map<String, Integer> ports = new HashMap<>();
        for (Map<String, Object> p : (List<Map<String, Object>>) get(container, "ports")) {
            ports.put((String) p.get("name"), (Integer) p.get("containerPort"));
        }
        assertEquals(settings.port(), ports.get("grpc"), "gRPC container port");
        assertEquals(settings.memberPort(), ports.get("hazelcast"), "member container port");
        assertEquals(settings.metricsPort(), ports.get("metrics"), "metrics container port");
        Map<String, String> annotations = get(deployment, "spec", "template", "metadata", "annotations");
        assertEquals(String.valueOf(settings.metricsPort()), annotations.get("prometheus.io/port"), "the scrape annotation names the metrics port");
        assertEquals("/metrics", annotations.get("prometheus.io/path"));
        int healthPort = settings.healthPort() != 0 ? settings.healthPort() : settings.port();
        assertEquals(healthPort, (Integer) get(container, "readinessProbe", "grpc", "port"), "readiness on the gRPC health port");
        assertEquals(healthPort, (Integer) get(container, "startupProbe", "grpc", "port"));
        if (settings.healthPort() != 0) {
            assertEquals(settings.healthPort(), ports.get("health"), "the plaintext health port is a container port");
            assertTrue(settings.tlsCert() != null, "health moves off the gRPC port when that speaks TLS, which probes cannot");
        }
        assertTrue(settings.clusterSecretFile() != null, "members share a secret");
        assertTrue(mounted.containsValue("cluster-secret"));
        assertEquals("grpc", get(container, "livenessProbe", "tcpSocket", "port"));
        assertEquals(volume.resolve("policies.yaml"), settings.policiesFile(), "SLUICE_POLICIES is the mounted ConfigMap file");
        assertEquals(null, mount.get("subPath"), "a subPath mount would never see ConfigMap updates");

        Map<String, Object> members = find(docs, "Service", "sluice-members");
        assertEquals("None", get(members, "spec", "clusterIP"));
        assertEquals(Boolean.TRUE, get(members, "spec", "publishNotReadyAddresses"));
        assertEquals(settings.memberPort(), (Integer) get(members, "spec", "ports", 0, "port"));
        assertEquals("hazelcast", get(members, "spec", "ports", 0, "targetPort"));
        Map<String, Object> grpc = find(docs, "Service", "sluice");
        assertEquals(settings.port(), (Integer) get(grpc, "spec", "ports", 0, "port"));
        assertEquals("grpc", get(grpc, "spec", "ports", 0, "targetPort"));
        for (Map<String, Object> service : List.of(members, grpc, find(docs, "Service", "sluice-nodes"))) {
            Map<String, String> selector = get(service, "spec", "selector");
            assertTrue(podLabels.entrySet().containsAll(selector.entrySet()), "service selects the pods: " + selector);
        }
        assertTrue(settings.kubernetesDiscovery(), "members are found through Kubernetes");
        if (settings.kubernetesServiceDns() != null) {
            assertTrue(settings.kubernetesServiceDns().startsWith("sluice-members."), settings.kubernetesServiceDns());
        } else {
            assertEquals("sluice-members", settings.kubernetesServiceName());
            assertEquals("sluice", get(pod, "serviceAccountName"));
        }

        long grace = ((Number) get(pod, "terminationGracePeriodSeconds")).longValue();
        Duration needed = settings.drainDelay().plus(settings.shutdownGrace()).plusSeconds(60);
        assertTrue(grace >= needed.toSeconds(), "termination grace " + grace + " s covers drain, calls in flight and"
                + " the 60 s partition hand-over: " + needed.toSeconds() + " s");

        Map<String, Object> policy = find(docs, "NetworkPolicy", "sluice");
        Map<String, Object> memberRule = get(policy, "spec", "ingress", 0);
        assertEquals(settings.memberPort(), (Integer) get(memberRule, "ports", 0, "port"));
        Map<String, String> allowedFrom = get(memberRule, "from", 0, "podSelector", "matchLabels");
        assertTrue(((List<Map<String, Object>>) get(policy, "spec", "ingress")).stream()
                .anyMatch(r -> r.get("from") == null && String.valueOf(r.get("ports")).contains("port=" + settings.metricsPort())),
                "the metrics port can be scraped");
        assertTrue(podLabels.entrySet().containsAll(allowedFrom.entrySet()), "only Sluice pods reach the member port");

        Map<String, Object> role = find(docs, "Role", "sluice-discovery");
        Object rules = get(role, "rules");
        assertTrue(rules.toString().contains("endpoints"), "API discovery may read endpoints");
        if (overlay.startsWith("production")) {
            assertTrue(((Number) get(deployment, "spec", "replicas")).intValue() >= 3);
            Map<String, Object> hpa = find(docs, "HorizontalPodAutoscaler", "sluice");
            assertTrue(((Number) get(hpa, "spec", "minReplicas")).intValue() >= 3);
            assertTrue(get(pod, "affinity", "podAntiAffinity") != null);
        }
    }
}
