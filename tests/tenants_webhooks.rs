//! Agreement test for several meshes in one cluster: the istiod releases meshplan renders
//! for two tenant meshes (`examples/tenants`: their revisions, control-plane namespaces and
//! discovery selectors, as the rendered HelmReleases carry them) are rendered with the real
//! Helm from the real Istio charts, and over a table of namespace and pod labels (the
//! Namespaces meshplan rendered, and a grid of injection labels, revisions and tags) the
//! meshes whose injector webhooks match must be exactly the meshes whose emulation
//! (`decide_injection` at each mesh's lock) injects, on the same revision. Where two meshes
//! would inject (a `default` tag in both), meshplan reports MP210.
//!
//! Helm is taken as in `tests/webhooks.rs`: it must be the pinned version, never skipped.

use crate::common::{check_json, copy_tree, findings, git, root, run_in};
use crate::webhooks::selects;
use meshplan::facts::{MeshView, decide_injection};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One injector webhook of one mesh.
struct Hook {
    mesh: String,
    revision: String,
    namespace_selector: Value,
    object_selector: Value,
}

/// The example in a Git repository, without its deliberate overlap, with `tags` as mesh-b's
/// `revisionTags` (and mesh-a's when `both`), rendered to the end of both plans.
fn rendered_tenants(tags: &str, both: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/tenants"), d);
    let path = d.join("meshplan.yaml");
    let text = std::fs::read_to_string(&path).expect("spec");
    let b = text.find("name: mesh-b").expect("mesh-b document");
    let (a, rest) = text.split_at(b);
    let tagged = |doc: &str, ns: &str| {
        doc.replacen(
            &format!("    namespace: {ns}\n"),
            &format!("    namespace: {ns}\n    revisionTags: {tags}\n"),
            1,
        )
    };
    let a = if both {
        tagged(a, "istio-system-a")
    } else {
        a.to_string()
    };
    let rest = tagged(
        &rest.replacen("    - name: shared\n", "", 1),
        "istio-system-b",
    );
    std::fs::write(&path, format!("{a}{rest}")).expect("write spec");
    git(d, &["init", "-q", "-b", "main"]);
    for mesh in ["mesh-a", "mesh-b"] {
        let (code, _, err) = run_in(d, &["render", "--mesh", mesh, "--step", "all", "--force"]);
        assert_eq!(code, 0, "{mesh}: {err}");
    }
    dir
}

/// Each mesh's view as its lock records it after the whole plan.
fn views(d: &Path) -> BTreeMap<String, MeshView> {
    ["mesh-a", "mesh-b"]
        .iter()
        .map(|mesh| {
            let path = d.join(format!("rendered/{mesh}/meshplan.lock"));
            let lock = meshplan::state::Lock::load(&path, mesh)
                .expect("lock loads")
                .expect("lock exists");
            (mesh.to_string(), MeshView::of_lock(&lock))
        })
        .collect()
}

