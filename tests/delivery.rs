//! What each delivery can install (MP110): the in-cluster IstioOperator controller is gone
//! from Istio 1.24 on, so an `istio-operator` mesh may go up to 1.23 and no further. Built
//! on the upgrade example's real manifests, rendered by meshplan itself as an IstioOperator
//! mesh on 1.22.8 and committed to a real Git repository (the `git` CLI), so `render`,
//! `diff` and `commit` are judged against a running mesh, not a new cluster.

use crate::common::{copy_tree, edit_spec, git_as_owner as git, root, run_in as run};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The 1-based line of the first line of `dir/meshplan.yaml` that starts (after spaces)
/// with `key`.
fn spec_line(dir: &Path, key: &str) -> u64 {
    let text = std::fs::read_to_string(dir.join("meshplan.yaml")).expect("spec");
    let index = text
        .lines()
        .position(|l| l.trim_start().starts_with(key))
        .unwrap_or_else(|| panic!("{key} in\n{text}"));
    u64::try_from(index + 1).expect("small")
}

/// The upgrade example's workloads delivered by IstioOperator, asking for `version`, with
/// nothing rendered yet.
fn operator_spec(version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);
    std::fs::remove_dir_all(d.join("rendered")).expect("remove the flux-helm render");
    edit_spec(d, "delivery: flux-helm", "delivery: istio-operator");
    edit_spec(d, "version: 1.26.8", &format!("version: {version}"));
    dir
}

/// An IstioOperator mesh on Istio 1.22.8 (two waves, a blue/green gateway), rendered with
/// `render --step all` and committed on `main`.
fn operator_mesh_1_22() -> tempfile::TempDir {
    let dir = operator_spec("1.22.8");
    let d = dir.path();
    let (code, out, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        d.join("rendered/istio-system/istiooperator-1-22-8.yaml")
            .is_file()
    );
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "-A"]);
    git(
        d,
        &[
            "commit",
            "-q",
            "-m",
            "Istio 1.22.8 through the IstioOperator",
        ],
    );
    dir
}

/// `check --format json`: the exit code and the report.
fn check_json(dir: &Path) -> (i32, Value) {
    let (code, out, err) = run(dir, &["check", "--format", "json"]);
    let report = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, report)
}

/// The diagnostics of a JSON report with this rule.
fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == rule)
        .collect()
}

/// Every file under `dir` with its bytes, relative to it.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).expect("below dir");
            (
                rel.to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("readable"),
            )
        })
        .collect()
}

