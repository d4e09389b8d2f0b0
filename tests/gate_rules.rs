//! Transition rules fired end to end from files a user could have: a hand-edited lock or a
//! spec change in a copy of `examples/upgrade-1.22-to-1.26` (1.22.8 installed, 1.26.8
//! wanted), judged by `meshplan check` — not from hand-written Rego input. Each finding
//! points at the spec field it is about.

use crate::common::{check_json, copy_tree, findings, root, run_in};
use std::path::Path;

fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), dir.path());
    dir
}

/// Replaces `from` by `to` in `file` (under `dir`), which must contain it.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("written");
}

/// The 1-based line of the spec's `- name: ingress` gateway entry.
fn gateway_line(dir: &Path) -> u64 {
    let spec = std::fs::read_to_string(dir.join("meshplan.yaml")).expect("spec");
    let at = spec
        .lines()
        .position(|l| l.trim() == "- name: ingress")
        .expect("the gateway entry");
    at as u64 + 1
}

fn assert_at_gateway(d: &serde_json::Value, dir: &Path) {
    assert_eq!(d["file"], "meshplan.yaml", "{d}");
    assert_eq!(d["line"], gateway_line(dir), "{d}");
    assert_eq!(d["object"]["kind"], "Service", "{d}");
    assert_eq!(d["object"]["namespace"], "istio-ingress", "{d}");
    assert_eq!(d["object"]["name"], "ingress", "{d}");
}