/// `helm template` of every istiod HelmRelease meshplan rendered for `mesh`, with its
/// values, into its namespace; returns the injector webhooks. Also checks that the chart
/// put the rendered discovery selectors into the mesh config and that the webhooks call
/// the mesh's own istiod.
fn helm_hooks(helm: &PathBuf, d: &Path, mesh: &str, ns: &str) -> Vec<Hook> {
    let mut hooks = Vec::new();
    let dir = d.join(format!("rendered/{mesh}/{ns}"));
    let mut releases = 0;
    for entry in std::fs::read_dir(&dir).expect("control-plane directory") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.starts_with("istiod-") {
            continue;
        }
        releases += 1;
        let release: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&path).expect("release"))
                .expect("release parses");
        assert_eq!(release["metadata"]["namespace"], ns, "{name}");
        let version = release["spec"]["chart"]["spec"]["version"]
            .as_str()
            .expect("chart version");
        let values = d.join(format!("{mesh}-{name}.values.json"));
        std::fs::write(&values, release["spec"]["values"].to_string()).expect("values");
        let chart = root().join(format!("../shared/data/istio-charts/{version}/istiod"));
        let out = Command::new(helm)
            .arg("template")
            .arg(
                release["spec"]["releaseName"]
                    .as_str()
                    .expect("release name"),
            )
            .arg(&chart)
            .args(["-n", ns, "-f"])
            .arg(&values)
            .output()
            .expect("helm runs");
        assert!(
            out.status.success(),
            "helm template {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(&String::from_utf8(out.stdout).expect("UTF-8"))
                .expect("helm output parses");
        let mesh_config = docs
            .iter()
            .filter(|d| d["kind"] == "ConfigMap")
            .filter_map(|d| d["data"]["mesh"].as_str())
            .next()
            .expect("the istio ConfigMap");
        let config: Value = serde_saphyr::from_str(mesh_config).expect("mesh config parses");
        assert_eq!(
            config["discoverySelectors"],
            serde_json::json!([{"matchLabels": {"meshplan.dev/mesh": mesh}}]),
            "{name}"
        );
        for doc in docs
            .iter()
            .filter(|d| d["kind"] == "MutatingWebhookConfiguration")
        {
            let revision = doc["metadata"]["labels"]["istio.io/rev"]
                .as_str()
                .expect("istio.io/rev label");
            for hook in doc["webhooks"].as_array().expect("webhooks") {
                assert_eq!(
                    hook["clientConfig"]["service"]["namespace"], ns,
                    "{name}: the webhook calls the mesh's own istiod"
                );
                hooks.push(Hook {
                    mesh: mesh.to_string(),
                    revision: revision.to_string(),
                    namespace_selector: hook["namespaceSelector"].clone(),
                    object_selector: hook["objectSelector"].clone(),
                });
            }
        }
    }
    assert!(releases > 0, "no istiod release in {}", dir.display());
    hooks
}

/// The Namespaces meshplan rendered for the meshes: name → (owner, labels as the API server
/// would hold them).
fn rendered_namespaces(d: &Path) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out = Vec::new();
    for (mesh, names) in [
        ("mesh-a", ["team-a", "shared"]),
        ("mesh-b", ["team-b", "team-b"]),
    ] {
        for name in names {
            let path = d.join(format!("rendered/{mesh}/namespaces/{name}.yaml"));
            let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(&path).expect("ns"))
                .expect("namespace parses");
            let mut labels: BTreeMap<String, String> =
                serde_json::from_value(doc["metadata"]["labels"].clone()).expect("labels");
            assert_eq!(
                labels.get("meshplan.dev/mesh").map(String::as_str),
                Some(mesh)
            );
            labels.insert("kubernetes.io/metadata.name".into(), name.into());
            out.push((mesh.to_string(), labels));
        }
    }
    out
}

fn labels(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
        .collect()
}