#[test]
fn an_istio_operator_mesh_cannot_be_taken_to_1_24() {
    let dir = operator_mesh_1_22();
    let d = dir.path();
    edit_spec(d, "version: 1.22.8", "version: 1.24.6");

    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let mp110 = findings(&report, "MP110");
    assert_eq!(mp110.len(), 1, "{report}");
    let f = mp110[0];
    assert_eq!(f["name"], "delivery-unsupported");
    assert_eq!(f["severity"], "deny");
    assert_eq!(f["file"], "meshplan.yaml");
    assert_eq!(f["line"], spec_line(d, "delivery:"), "{f}");
    // One canary hop (maxMinorSkip: 2): its install step is the first to render 1.24.6.
    assert_eq!(f["step"], "install", "{f}");
    let message = f["message"].as_str().expect("message");
    assert!(message.contains("Istio 1.24.6"), "{message}");
    assert!(message.contains("removed in Istio 1.24"), "{message}");
    // The catalogue's newest 1.23 patch is the last version the delivery supports.
    assert!(message.contains("supports is 1.23.6"), "{message}");
    let hint = f["hint"].as_str().expect("hint");
    assert!(hint.contains("spec.istio.version to 1.23.6"), "{hint}");
    assert!(
        hint.contains("spec.istio.delivery to flux-helm, argocd-helm or sail"),
        "{hint}"
    );
    assert!(
        hint.contains("does not yet plan that migration step"),
        "{hint}"
    );

    // The plan still lists its steps (so the rule can be switched off), and its problem.
    let (code, plan, err) = run(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan json");
    assert!(
        !plan["steps"].as_array().expect("steps").is_empty(),
        "{plan}"
    );
    let problems = plan["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{plan}");
    assert_eq!(problems[0]["kind"], "delivery-unsupported");
    assert_eq!(problems[0]["rule"], "MP110");
    assert_eq!(problems[0]["hop"], "1.24.6");
    assert_eq!(problems[0]["step"], "install");
    assert_eq!(problems[0]["lastSupported"], "1.23.6");

    // render, diff and commit refuse it and write nothing.
    let before = files(d);
    let head = git(d, &["rev-parse", "HEAD"]);
    for args in [
        &["render"][..],
        &["render", "--step", "all"],
        &["diff"],
        &["commit"],
    ] {
        let (code, out, err) = run(d, args);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains("deny[MP110]"), "{args:?}: {err}");
        assert!(err.contains("nothing was written"), "{args:?}: {err}");
        assert!(!out.contains("diff --git"), "{args:?}: {out}");
    }
    assert_eq!(files(d), before, "a refused change wrote files");
    assert_eq!(git(d, &["status", "--porcelain", "rendered"]), "");
    assert_eq!(git(d, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(d, &["branch", "--list", "meshplan/*"]), "");
}

#[test]
fn an_istio_operator_mesh_may_go_up_to_1_23() {
    let dir = operator_mesh_1_22();
    let d = dir.path();
    edit_spec(d, "version: 1.22.8", "version: 1.23.6");

    let (_, report) = check_json(d);
    assert!(findings(&report, "MP110").is_empty(), "{report}");
    let (code, plan, err) = run(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan json");
    assert!(plan.get("problems").is_none(), "{plan}");

    let (code, out, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        d.join("rendered/istio-system/istiooperator-1-23-6.yaml")
            .is_file()
    );
    assert!(
        d.join("rendered/istio-system/istiooperator-1-22-8.yaml")
            .is_file()
    );
}

#[test]
fn a_new_cluster_on_1_24_through_the_istio_operator_is_refused() {
    let dir = operator_spec("1.24.6");
    let d = dir.path();
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let mp110 = findings(&report, "MP110");
    assert_eq!(mp110.len(), 1, "{report}");
    assert_eq!(mp110[0]["line"], spec_line(d, "delivery:"));
    assert_eq!(mp110[0]["step"], "install");
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("deny[MP110]"), "{err}");
    assert!(!d.join("rendered").exists());
}

/// Who feeds the rendered IstioOperator to `istioctl install -f` by hand can switch the
/// rule off: the plan kept its steps, so the render goes on as before.
#[test]
fn mp110_switched_off_renders_the_istio_operator_for_1_24() {
    let dir = operator_mesh_1_22();
    let d = dir.path();
    edit_spec(d, "version: 1.22.8", "version: 1.24.6");
    edit_spec(
        d,
        "  output: rendered",
        "  rules: {MP110: off}\n  output: rendered",
    );
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP110").is_empty(), "{report}");
    let (code, out, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        d.join("rendered/istio-system/istiooperator-1-24-6.yaml")
            .is_file()
    );
}

/// The Helm deliveries follow every release: the same hop through Flux is no MP110.
#[test]
fn helm_deliveries_are_not_limited() {
    for delivery in ["flux-helm", "argocd-helm"] {
        let dir = operator_spec("1.24.6");
        let d = dir.path();
        edit_spec(
            d,
            "delivery: istio-operator",
            &format!("delivery: {delivery}"),
        );
        let (_, report) = check_json(d);
        assert!(
            findings(&report, "MP110").is_empty(),
            "{delivery}: {report}"
        );
        let (code, plan, err) = run(d, &["plan", "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        assert!(!plan.contains("delivery-unsupported"), "{delivery}: {plan}");
    }
}