/// MP401: the lock's traffic Service selects a colour the gateway does not have (the lock
/// used to be refused as malformed, so the rule could never speak).
#[test]
fn mp401_fires_when_the_lock_selects_a_colour_that_does_not_exist() {
    let dir = example();
    let d = dir.path();
    let (code, report) = check_json(d);
    assert!(findings(&report, "MP401").is_empty(), "{report}");
    assert_eq!(code, 0, "{report}");
    edit(
        d,
        "rendered/meshplan.lock",
        "    active: blue",
        "    active: green",
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let mp401 = findings(&report, "MP401");
    assert!(!mp401.is_empty(), "{report}");
    assert_eq!(mp401[0]["severity"], "deny");
    assert!(
        mp401[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("green colour, which does not exist")),
        "{}",
        mp401[0]
    );
    assert_at_gateway(mp401[0], d);
}

/// MP404: after the gateway step, traffic is switched back to blue by hand in the lock; the
/// cleanup step would remove blue while the traffic Service still selects it. Cleanup used
/// to move the active colour onto the new revision silently instead.
#[test]
fn mp404_fires_when_cleanup_would_remove_the_colour_traffic_still_uses() {
    let dir = example();
    let d = dir.path();
    for step in ["install", "wave canary", "wave main", "gateway"] {
        let (code, out, err) = run_in(d, &["render"]);
        assert_eq!(code, 0, "render {step}: {out}{err}");
        assert!(out.contains(step), "rendered {step}: {out}");
    }
    let lock = std::fs::read_to_string(d.join("rendered/meshplan.lock")).expect("lock");
    assert!(lock.contains("    active: green"), "{lock}");
    let (code, report) = check_json(d);
    assert!(findings(&report, "MP404").is_empty(), "{report}");
    assert!(findings(&report, "MP502").is_empty(), "{report}");
    assert_eq!(code, 0, "{report}");

    edit(
        d,
        "rendered/meshplan.lock",
        "    active: green",
        "    active: blue",
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let mp404 = findings(&report, "MP404");
    assert_eq!(mp404.len(), 1, "{report}");
    assert_eq!(mp404[0]["step"], "1.24.6: cleanup", "{}", mp404[0]);
    assert!(
        mp404[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("removes the blue colour of gateway istio-ingress/ingress")),
        "{}",
        mp404[0]
    );
    assert_at_gateway(mp404[0], d);
    // And render refuses the cleanup: nothing is written.
    let before = std::fs::read_to_string(d.join("rendered/meshplan.lock")).expect("lock");
    let (code, out, err) = run_in(d, &["render"]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("rendered/meshplan.lock")).expect("lock"),
        before
    );
}

/// MP403: a spec change makes the gateway in-place, so the gateway step moves its only
/// colour across minors; the finding points at the gateway's entry, not at `spec:`.
#[test]
fn mp403_fires_for_an_in_place_gateway_across_minors_at_its_entry() {
    let dir = example();
    let d = dir.path();
    edit(
        d,
        "meshplan.yaml",
        "strategy: blue-green",
        "strategy: in-place",
    );
    let (_, report) = check_json(d);
    let mp403 = findings(&report, "MP403");
    assert!(!mp403.is_empty(), "{report}");
    assert!(
        mp403
            .iter()
            .any(|f| f["message"] == "the blue colour of gateway istio-ingress/ingress moves in place from 1.22.8 to 1.24.6"),
        "{mp403:?}"
    );
    for f in &mp403 {
        assert_eq!(f["severity"], "warn");
        assert_at_gateway(f, d);
    }
}

/// MP105: the lock records a proxy two minors behind the control plane serving its
/// namespace (a workload a past upgrade never restarted); every step until its restart
/// leaves it outside the supported skew.
#[test]
fn mp105_fires_for_a_proxy_the_lock_records_out_of_skew() {
    let dir = example();
    let d = dir.path();
    edit(
        d,
        "rendered/meshplan.lock",
        "  Deployment/bookinfo/details-v1:\n    generation: 1\n    proxy: \"1.22.8\"",
        "  Deployment/bookinfo/details-v1:\n    generation: 1\n    proxy: \"1.20.8\"",
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let mp105 = findings(&report, "MP105");
    assert!(!mp105.is_empty(), "{report}");
    assert!(
        mp105.iter().all(|f| f["severity"] == "deny"
            && f["message"]
                .as_str()
                .is_some_and(|m| m.contains("the 1.20.8 proxy of Deployment/bookinfo/details-v1"))),
        "{mp105:?}"
    );
    // The finding names the workload and points at its manifest.
    for f in &mp105 {
        assert_eq!(f["object"]["kind"], "Deployment", "{f}");
        assert_eq!(f["object"]["name"], "details-v1", "{f}");
        assert_eq!(f["file"], "apps/bookinfo/bookinfo.yaml", "{f}");
    }
    // The install step is the first judged: the skew is reported before anything moves.
    assert!(
        mp105.iter().any(|f| f["step"] == "1.24.6: install"),
        "{mp105:?}"
    );
}

/// MP104 speaks once per version that runs (the lock's revisions) or is targeted: not for
/// the intermediate 1.24.6 hop while 1.22.8 runs, not for 1.22.8 once its cleanup is done.
#[test]
fn mp104_one_finding_per_running_or_targeted_version() {
    let dir = example();
    let d = dir.path();
    let versions = |report: &serde_json::Value| -> Vec<String> {
        findings(report, "MP104")
            .iter()
            .map(|f| {
                let m = f["message"].as_str().expect("message");
                m.split_whitespace().nth(1).expect("version").to_string()
            })
            .collect()
    };
    let (_, report) = check_json(d);
    assert_eq!(versions(&report), ["1.22.8", "1.26.8"], "{report}");
    for step in ["install", "wave canary", "wave main", "gateway", "cleanup"] {
        let (code, out, err) = run_in(d, &["render"]);
        assert_eq!(code, 0, "render {step}: {out}{err}");
    }
    let (_, report) = check_json(d);
    assert_eq!(versions(&report), ["1.24.6", "1.26.8"], "{report}");
}

/// A settled cluster (nothing left to plan) is judged as its lock stands: the traffic
/// Service left on a colour the gateway lacks is MP401 without any step.
#[test]
fn mp401_fires_on_a_settled_cluster_too() {
    let dir = example();
    let d = dir.path();
    edit(d, "meshplan.yaml", "version: 1.26.8", "version: 1.22.8");
    let (code, plan, err) = run_in(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("plan json");
    assert_eq!(plan["steps"], serde_json::json!([]), "settled: {plan}");
    let (code, report) = check_json(d);
    assert_eq!(code, 0, "{report}");
    assert!(findings(&report, "MP401").is_empty(), "{report}");

    edit(
        d,
        "rendered/meshplan.lock",
        "    active: blue",
        "    active: green",
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let mp401 = findings(&report, "MP401");
    assert_eq!(mp401.len(), 1, "{report}");
    assert!(mp401[0].get("step").is_none(), "no step: {}", mp401[0]);
    assert_at_gateway(mp401[0], d);
}
