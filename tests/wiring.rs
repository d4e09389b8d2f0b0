//! The wiring of meshplan's Components (MP505, docs/render.md "Wiring the components"):
//! the `namespaces/` Component is checked like the `restarts/` one, both are rendered from
//! the first step on so they can be wired before anything needs them, and a spec with only
//! globs gets one info at `spec.manifests` instead of silence. Real kustomize
//! (`tools/bin/kubectl kustomize`) on the Flux monorepo fixture of `realrepos.rs`.

use crate::common::tool;
use crate::realrepos::{build_apps, entry_line, json, repo_with, run};
use serde_json::Value;
use std::path::Path;

/// The MP505 diagnostics of a `check --format json` report.
fn mp505(report: &Value) -> Vec<&Value> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "MP505")
        .collect()
}

/// `Kind/name` of a diagnostic's object.
fn kind_name(d: &Value) -> String {
    format!(
        "{}/{}",
        d["object"]["kind"].as_str().unwrap_or(""),
        d["object"]["name"].as_str().unwrap_or("")
    )
}

/// Makes `apps/prod` (which the Flux Kustomization `apps` builds) include `components`.
fn wire(dir: &Path, components: &[&str]) {
    let list: String = components
        .iter()
        .map(|c| format!("  - ../../rendered/{c}\n"))
        .collect();
    std::fs::write(
        dir.join("apps/prod/kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - team-a\n  - team-b\n  - team-c\ncomponents:\n{list}"
        ),
    )
    .expect("write");
}

#[test]
fn the_first_step_renders_both_components_empty_so_they_are_wired_before_any_restart() {
    let dir = repo_with(&["{flux: clusters/prod}"]);
    let d = dir.path();
    // Nothing is rendered yet, so nothing can include the Components: the whole install
    // of a new cluster in one change, which restarts and relabels, is refused.
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("MP505"), "{err}");
    assert!(!d.join("rendered").exists());
    // The first step installs istiod only: nothing for MP505, and both Components appear.
    let (code, _, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{err}");
    for c in ["restarts", "namespaces"] {
        let text = std::fs::read_to_string(d.join("rendered").join(c).join("kustomization.yaml"))
            .unwrap_or_else(|e| panic!("{c}: {e}"));
        assert_eq!(
            text, "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: []\n",
            "{c}"
        );
    }
    // Including the empty Components changes nothing in the real kustomize build: the
    // same build from a copy without them (`build_apps` includes only those that exist).
    let copy = tempfile::tempdir().expect("tempdir");
    crate::common::copy_tree(d, copy.path());
    std::fs::remove_dir_all(copy.path().join("rendered")).expect("remove");
    let unwired = build_apps(copy.path());
    let wired = build_apps(d);
    assert_eq!(wired, unwired);
    // Wired before any restart: the rest of the install renders without --force.
    let (code, out, err) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(mp505(&json(&out)).is_empty(), "{out}");
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    let restarts = std::fs::read_to_string(d.join("rendered/restarts/kustomization.yaml"))
        .expect("restarts component");
    assert!(restarts.contains("name: a-web"), "{restarts}");
}

#[test]
fn the_namespaces_component_is_checked_like_the_restarts_one() {
    let dir = repo_with(&["{flux: clusters/prod}"]);
    let d = dir.path();
    let (code, _, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{err}");
    // Only the restart Component wired: the waves still relabel the user's Namespaces
    // through `rendered/namespaces`, which no build includes.
    wire(d, &["restarts"]);
    let (code, out, err) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let report = json(&out);
    let found: Vec<String> = mp505(&report).iter().map(|d| kind_name(d)).collect();
    assert_eq!(
        found,
        ["Namespace/team-a", "Namespace/team-b", "Namespace/team-c"]
    );
    for f in mp505(&report) {
        assert_eq!(f["severity"], "deny");
        assert_eq!(
            f["message"],
            "its build (Flux Kustomization flux-system/apps) does not include rendered/namespaces: the revision label never reaches this namespace"
        );
        let ns = f["object"]["name"].as_str().expect("name");
        assert_eq!(f["file"], format!("apps/prod/{ns}/namespace.yaml"));
        assert_eq!(f["step"], format!("wave {}", &ns[5..]));
    }
    // Both wired: quiet, and the render goes through.
    wire(d, &["restarts", "namespaces"]);
    let (code, out, err) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(mp505(&json(&out)).is_empty(), "{out}");
    // The namespace patch does reach the Namespace through the real kustomize build.
    let (code, _, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{err}");
    let out = std::process::Command::new(tool("kubectl"))
        .arg("kustomize")
        .arg(d.join("apps/prod"))
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = String::from_utf8_lossy(&out.stdout);
    assert!(built.contains("istio.io/rev: 1-26-8"), "{built}");
}

#[test]
fn a_spec_with_only_globs_gets_one_info_at_spec_manifests() {
    let dir = repo_with(&[
        "{path: \"apps/base/shop/*.yaml\", namespace: team-b}",
        "\"apps/prod/*/namespace.yaml\"",
    ]);
    let d = dir.path();
    let (code, out, err) = run(d, &["check", "--format", "json"]);
    let report = json(&out);
    // Wave b restarts web and relabels team-b, waves a and c relabel theirs: one info.
    let found = mp505(&report);
    assert_eq!(found.len(), 1, "{out}");
    let f = found[0];
    assert_eq!(f["severity"], "info");
    assert!(f.get("object").is_none(), "{f}");
    assert!(f.get("step").is_none(), "{f}");
    assert_eq!(f["file"], "meshplan.yaml");
    // The `manifests:` key, the line before its first entry.
    assert_eq!(f["line"], entry_line(d) - 1);
    let msg = f["message"].as_str().expect("message");
    assert!(msg.contains("is unchecked"), "{msg}");
    assert!(
        f["hint"]
            .as_str()
            .is_some_and(|h| h.contains("docs/render.md, Wiring the components")),
        "{f}"
    );
    // An info: the verdict is unchanged (no deny here, exit 0), also under --fail-on warn.
    assert_eq!(report["summary"]["deny"], 0, "{out}");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(d, &["check", "--fail-on", "warn", "--format", "json"]);
    let warns = report["summary"]["warn"].as_u64().expect("warn count");
    assert_eq!(code, i32::from(warns > 0), "{err}");
    // Rendering the first wave is not refused either.
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    // Nothing restarts or relabels any more: no info.
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    assert!(mp505(&json(&out)).is_empty(), "{out}");
}
