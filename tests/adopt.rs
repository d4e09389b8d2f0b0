//! Taking over a mesh that runs already (`tests/fixtures/adopt/flux`: Istio 1.24.6 from the
//! user's own Flux HelmReleases, a namespace injected by `istio-injection=enabled`, a
//! Deployment with committed kube-inject output): MP207, MP208 and MP314 before `adopt`,
//! the first lock it writes, what it refuses, and the plan and checks after it.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::{copy_tree, root, run_in as run};
use serde_json::Value;
use std::path::Path;

/// A copy of the fixture in a fresh temporary directory.
fn running() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/adopt/flux"), dir.path());
    dir
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `(rule, object key)` of every diagnostic of a `check --format json` report.
fn findings(report: &Value) -> Vec<(String, String)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let o = &d["object"];
            let key = format!(
                "{}/{}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["namespace"].as_str().unwrap_or(""),
                o["name"].as_str().unwrap_or("")
            );
            (d["rule"].as_str().unwrap().to_string(), key)
        })
        .collect()
}

fn diagnostic<'a>(report: &'a Value, rule: &str, key_end: &str) -> &'a Value {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["rule"] == rule
                && d["object"]["name"]
                    .as_str()
                    .is_some_and(|n| key_end.ends_with(n))
        })
        .unwrap_or_else(|| panic!("no {rule} on {key_end}: {report}"))
}

fn lock(dir: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(dir.join("rendered/meshplan.lock")).unwrap())
        .unwrap()
}

#[test]
fn check_reports_the_running_install_collisions_and_committed_sidecars() {
    let dir = running();
    let (code, out, err) = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let report = json(&out);
    let found = findings(&report);
    let has = |rule: &str, key: &str| found.iter().any(|(r, k)| r == rule && k == key);
    assert!(has("MP207", "HelmRelease/istio-system/istiod"), "{found:?}");
    assert!(
        !has("MP207", "HelmRelease/istio-system/istio-base"),
        "{found:?}"
    );
    // meshplan's first render would declare the user's base release and its source again.
    assert!(
        has("MP208", "HelmRelease/istio-system/istio-base"),
        "{found:?}"
    );
    assert!(
        has("MP208", "HelmRepository/istio-system/istio"),
        "{found:?}"
    );
    assert!(has("MP314", "Deployment/shop/cart"), "{found:?}");
    assert!(!has("MP314", "Deployment/shop/web"), "{found:?}");

    let mp207 = diagnostic(&report, "MP207", "istiod");
    assert_eq!(mp207["severity"], "deny");
    assert_eq!(mp207["file"], "apps/istio/releases.yaml");
    assert_eq!(mp207["line"], 22);
    assert!(
        mp207["message"].as_str().unwrap().contains("Istio 1.24.6"),
        "{mp207}"
    );
    assert!(
        mp207["hint"].as_str().unwrap().contains("meshplan adopt"),
        "{mp207}"
    );
    let mp314 = diagnostic(&report, "MP314", "cart");
    assert_eq!(mp314["severity"], "warn");
    assert_eq!(mp314["file"], "apps/shop/cart.yaml");
    let msg = mp314["message"].as_str().unwrap();
    assert!(msg.contains("1.24.6") && msg.contains("1.26.8"), "{msg}");
    assert!(
        mp314["hint"].as_str().unwrap().contains("kube-inject"),
        "{mp314}"
    );
}

