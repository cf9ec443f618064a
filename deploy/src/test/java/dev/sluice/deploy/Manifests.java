package dev.sluice.deploy;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Renders the kustomize overlays with {@code kubectl kustomize} and reads the result. */
final class Manifests {

    static final List<String> OVERLAYS = List.of("dev", "production", "production-api-discovery", "production-tls",
            "production-monitoring");

    private Manifests() {
    }

    static Path deployDir() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("kubernetes/base"))) {
                return dir;
            }
            if (Files.isDirectory(dir.resolve("deploy/kubernetes/base"))) {
                return dir.resolve("deploy");
            }
        }
        throw new AssertionError("deploy/kubernetes not found above " + Path.of("").toAbsolutePath());
    }

    /** The output of {@code kubectl kustomize} for an overlay. */
    static String render(String overlay) throws IOException, InterruptedException {
        Path dir = deployDir().resolve("kubernetes/overlays").resolve(overlay);
        Result r = run(List.of("kubectl", "kustomize", dir.toString()), deployDir());
        if (r.exit() != 0) {
            throw new AssertionError("kubectl kustomize " + overlay + " failed:\n" + r.output());
        }
        return r.output();
    }

    static List<Map<String, Object>> documents(String yaml) {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object o : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yaml)) {
            if (o != null) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) o;
                docs.add(m);
            }
        }
        return docs;
    }

    static Map<String, Object> find(List<Map<String, Object>> docs, String kind, String name) {
        return docs.stream().filter(d -> kind.equals(d.get("kind")) && name.equals(get(d, "metadata", "name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    /** Follows map keys and list indexes ({@code Integer}) through a parsed document. */
    @SuppressWarnings("unchecked")
    static <T> T get(Object node, Object... path) {
        Object at = node;
        for (Object step : path) {
            if (at == null) {
                return null;
            }
            at = step instanceof Integer i ? ((List<Object>) at).get(i) : ((Map<String, Object>) at).get(step);
        }
        return (T) at;
    }

    record Result(int exit, String output) {
    }

    static Result run(List<String> command, Path dir) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(command.get(0) + " is needed for this test and was not found (" + e.getMessage()
                    + "); .ci/run installs what the tests need", e);
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(command + " did not finish");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