/// Compares Helm's webhooks with the per-mesh emulation over the table; returns the cells
/// and how many of them two meshes would both inject. With `isolated`, every Namespace
/// meshplan rendered must be injected by its own mesh alone.
fn agree(d: &Path, helm: &PathBuf, isolated: bool) -> (usize, usize) {
    let views = views(d);
    let mut hooks = helm_hooks(helm, d, "mesh-a", "istio-system-a");
    hooks.extend(helm_hooks(helm, d, "mesh-b", "istio-system-b"));
    let mut names: BTreeSet<String> = views
        .values()
        .flat_map(|v| v.revisions.keys().chain(v.tags.keys()).cloned())
        .collect();
    names.insert("default".into());
    names.insert("other".into());
    let mut revs: Vec<Option<&str>> = names.iter().map(|n| Some(n.as_str())).collect();
    revs.push(None);
    let mut namespaces: Vec<(Option<String>, BTreeMap<String, String>)> = rendered_namespaces(d)
        .into_iter()
        .map(|(mesh, l)| (Some(mesh), l))
        .collect();
    for injection in [Some("enabled"), Some("disabled"), None] {
        for rev in &revs {
            namespaces.push((
                None,
                labels(&[
                    ("istio-injection", injection),
                    ("istio.io/rev", *rev),
                    ("kubernetes.io/metadata.name", Some("apps")),
                ]),
            ));
        }
    }
    let (mut cells, mut doubly) = (0, 0);
    for (owner, ns) in &namespaces {
        for inject in [Some("true"), Some("false"), None] {
            for pod_rev in &revs {
                let pod = labels(&[
                    ("sidecar.istio.io/inject", inject),
                    ("istio.io/rev", *pod_rev),
                ]);
                let by_helm: BTreeSet<(String, String)> = hooks
                    .iter()
                    .filter(|h| {
                        selects(&h.namespace_selector, ns) && selects(&h.object_selector, &pod)
                    })
                    .map(|h| (h.mesh.clone(), h.revision.clone()))
                    .collect();
                let by_meshplan: BTreeSet<(String, String)> = views
                    .iter()
                    .filter_map(|(mesh, view)| {
                        let d = decide_injection(ns, &pod, &BTreeMap::new(), false, view);
                        d.revision.map(|r| (mesh.clone(), r))
                    })
                    .collect();
                assert_eq!(by_helm, by_meshplan, "namespace {ns:?}, pod {pod:?}");
                if isolated
                    && pod.is_empty()
                    && let Some(owner) = owner
                {
                    // A namespace meshplan rendered is injected by its own mesh alone.
                    let meshes: Vec<&str> = by_meshplan.iter().map(|(m, _)| m.as_str()).collect();
                    assert_eq!(meshes, [owner.as_str()], "{ns:?}");
                }
                doubly += usize::from(by_meshplan.len() > 1);
                cells += 1;
            }
        }
    }
    (cells, doubly)
}

#[test]
fn two_meshes_webhooks_agree_with_per_mesh_injection_facts() {
    let helm = crate::common::tool("helm");
    // mesh-b serves the default tag: istio-injection=enabled is mesh-b's alone.
    let dir = rendered_tenants("[default, prod]", false);
    let (cells, doubly) = agree(dir.path(), &helm, true);
    assert!(cells > 300, "only {cells} cells");
    assert_eq!(doubly, 0, "no label set is injected by both meshes");
    let (code, report) = check_json(dir.path());
    assert!(findings(&report, "MP210").is_empty(), "{report}");
    assert_eq!(code, 0, "{report}");
    // Both meshes serve `default` and `prod`: Helm's webhooks of both meshes match the same
    // labels, the emulation agrees cell by cell, and meshplan refuses it (MP210).
    let dir = rendered_tenants("[default, prod]", true);
    let (_, doubly) = agree(dir.path(), &helm, false);
    assert!(
        doubly > 0,
        "istio-injection=enabled is injected by both meshes"
    );
    let (code, report) = check_json(dir.path());
    assert_eq!(code, 1);
    let cross: Vec<&str> = findings(&report, "MP210")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    for tag in ["default", "prod"] {
        assert!(
            cross.iter().any(|m| m.contains(&format!(
                "revision or tag {tag} is served by meshes mesh-a and mesh-b"
            ))),
            "{cross:?}"
        );
    }
    // Each mesh labels its namespaces istio.io/rev=prod, which the other's tag webhook
    // matches too: the namespaces themselves are cross-injected.
    for (ns, owner, injector) in [
        ("team-a", "mesh-a", "mesh-b"),
        ("team-b", "mesh-b", "mesh-a"),
    ] {
        assert!(
            cross.iter().any(|m| m.contains(&format!(
                "namespace {ns} of mesh {owner} would be injected by mesh {injector}'s revision"
            ))),
            "{cross:?}"
        );
    }
}