#[test]
fn facts_show_installations_and_manual_sidecars() {
    let dir = running();
    let (code, out, err) = run(
        dir.path(),
        &["facts", "--format", "json", "--step", "current"],
    );
    assert_eq!(code, 0, "{err}");
    let facts = json(&out);
    let installs = facts["installations"].as_array().unwrap();
    let summary: Vec<String> = installs
        .iter()
        .map(|i| {
            format!(
                "{} {} {} {} {} {}:{} managed={}",
                i["object"]["name"].as_str().unwrap(),
                i["component"].as_str().unwrap(),
                i["revision"].as_str().unwrap(),
                i["version"].as_str().unwrap_or("?"),
                i["delivery"].as_str().unwrap(),
                i["file"].as_str().unwrap(),
                i["line"],
                i["managed"],
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "istio-base base default 1.24.6 flux-helm apps/istio/releases.yaml:2 managed=false",
            "istiod istiod default 1.24.6 flux-helm apps/istio/releases.yaml:22 managed=false",
        ]
    );
    let cart = facts["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["key"] == "Deployment/shop/cart")
        .unwrap();
    assert_eq!(cart["sidecar"], "manual");
    assert_eq!(cart["proxy"], "1.24.6");
    assert_eq!(cart["injected"], true);
    let (code, text, _) = run(dir.path(), &["facts", "--step", "current"]);
    assert_eq!(code, 0);
    assert!(text.contains("INSTALLATIONS"), "{text}");
    assert!(text.contains("spec.chart.spec.version"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("Deployment/shop/cart") && l.contains("manual")),
        "{text}"
    );
}

#[test]
fn an_unresolved_flux_variable_is_an_unknown_version_not_a_crash() {
    let dir = running();
    let path = dir.path().join("apps/istio/releases.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("version: 1.24.6", "version: \"${version}\""),
    )
    .unwrap();
    let (code, out, err) = run(dir.path(), &["facts", "--step", "current"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("`${version}`"), "{out}");
    assert!(out.contains("unknown"), "{out}");
    // adopt cannot take over a version it does not know: exit 2, nothing written.
    let (code, _, err) = run(dir.path(), &["adopt"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("version") && err.contains("unknown"), "{err}");
    assert!(!dir.path().join("rendered/meshplan.lock").exists());
    // With the Flux Kustomization and its ConfigMap in the manifests, it resolves.
    std::fs::write(
        dir.path().join("apps/istio/flux.yaml"),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: istio, namespace: flux-system}\nspec:\n  postBuild:\n    substituteFrom: [{kind: ConfigMap, name: istio-version}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio-version, namespace: flux-system}\ndata: {version: 1.24.6}\n",
    )
    .unwrap();
    let (code, out, err) = run(dir.path(), &["facts", "--step", "current"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("`${version}` from ConfigMap flux-system/istio-version"),
        "{out}"
    );
    let (code, out, err) = run(dir.path(), &["adopt"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(lock(dir.path())["revisions"][0]["version"], "1.24.6");
}

#[test]
fn adopt_writes_the_first_lock_and_the_plan_upgrades_from_it() {
    let dir = running();
    let d = dir.path();
    let (code, out, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("wrote rendered/meshplan.lock\n"), "{out}");
    assert!(out.contains("revision default (Istio 1.24.6"), "{out}");
    assert!(
        out.contains("HelmRelease/istio-system/istiod (apps/istio/releases.yaml:22)"),
        "{out}"
    );
    let l = lock(d);
    assert_eq!(
        l["revisions"],
        serde_json::json!([{"name": "default", "version": "1.24.6", "installedBy": {
            "file": "apps/istio/releases.yaml", "kind": "HelmRelease",
            "namespace": "istio-system", "name": "istiod"}}])
    );
    assert_eq!(
        l["adopted"],
        serde_json::json!([
            {"file": "apps/istio/helmrepository.yaml", "kind": "HelmRepository",
             "namespace": "istio-system", "name": "istio"},
            {"file": "apps/istio/releases.yaml", "kind": "HelmRelease",
             "namespace": "istio-system", "name": "istio-base"},
        ])
    );
    // A committed sidecar's proxy is read from its manifest, never recorded.
    assert!(l["workloads"].get("Deployment/shop/cart").is_none(), "{l}");
    assert!(
        out.contains("a committed sidecar pinned to 1.24.6"),
        "{out}"
    );
    assert_eq!(l["workloads"]["Deployment/shop/web"]["proxy"], "1.24.6");
    assert_eq!(l["workloads"]["Deployment/shop/web"]["generation"], 0);

    // The plan upgrades what runs.
    let (code, out, err) = run(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan = json(&out);
    assert_eq!(plan["from"], "1.24.6");
    assert_eq!(plan["hops"][0], "1.24.6");
    assert_eq!(plan["to"], "1.26.8");
    // A committed sidecar is never in a restart list: a bump does not move it.
    for step in plan["steps"].as_array().unwrap() {
        assert!(!step["restarts"].to_string().contains("cart"), "{step}");
    }

    // No MP207, no MP208 on what adopt took over; MP314 stays until re-injection.
    let (_, out, _) = run(d, &["check", "--format", "json"]);
    let found = findings(&json(&out));
    assert!(
        !found.iter().any(|(r, _)| r == "MP207" || r == "MP208"),
        "{found:?}"
    );
    // Nothing is rendered yet: the adopted lock alone is no drift.
    assert!(!found.iter().any(|(r, _)| r == "MP502"), "{found:?}");
    assert!(
        found
            .iter()
            .any(|(r, k)| r == "MP314" && k == "Deployment/shop/cart"),
        "{found:?}"
    );
    let (code, out, _) = run(d, &["facts", "--step", "current"]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("HelmRelease/istio-system/istiod") && l.contains("adopted")),
        "{out}"
    );

    // The first step installs meshplan's revision beside the adopted one, which meshplan
    // never renders itself: the user's object installs it.
    let (code, _, err) = run(d, &["render", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(d.join("rendered/istio-system/istiod-1-26-8.yaml").is_file());
    let names: Vec<String> = std::fs::read_dir(d.join("rendered/istio-system"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("default") || n == "istiod.yaml"),
        "{names:?}"
    );
    let l = lock(d);
    // Sorted by name: meshplan's revision, then the adopted one, still installed by its object.
    assert_eq!(l["revisions"][0]["name"], "1-26-8");
    assert!(l["revisions"][0].get("installedBy").is_none(), "{l}");
    assert_eq!(l["revisions"][1]["name"], "default");
    assert_eq!(l["revisions"][1]["installedBy"]["name"], "istiod");

    // A lock exists now: adopt refuses and writes nothing.
    let before = std::fs::read_to_string(d.join("rendered/meshplan.lock")).unwrap();
    let (code, _, err) = run(d, &["adopt"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a lock exists already"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("rendered/meshplan.lock")).unwrap(),
        before
    );
}

#[test]
fn adopt_refuses_when_nothing_runs_or_candidates_cannot_be_told_apart() {
    // Nothing installed: exit 2, nothing written.
    let dir = running();
    let d = dir.path();
    std::fs::remove_dir_all(d.join("apps/istio")).unwrap();
    let (code, _, err) = run(d, &["adopt"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no Istio control plane found"), "{err}");
    assert!(!d.join("rendered").exists());

    // Two revisions: the message says how to choose; --revision chooses.
    let dir = running();
    let d = dir.path();
    std::fs::write(
        d.join("apps/istio/canary.yaml"),
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: istiod-canary, namespace: istio-system}\nspec:\n  chart: {spec: {chart: istiod, version: 1.25.5, sourceRef: {kind: HelmRepository, name: istio}}}\n  values: {revision: canary}\n",
    )
    .unwrap();
    let (code, _, err) = run(d, &["adopt"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--revision NAME") && err.contains("canary"),
        "{err}"
    );
    assert!(!d.join("rendered/meshplan.lock").exists());
    let (code, _, err) = run(d, &["adopt", "--revision", "nope"]);
    assert_eq!(code, 2, "{err}");
    let (code, out, err) = run(d, &["adopt", "--revision", "default"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("istiod-canary") && out.contains("not adopted"),
        "{out}"
    );
    let l = lock(d);
    assert_eq!(l["revisions"].as_array().unwrap().len(), 1);
    assert_eq!(l["revisions"][0]["name"], "default");
    // The one left out is still an unmanaged control plane.
    let (_, out, _) = run(d, &["check", "--format", "json"]);
    let found = findings(&json(&out));
    assert!(
        found
            .iter()
            .any(|(r, k)| r == "MP207" && k == "HelmRelease/istio-system/istiod-canary"),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(r, k)| r == "MP207" && k == "HelmRelease/istio-system/istiod"),
        "{found:?}"
    );

    // Two objects installing the same revision cannot be told apart.
    let dir = running();
    let d = dir.path();
    std::fs::write(
        d.join("apps/istio/rendered-istiod.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: istiod, namespace: istio-system, labels: {istio.io/rev: default}}\nspec:\n  selector: {matchLabels: {app: istiod}}\n  template:\n    metadata: {labels: {app: istiod}}\n    spec:\n      containers: [{name: discovery, image: docker.io/istio/pilot:1.24.6}]\n",
    )
    .unwrap();
    let (code, _, err) = run(d, &["adopt"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("both install revision default"), "{err}");
    assert!(!d.join("rendered/meshplan.lock").exists());
}

#[test]
fn older_locks_without_adopt_fields_still_load() {
    let dir = running();
    let d = dir.path();
    std::fs::create_dir_all(d.join("rendered")).unwrap();
    std::fs::write(
        d.join("rendered/meshplan.lock"),
        "apiVersion: meshplan.dev/v1alpha1\nkind: Lock\ncluster: running\nrevisions:\n- name: 1-24-6\n  version: 1.24.6\ntags: {}\nnamespaces: {}\ngateways: {}\nworkloads: {}\n",
    )
    .unwrap();
    let (code, out, err) = run(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["from"], "1.24.6");
}

#[test]
fn adopt_an_istio_operator_or_a_rendered_install() {
    // An IstioOperator with a revision, in place of the Flux releases.
    let dir = running();
    let d = dir.path();
    std::fs::remove_dir_all(d.join("apps/istio")).unwrap();
    std::fs::create_dir_all(d.join("apps/istio")).unwrap();
    std::fs::write(
        d.join("apps/istio/operator.yaml"),
        "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: control-plane\n  namespace: istio-system\nspec:\n  profile: default\n  revision: 1-24-6\n  tag: 1.24.6\n",
    )
    .unwrap();
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let found = findings(&json(&out));
    assert!(
        found
            .iter()
            .any(|(r, k)| r == "MP207" && k == "IstioOperator/istio-system/control-plane"),
        "{found:?}"
    );
    let (code, out, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("revision 1-24-6 (Istio 1.24.6, spec.tag)"),
        "{out}"
    );
    let l = lock(d);
    assert_eq!(l["revisions"][0]["installedBy"]["kind"], "IstioOperator");
    let (_, out, _) = run(d, &["plan", "--format", "json"]);
    assert_eq!(json(&out)["hops"][0], "1.24.6");

    // `helm template` output committed as it is: the istiod Deployment and its webhook.
    let dir = running();
    let d = dir.path();
    std::fs::remove_dir_all(d.join("apps/istio")).unwrap();
    std::fs::create_dir_all(d.join("apps/istio")).unwrap();
    std::fs::write(
        d.join("apps/istio/istiod.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istiod\n  namespace: istio-system\n  labels: {app: istiod, istio.io/rev: default}\nspec:\n  selector: {matchLabels: {app: istiod}}\n  template:\n    metadata: {labels: {app: istiod}}\n    spec:\n      containers:\n        - name: discovery\n          image: docker.io/istio/pilot:1.24.6\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata:\n  name: istio-sidecar-injector\n  labels: {istio.io/rev: default}\nwebhooks: []\n",
    )
    .unwrap();
    let (_, out, _) = run(d, &["check", "--format", "json"]);
    let found = findings(&json(&out));
    assert!(
        found
            .iter()
            .any(|(r, k)| r == "MP207" && k == "Deployment/istio-system/istiod"),
        "{found:?}"
    );
    // The webhook is part of that install, not a second control plane.
    assert_eq!(
        found.iter().filter(|(r, _)| r == "MP207").count(),
        1,
        "{found:?}"
    );
    let (code, out, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("the discovery container's image tag"), "{out}");
    let l = lock(d);
    assert_eq!(l["revisions"][0]["name"], "default");
    assert_eq!(l["revisions"][0]["installedBy"]["kind"], "Deployment");
    let (_, out, _) = run(d, &["check", "--format", "json"]);
    assert!(!out.contains("MP207"), "{out}");
}

#[test]
fn a_base_release_of_another_name_is_not_taken_over_and_adopt_says_so() {
    let dir = running();
    let d = dir.path();
    let path = d.join("apps/istio/releases.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("name: istio-base\n", "name: base\n")
            .replace("- name: istio-base", "- name: base"),
    )
    .unwrap();
    let (code, out, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("not decided:\n")
            && out.contains("HelmRelease/istio-system/base (apps/istio/releases.yaml:2): meshplan renders its base release as istio-base"),
        "{out}"
    );
}

#[test]
fn a_lock_from_an_older_adopt_forgets_the_committed_sidecar_proxy_it_recorded() {
    // adopt used to record cart's pinned proxy; the first step applied drops it, since a
    // re-injection would change it with no step (it is read from the manifest).
    let dir = running();
    let d = dir.path();
    let (code, _, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{err}");
    let path = d.join("rendered/meshplan.lock");
    let text = std::fs::read_to_string(&path).unwrap();
    let old = text.replace(
        "workloads:\n",
        "workloads:\n  Deployment/shop/cart:\n    generation: 0\n    proxy: \"1.24.6\"\n",
    );
    assert_ne!(old, text);
    std::fs::write(&path, old).unwrap();
    let (code, out, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{out}{err}");
    let l = lock(d);
    assert!(l["workloads"].get("Deployment/shop/cart").is_none(), "{l}");
    assert_eq!(l["workloads"]["Deployment/shop/web"]["proxy"], "1.24.6");
}
