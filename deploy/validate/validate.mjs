// Validates Kubernetes manifests (a multi-document YAML file, e.g. `kubectl kustomize` output)
// against the Kubernetes API schemas, using the kubernetes-models packages' generated JSON
// schemas: the core API, and the CRDs of cert-manager and the Prometheus operator. Prints one
// line per problem and exits 1 if there is any.
//
//   node validate.mjs rendered.yaml
import { readFileSync } from "node:fs";
import yaml from "js-yaml";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs FILE.yaml");
  process.exit(2);
}
const docs = yaml.loadAll(readFileSync(file, "utf8")).filter((d) => d);
let problems = 0;
for (const doc of docs) {
  const where = `${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"}`;
  if (!doc.apiVersion || !doc.kind) {
    console.log(`${where}: missing apiVersion or kind`);
    problems++;
    continue;
  }
  const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : [null, doc.apiVersion];
  // Custom resources come from their projects' packages; everything else from the core API's.
  const crds = { "cert-manager.io": "@kubernetes-models/cert-manager", "monitoring.coreos.com": "@kubernetes-models/prometheus-operator" };
  const pkg = crds[group] ?? "kubernetes-models";
  const path = group ? `${pkg}/${group}/${version}/${doc.kind}` : `${pkg}/${version}/${doc.kind}`;
  let Model;
  try {
    const mod = await import(path);
    Model = mod[doc.kind] ?? mod.default;
  } catch (e) {
    console.log(`${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
    problems++;
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`ok ${doc.apiVersion} ${where}`);
  } catch (e) {
    console.log(`${where}: ${e.message}`);
    problems++;
  }
}
if (docs.length === 0) {
  console.log("no documents");
  problems++;
}
process.exit(problems === 0 ? 0 : 1);
