//! Renders that do what the GitOps controllers need: the Flux `istio-base` release applies
//! the chart's CRDs on install and on every upgrade (checked with the real 1.22.8 base chart
//! and the real Helm), and Argo CD Applications carry the resources finalizer and live in the
//! project and namespace of `spec.istio.argocd`; every object fits the real CRD schemas.

use crate::common::{TODAY, meshplan, tool};
use crate::render::{docs, mid_upgrade, new_cluster};
use meshplan::render::schema::{self, Checked};
use meshplan::render::{Charts, RenderRevision, render};
use meshplan::spec::model::{ArgoCd, Delivery};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;

/// The HelmRelease (the last document) of a rendered release file.
fn release(tree: &meshplan::render::RenderedTree, path: &str) -> Value {
    docs(&tree[path])
        .pop()
        .unwrap_or_else(|| panic!("{path} is empty"))
}

fn valid(doc: &Value) {
    match schema::check(doc).expect("schemas compile") {
        Checked::Valid => {}
        other => panic!("{} does not fit its real schema: {other:?}", doc["kind"]),
    }
}

/// `metadata.name` of every CustomResourceDefinition in a stream of documents.
fn crd_names(docs: &[Value]) -> BTreeSet<String> {
    docs.iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
        .map(|d| {
            d["metadata"]["name"]
                .as_str()
                .expect("CRD name")
                .to_string()
        })
        .collect()
}

#[test]
fn flux_base_release_creates_and_replaces_the_charts_crds() {
    let mut model = new_cluster(Delivery::FluxHelm);
    model.revisions = vec![RenderRevision {
        name: "1-22-8".into(),
        version: "1.22.8".into(),
        tags: vec!["default".into()],
    }];
    model.default_revision = Some("1-22-8".into());
    for g in &mut model.gateways {
        for r in g.colours.values_mut() {
            *r = "1-22-8".into();
        }
    }
    let tree = render(&model, &Charts::embedded()).expect("renders");
    let base = release(&tree, "istio-system/istio-base.yaml");
    assert_eq!(base["kind"], "HelmRelease");
    assert_eq!(base["spec"]["chart"]["spec"]["version"], "1.22.8");
    assert_eq!(base["spec"]["install"]["crds"], "Create", "{base}");
    assert_eq!(base["spec"]["upgrade"]["crds"], "CreateReplace", "{base}");
    valid(&base);
    // The schema is the real one: it knows the policy's values.
    let mut wrong = base.clone();
    wrong["spec"]["upgrade"]["crds"] = json!("Always");
    assert!(
        matches!(schema::check(&wrong), Ok(Checked::Invalid(_))),
        "the HelmRelease schema checks upgrade.crds"
    );
    // Only istio-base ships CRDs: the other releases keep Flux's defaults.
    let istiod = release(&tree, "istio-system/istiod-1-22-8.yaml");
    assert!(istiod["spec"]["install"].get("crds").is_none(), "{istiod}");
    assert!(istiod["spec"]["upgrade"].get("crds").is_none(), "{istiod}");

    // What Flux applies with these policies is the chart's crds/ directory, which is what
    // `helm template --include-crds` adds: the real 1.22.8 chart keeps every Istio CRD
    // there, and none in its templates, so without the policy an upgrade would skip them.
    let helm = tool("helm");
    let chart = crate::common::shared_data().join("istio-charts/1.22.8/base");
    let template = |include_crds: bool| -> Vec<Value> {
        let out = Command::new(&helm)
            .args(["template", "istio-base"])
            .arg(&chart)
            .args(["-n", "istio-system", "--set", "global.remotePilotAddress="])
            .args(include_crds.then_some("--include-crds"))
            .output()
            .expect("helm runs");
        assert!(
            out.status.success(),
            "helm template failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        docs(&String::from_utf8(out.stdout).expect("UTF-8"))
    };
    let with = crd_names(&template(true));
    let without = crd_names(&template(false));
    assert!(
        without.is_empty(),
        "the 1.22.8 templates carry no CRDs: {without:?}"
    );
    let mut in_dir = BTreeSet::new();
    for entry in std::fs::read_dir(chart.join("crds")).expect("crds/") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("readable");
        in_dir.extend(crd_names(&docs(&text)));
    }
    assert!(
        in_dir.contains("virtualservices.networking.istio.io"),
        "{in_dir:?}"
    );
    assert!(in_dir.len() >= 10, "{in_dir:?}");
    assert_eq!(with, in_dir, "--include-crds adds exactly crds/");
}

#[test]
fn argocd_applications_carry_the_finalizer_project_and_namespace() {
    let charts = Charts::embedded();
    for (argocd, project, namespace) in [
        (ArgoCd::default(), "default", "argocd"),
        (
            ArgoCd {
                project: "platform".into(),
                namespace: "gitops".into(),
            },
            "platform",
            "gitops",
        ),
    ] {
        let mut model = mid_upgrade(Delivery::ArgocdHelm);
        model.argocd = argocd;
        let tree = render(&model, &charts).expect("renders");
        let mut apps = 0;
        for (path, text) in &tree {
            for doc in docs(text)
                .into_iter()
                .filter(|d| d["kind"] == "Application")
            {
                apps += 1;
                assert_eq!(doc["metadata"]["namespace"], namespace, "{path}");
                assert_eq!(doc["spec"]["project"], project, "{path}");
                assert_eq!(
                    doc["metadata"]["finalizers"],
                    json!(["resources-finalizer.argocd.argoproj.io"]),
                    "{path}: deleting the Application deletes what it deployed"
                );
                valid(&doc);
            }
        }
        // base, two istiod revisions, two gateway colours.
        assert_eq!(apps, 5, "{namespace}");
    }
}

/// `spec.istio.argocd` from the command line: defaults in the JSON Schema, a typo refused
/// at its line, and the fields reaching the rendered Applications.
#[test]
fn argocd_project_and_namespace_are_spec_fields() {
    let out = meshplan().arg("schema").output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let schema: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let text = schema.to_string();
    assert!(
        text.contains("\"argocd\""),
        "the schema has spec.istio.argocd"
    );
    assert!(text.contains("\"project\"") && text.contains("\"default\""));

    let dir = tempfile::tempdir().expect("tempdir");
    let spec = "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata: {name: prod}\nspec:\n  \
                kubernetesVersion: \"1.30\"\n  istio:\n    version: 1.26.8\n    delivery: argocd-helm\n    \
                argocd: {project: platform, namespace: gitops}\n  namespaces:\n    - name: shop\n";
    std::fs::write(dir.path().join("meshplan.yaml"), spec).expect("spec");
    let run = |args: &[&str]| {
        meshplan()
            .args(args)
            .arg("-C")
            .arg(dir.path())
            .output()
            .expect("runs")
    };
    let out = run(&["render", "--today", TODAY]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = std::fs::read_to_string(dir.path().join("rendered/istio-system/istio-base.yaml"))
        .expect("rendered");
    let app = &docs(&base)[0];
    assert_eq!(app["metadata"]["namespace"], "gitops");
    assert_eq!(app["spec"]["project"], "platform");

    std::fs::remove_dir_all(dir.path().join("rendered")).expect("rm");
    std::fs::write(
        dir.path().join("meshplan.yaml"),
        spec.replace("{project: platform", "{projekt: platform"),
    )
    .expect("spec");
    let out = run(&["check", "--today", TODAY]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("meshplan.yaml:9"), "{err}");
    assert!(err.contains("projekt"), "{err}");
    assert!(!dir.path().join("rendered").exists(), "nothing written");
}
