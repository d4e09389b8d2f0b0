//! The ambient data plane (issue #13): Istio's own ambient Bookinfo sample
//! (`istio-samples/ambient-argo`, its waypoints labelled with the tags `stable` and `rapid`)
//! in an ambient namespace beside Bookinfo in a sidecar namespace. What the facts say of
//! each workload's data plane and of the waypoints, what the namespaces Component renders,
//! and MP603 / MP202 on the waypoints' revision tag.

use crate::common::{check_json, edit_spec, findings, root, run_in as run, shared_data};
use serde_json::Value;
use std::path::Path;

const SPEC: &str = "apiVersion: meshplan.dev/v1alpha1
kind: Mesh
metadata:
  name: ambient-demo
spec:
  kubernetesVersion: \"1.30\"
  istio:
    version: 1.26.8
    delivery: flux-helm
    revisionTags: [default, stable, rapid]
  namespaces:
    - name: ambient
      dataplane: ambient
    - name: shop
  manifests:
    - {path: \"apps/ambient/*.yaml\", namespace: ambient}
    - {path: \"apps/shop/*.yaml\", namespace: shop}
  output: rendered
";

/// The sample's application files meshplan reads (its Argo CD Application, ingress Gateway
/// and routes aside).
const SAMPLE: [&str; 7] = [
    "namespace.yaml",
    "details.yaml",
    "productpage.yaml",
    "ratings.yaml",
    "reviews.yaml",
    "details-waypoint.yaml",
    "reviews-waypoint.yaml",
];

fn mesh() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let sample = shared_data().join("corpus/istio-samples/ambient-argo/application");
    std::fs::create_dir_all(d.join("apps/ambient")).expect("mkdir");
    std::fs::create_dir_all(d.join("apps/shop")).expect("mkdir");
    for file in SAMPLE {
        std::fs::copy(sample.join(file), d.join("apps/ambient").join(file)).expect("copy");
    }
    std::fs::copy(
        root().join("examples/bookinfo/apps/bookinfo/bookinfo.yaml"),
        d.join("apps/shop/bookinfo.yaml"),
    )
    .expect("copy");
    std::fs::write(d.join("meshplan.yaml"), SPEC).expect("spec");
    dir
}

fn facts(d: &Path, step: &str) -> Value {
    let (code, out, err) = run(d, &["facts", "--format", "json", "--step", step]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("facts JSON")
}

fn dataplanes(facts: &Value, namespace: &str) -> Vec<(String, String)> {
    facts["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .filter(|w| w["object"]["namespace"] == namespace)
        .map(|w| {
            let plane = w["dataplane"]
                .as_str()
                .expect("dataplane present")
                .to_string();
            (w["key"].as_str().expect("key").to_string(), plane)
        })
        .collect()
}

#[test]
fn facts_tell_each_workloads_data_plane_and_the_waypoints_revision() {
    let dir = mesh();
    let d = dir.path();
    let f = facts(d, "final");
    let ambient = dataplanes(&f, "ambient");
    assert_eq!(ambient.len(), 6, "{ambient:?}");
    assert!(ambient.iter().all(|(_, p)| p == "ambient"), "{ambient:?}");
    let shop = dataplanes(&f, "shop");
    assert_eq!(shop.len(), 6, "{shop:?}");
    assert!(shop.iter().all(|(_, p)| p == "sidecar"), "{shop:?}");
    // meshplan writes no istio.io/rev on the ambient namespace: that revision's webhook
    // would otherwise inject sidecars into its pods.
    let ns = f["namespaces"]
        .as_array()
        .expect("namespaces")
        .iter()
        .find(|n| n["name"] == "ambient")
        .expect("namespace ambient");
    assert_eq!(ns["labels"]["istio.io/dataplane-mode"], "ambient");
    assert!(ns["labels"].get("istio.io/rev").is_none(), "{ns}");
    assert_eq!(ns["injected"], false);
    let waypoints = f["waypoints"].as_array().expect("waypoints");
    let got: Vec<(&str, &str, &str)> = waypoints
        .iter()
        .map(|w| {
            (
                w["key"].as_str().expect("key"),
                w["uses"].as_str().expect("uses"),
                w["revision"].as_str().expect("resolved"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("Gateway/ambient/bookinfo-details", "stable", "1-26-8"),
            ("Gateway/ambient/bookinfo-reviews", "rapid", "1-26-8"),
        ]
    );
    // Before anything is installed, no revision programs them.
    let current = facts(d, "current");
    assert!(current["waypoints"][0]["revision"].is_null(), "{current}");

    // A sidecar-injected pod in an ambient namespace stays a sidecar pod; a pod that opts
    // out with istio.io/dataplane-mode=none is in no data plane.
    let reviews = d.join("apps/ambient/reviews.yaml");
    let text = std::fs::read_to_string(&reviews).expect("reviews");
    let text = text
        .replace(
            "        version: v1\n",
            "        version: v1\n        istio.io/rev: stable\n",
        )
        .replace(
            "        version: v2\n",
            "        version: v2\n        istio.io/dataplane-mode: none\n",
        );
    std::fs::write(&reviews, text).expect("write");
    let f = facts(d, "final");
    let ambient: std::collections::BTreeMap<String, String> =
        dataplanes(&f, "ambient").into_iter().collect();
    assert_eq!(ambient["Deployment/ambient/reviews-v1"], "sidecar");
    assert_eq!(ambient["Deployment/ambient/reviews-v2"], "none");
    assert_eq!(ambient["Deployment/ambient/reviews-v3"], "ambient");
}

#[test]
fn a_sidecar_only_mesh_has_no_dataplane_or_waypoint_facts() {
    let dir = mesh();
    let d = dir.path();
    edit_spec(d, "      dataplane: ambient\n", "");
    for file in ["details-waypoint.yaml", "reviews-waypoint.yaml"] {
        std::fs::remove_file(d.join("apps/ambient").join(file)).expect("rm");
    }
    let f = facts(d, "final");
    assert!(f.get("waypoints").is_none(), "{f}");
    for w in f["workloads"].as_array().expect("workloads") {
        assert!(w.get("dataplane").is_none(), "{w}");
    }
}

#[test]
fn the_ambient_namespace_is_rendered_with_its_dataplane_label_and_no_revision() {
    let dir = mesh();
    let d = dir.path();
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    // The sample defines Namespace `ambient`: meshplan patches its labels.
    let patch = std::fs::read_to_string(d.join("rendered/namespaces/ambient.patch.yaml"))
        .expect("the ambient namespace's patch");
    let patch: Value = serde_saphyr::from_str(&patch).expect("YAML");
    assert_eq!(
        patch["metadata"]["labels"]["istio.io/dataplane-mode"],
        "ambient"
    );
    assert!(
        patch["metadata"]["labels"].get("istio.io/rev").is_none(),
        "{patch}"
    );
    let shop = std::fs::read_to_string(d.join("rendered/namespaces/shop.yaml")).expect("shop");
    let shop: Value = serde_saphyr::from_str(&shop).expect("YAML");
    // Namespaces are labelled with the managed revision's first non-default tag.
    assert_eq!(shop["metadata"]["labels"]["istio.io/rev"], "stable");
    assert!(
        shop["metadata"]["labels"]
            .get("istio.io/dataplane-mode")
            .is_none()
    );
}

#[test]
fn mp603_refuses_a_step_after_which_the_waypoints_tag_is_not_installed() {
    let dir = mesh();
    let d = dir.path();
    // Without the `stable` tag, the install step leaves the waypoints without a control plane.
    edit_spec(
        d,
        "revisionTags: [default, stable, rapid]",
        "revisionTags: [default]",
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let mp603 = findings(&report, "MP603");
    assert_eq!(mp603.len(), 2, "{report}");
    for f in &mp603 {
        assert_eq!(f["severity"], "deny");
        assert_eq!(f["object"]["kind"], "Gateway");
        assert!(
            f["file"]
                .as_str()
                .expect("file")
                .ends_with("-waypoint.yaml"),
            "{f}"
        );
        assert!(
            f["message"]
                .as_str()
                .expect("message")
                .contains("uses revision or tag "),
            "{f}"
        );
    }
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 1, "a deny refuses the render: {err}");
    assert!(!d.join("rendered").exists(), "nothing written");

    // With the tag, nothing about waypoints.
    edit_spec(
        d,
        "revisionTags: [default]",
        "revisionTags: [default, stable, rapid]",
    );
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP603").is_empty(), "{report}");
}

#[test]
fn mp202_counts_a_waypoint_pinned_to_the_old_revision() {
    let dir = mesh();
    let d = dir.path();
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    // The details waypoint pins the revision itself, not a tag: an upgrade's cleanup step
    // would strand it, so MP202 and MP603 refuse that step.
    let waypoint = d.join("apps/ambient/details-waypoint.yaml");
    let text = std::fs::read_to_string(&waypoint).expect("waypoint");
    std::fs::write(
        &waypoint,
        text.replace("istio.io/rev: stable", "istio.io/rev: 1-26-8"),
    )
    .expect("write");
    edit_spec(d, "version: 1.26.8", "version: 1.28.10");
    let (code, out, err) = run(d, &["check", "--format", "json", "--step", "all"]);
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    let mp202: Vec<&Value> = findings(&report, "MP202")
        .into_iter()
        .filter(|f| f["object"]["kind"] == "Gateway")
        .collect();
    assert_eq!(mp202.len(), 1, "{report}");
    assert!(
        mp202[0]["message"]
            .as_str()
            .expect("message")
            .contains("waypoint Gateway/ambient/bookinfo-details still uses it"),
        "{report}"
    );
    let mp603 = findings(&report, "MP603");
    assert!(!mp603.is_empty(), "{report}");
    assert!(
        mp603
            .iter()
            .all(|f| f["object"]["name"] == "bookinfo-details"),
        "{report}"
    );
}

#[test]
fn ambient_enabled_is_refused_at_its_line_until_the_node_agents_are_rendered() {
    let dir = mesh();
    let d = dir.path();
    edit_spec(
        d,
        "  output: rendered\n",
        "  output: rendered\n  ambient:\n    enabled: true\n",
    );
    let (code, out, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("meshplan.yaml:20:14"), "{err}");
    assert!(
        err.contains("`spec.ambient.enabled: true` is not supported yet"),
        "{err}"
    );
    assert!(!d.join("rendered").exists(), "nothing written");
    // `enabled: false` (values kept for later) is accepted.
    edit_spec(d, "    enabled: true\n", "    enabled: false\n");
    let (code, _, err) = run(d, &["check"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_upgrade_restarts_the_sidecar_namespace_and_no_ambient_workload() {
    let dir = mesh();
    let d = dir.path();
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    edit_spec(d, "version: 1.26.8", "version: 1.28.10");
    let (code, out, err) = run(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).expect("plan JSON");
    let steps = plan["steps"].as_array().expect("steps");
    let moved: Vec<&str> = steps
        .iter()
        .flat_map(|s| {
            let restarts = s["restarts"].as_array().into_iter().flatten();
            restarts.chain(s["manual"].as_array().into_iter().flatten())
        })
        .filter_map(Value::as_str)
        .collect();
    assert!(moved.iter().any(|k| k.contains("/shop/")), "{plan}");
    assert!(!moved.iter().any(|k| k.contains("/ambient/")), "{plan}");
}
