//! The gate (issue #11): every problem the planner meets is a finding of `check` and refuses
//! `render`, `diff` and `commit`; drift is judged against the digests the lock recorded when
//! meshplan rendered, so a spec edit is a plan and a hand edit is MP502. Real Git
//! repositories (the `git` CLI) and the upgrade example's real manifests.

use crate::common::{copy_tree, edit_spec, git_as_owner as git, root, run_in as run};
use meshplan::plan::ProblemKind;
use serde_json::Value;
use std::path::Path;

/// The upgrade example as it stands: Istio 1.22.8 rendered and locked (a lock written
/// before meshplan recorded digests), asking for 1.26.8.
fn upgrade_example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), dir.path());
    dir
}

/// The example's workloads as a new cluster on Istio 1.24.3 with two waves (canary:
/// podinfo, main: bookinfo), rendered with `render --step all` and committed on `main`.
fn mesh_1_24_3() -> tempfile::TempDir {
    let dir = upgrade_example();
    let d = dir.path();
    std::fs::remove_dir_all(d.join("rendered")).expect("remove the 1.22.8 render");
    edit_spec(d, "version: 1.26.8", "version: 1.24.3");
    let (code, out, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{out}{err}");
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "Istio 1.24.3"]);
    dir
}

/// `check --format json`: the exit code and the report.
fn check_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(dir, &args);
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

/// The release catalogue the binary ships without the entry of one minor.
fn catalog_without(minor: &str) -> String {
    let text =
        std::fs::read_to_string(root().join("src/catalog/releases.yaml")).expect("catalogue");
    let start = text
        .find(&format!("  - minor: \"{minor}\""))
        .expect("the minor is listed");
    let end = text[start + 1..]
        .find("  - minor: ")
        .map_or(text.len(), |i| start + 1 + i);
    format!("{}{}", &text[..start], &text[end..])
}

/// A spec and lock on which the planner meets a problem of `kind`, and the `check` options
/// it needs. The `match` has no wildcard: a new kind does not compile until it has a case.
fn scenario(kind: ProblemKind) -> (tempfile::TempDir, Vec<&'static str>) {
    match kind {
        ProblemKind::Downgrade => {
            let dir = mesh_1_24_3();
            edit_spec(dir.path(), "version: 1.24.3", "version: 1.22.8");
            (dir, vec![])
        }
        ProblemKind::MajorChange => {
            let dir = upgrade_example();
            edit_spec(dir.path(), "version: 1.26.8", "version: 2.0.1");
            (dir, vec![])
        }
        ProblemKind::UnorderedVersions => {
            // Digits the schema accepts, but a minor no version number can hold.
            let dir = upgrade_example();
            edit_spec(dir.path(), "version: 1.26.8", "version: 1.99999999999.0");
            (dir, vec![])
        }
        ProblemKind::MissingMinor => {
            // The case: 1.24 → 1.26 one minor per hop, with a catalogue lacking 1.25.
            let dir = mesh_1_24_3();
            edit_spec(dir.path(), "version: 1.24.3", "version: 1.26.8");
            edit_spec(dir.path(), "maxMinorSkip: 2 ", "maxMinorSkip: 1 ");
            std::fs::write(dir.path().join("catalog.yaml"), catalog_without("1.25"))
                .expect("catalogue");
            (dir, vec!["--catalog", "catalog.yaml"])
        }
        ProblemKind::IntermediateKubernetes => {
            // 1.22.8 → 1.24.6 → 1.26.8 on Kubernetes 1.32: 1.26 supports it, 1.24 does not.
            let dir = upgrade_example();
            edit_spec(
                dir.path(),
                "kubernetesVersion: \"1.30\"",
                "kubernetesVersion: \"1.32\"",
            );
            (dir, vec![])
        }
        ProblemKind::DeliveryUnsupported => {
            // 1.22.8 → 1.24.6 → 1.26.8 through the IstioOperator, whose controller is gone
            // from 1.24 on.
            let dir = upgrade_example();
            edit_spec(
                dir.path(),
                "delivery: flux-helm",
                "delivery: istio-operator",
            );
            (dir, vec![])
        }
    }
}

#[test]
fn every_problem_the_planner_can_meet_is_a_finding_of_check() {
    let kinds = ProblemKind::all();
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    for kind in kinds {
        let (dir, extra) = scenario(kind);
        let d = dir.path();
        let mut args = vec!["plan", "--format", "json"];
        args.extend_from_slice(&extra);
        let (code, out, err) = run(d, &args);
        assert_eq!(code, 0, "{kind:?}: {err}");
        let plan: Value = serde_json::from_str(&out).expect("plan json");
        let kebab = serde_json::to_value(kind).expect("kind serializes");
        let problems: Vec<&Value> = plan["problems"]
            .as_array()
            .unwrap_or_else(|| panic!("{kind:?}: no problems in {plan}"))
            .iter()
            .filter(|p| p["kind"] == kebab)
            .collect();
        assert_eq!(problems.len(), 1, "{kind:?}: {plan}");
        assert_eq!(problems[0]["rule"], kind.rule(), "{kind:?}");

        let (code, report) = check_json(d, &extra);
        assert_eq!(code, 1, "{kind:?}: {report}");
        let found = findings(&report, kind.rule());
        assert!(
            !found.is_empty(),
            "{kind:?}: no {} in {report}",
            kind.rule()
        );
        let field = match kind.rule() {
            "MP103" => "kubernetesVersion:",
            "MP110" => "delivery:",
            _ => "version:",
        };
        for f in &found {
            assert_eq!(f["severity"], "deny", "{kind:?}: {f}");
            assert_eq!(f["file"], "meshplan.yaml", "{kind:?}: {f}");
            assert_eq!(f["line"], spec_line(d, field), "{kind:?}: {f}");
        }
    }
}

#[test]
fn a_major_version_change_is_mp108_and_nothing_is_written() {
    let dir = mesh_1_24_3();
    let d = dir.path();
    edit_spec(d, "version: 1.24.3", "version: 2.0.1");
    let lock_before = std::fs::read(d.join("rendered/meshplan.lock")).expect("lock");

    let (code, report) = check_json(d, &[]);
    assert_eq!(code, 1, "{report}");
    let mp108 = findings(&report, "MP108");
    assert_eq!(mp108.len(), 1, "{report}");
    assert_eq!(mp108[0]["line"], spec_line(d, "version:"));
    assert!(
        mp108[0]["message"].as_str().unwrap_or("").contains("2.0.1"),
        "{report}"
    );

    let (code, out, err) = run(d, &["plan"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("MP108: no upgrade path from 1.24.3 to 2.0.1"),
        "{out}"
    );

    for args in [&["render"][..], &["diff"], &["commit"]] {
        let (code, out, err) = run(d, args);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains("deny[MP108]"), "{args:?}: {err}");
        assert!(err.contains("nothing was written"), "{args:?}: {err}");
        assert!(!out.contains("the plan is done"), "{args:?}: {out}");
    }
    assert_eq!(
        std::fs::read(d.join("rendered/meshplan.lock")).expect("lock"),
        lock_before
    );
    assert_eq!(git(d, &["status", "--porcelain", "rendered"]), "");
    assert_eq!(git(d, &["branch", "--list", "meshplan/*"]), "");
}

/// Asserts that `check` passes, with no MP502, and that the plan's pending steps are
/// `steps`.
fn passes_with_steps(d: &Path, steps: &[&str]) {
    let (code, report) = check_json(d, &[]);
    assert_eq!(code, 0, "{report}");
    assert!(findings(&report, "MP502").is_empty(), "{report}");
    let names: Vec<&str> = report["plan"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["done"] == false)
        .map(|s| s["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, steps, "{report}");
}

#[test]
fn a_config_edit_of_the_spec_is_a_plan_not_drift() {
    let dir = mesh_1_24_3();
    let d = dir.path();
    passes_with_steps(d, &[]);

    edit_spec(
        d,
        "  istio:\n",
        "  istio:\n    config: {prometheusMerge: false}\n",
    );
    passes_with_steps(d, &["restart canary", "restart main"]);
    let (code, out, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("restart canary"), "{out}");
    passes_with_steps(d, &["restart main"]);

    git(d, &["checkout", "-q", "--", "."]);
    git(d, &["clean", "-qfd"]);
    edit_spec(
        d,
        "  istio:\n",
        "  istio:\n    config: {numTrustedProxies: 2}\n",
    );
    passes_with_steps(d, &["gateway-restart"]);
}

#[test]
fn hand_edits_deleted_and_extra_files_and_a_deleted_lock_are_drift() {
    let dir = mesh_1_24_3();
    let d = dir.path();
    let istiod = "rendered/istio-system/istiod-1-24-3.yaml";
    let drift = |expect_file: &str, kind_words: &str| {
        let (code, report) = check_json(d, &[]);
        assert_eq!(code, 1, "{report}");
        let mp502 = findings(&report, "MP502");
        assert_eq!(mp502.len(), 1, "{report}");
        assert_eq!(mp502[0]["file"], expect_file, "{report}");
        assert_eq!(mp502[0]["line"], 1, "{report}");
        let message = mp502[0]["message"].as_str().unwrap_or("");
        assert!(message.contains(kind_words), "{message}");
        git(d, &["checkout", "-q", "--", "."]);
        git(d, &["clean", "-qfd"]);
        passes_with_steps(d, &[]);
    };

    let text = std::fs::read_to_string(d.join(istiod)).expect("istiod release");
    std::fs::write(
        d.join(istiod),
        text.replacen("spec:", "spec:\n  suspend: true", 1),
    )
    .expect("hand edit");
    drift(istiod, "edited by hand");

    std::fs::remove_file(d.join("rendered/namespaces/podinfo.yaml")).expect("delete");
    drift("rendered/namespaces/podinfo.yaml", "deleted by hand");

    std::fs::write(d.join("rendered/istio-system/notes.yaml"), "a: 1\n").expect("add");
    drift("rendered/istio-system/notes.yaml", "added by hand");

    std::fs::remove_file(d.join("rendered/meshplan.lock")).expect("delete the lock");
    drift("rendered/meshplan.lock", "files meshplan renders remain");

    // The same hand edit together with a config edit of the spec: still drift.
    edit_spec(
        d,
        "  istio:\n",
        "  istio:\n    config: {prometheusMerge: false}\n",
    );
    let text = std::fs::read_to_string(d.join(istiod)).expect("istiod release");
    std::fs::write(d.join(istiod), format!("{text}# tuned by hand\n")).expect("hand edit");
    drift(istiod, "edited by hand");
}

#[test]
fn a_step_render_would_refuse_is_a_finding_of_check() {
    // The reproducer: a mesh on 1.19.10, then a spec asking for 1.22.8 with a
    // `default` revision tag, which the istiod charts before 1.22 are not known to take.
    let dir = upgrade_example();
    let d = dir.path();
    std::fs::remove_dir_all(d.join("rendered")).expect("remove the 1.22.8 render");
    edit_spec(d, "version: 1.26.8", "version: 1.19.10");
    edit_spec(d, "    revisionTags: [default]\n", "");
    edit_spec(d, "maxMinorSkip: 2 ", "maxMinorSkip: 1 ");
    edit_spec(
        d,
        "kubernetesVersion: \"1.30\"",
        "kubernetesVersion: \"1.27\"",
    );
    let (code, out, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{out}{err}");
    edit_spec(d, "version: 1.19.10", "version: 1.22.8");
    edit_spec(
        d,
        "    delivery: flux-helm\n",
        "    delivery: flux-helm\n    revisionTags: [default]\n",
    );

    let (code, report) = check_json(d, &[]);
    assert_eq!(code, 1, "{report}");
    // One finding per hop whose chart cannot take the tag, at the first step that meets it
    // (the tags follow the last wave), at the spec field that asks for the tag.
    let mp108 = findings(&report, "MP108");
    assert_eq!(mp108.len(), 2, "{report}");
    for (f, hop) in mp108.iter().zip(["1.20.8", "1.21.6"]) {
        let message = f["message"].as_str().unwrap_or("");
        assert!(
            message.contains(&format!(
                "cannot be rendered: revision tags (default) on Istio {hop}"
            )),
            "{message}"
        );
        assert_eq!(f["severity"], "deny");
        assert_eq!(f["file"], "meshplan.yaml");
        assert_eq!(f["line"], spec_line(d, "revisionTags:"));
        assert_eq!(f["step"], format!("{hop}: wave main"), "{report}");
    }
    // What check reports is what render refuses when that step's turn comes.
    let (code, _, err) = run(d, &["render", "--step", "3"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot render: revision tags (default) on Istio 1.20.8"),
        "{err}"
    );
    // `--step next` judges only the next step, which renders.
    let (code, report) = check_json(d, &["--step", "next"]);
    assert!(findings(&report, "MP108").is_empty(), "{report}");
    assert_ne!(code, 2, "{report}");
}

/// The upgrade example (1.22.8 → 1.26.8) as a Git repository on `main`.
fn upgrade_repo() -> tempfile::TempDir {
    let dir = upgrade_example();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "Istio 1.22.8"]);
    dir
}

/// Squash-merges `branch` into the checked-out `main`, as a pull request would.
fn squash_merge(d: &Path, branch: &str) {
    git(d, &["merge", "--squash", "-q", branch]);
    git(d, &["commit", "-q", "-m", &format!("Squashed {branch}")]);
}

/// The names of the steps the lock at `rev` records as done.
fn done_steps(d: &Path, rev: &str) -> Vec<String> {
    let text = git(d, &["show", &format!("{rev}:rendered/meshplan.lock")]);
    let lock: Value = serde_saphyr::from_str(&text).expect("lock parses");
    lock["upgrade"]["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .filter(|s| s["done"] == true)
                .map(|s| s["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn commit_after_a_squash_merge_rebuilds_the_branch_from_the_base() {
    const BRANCH: &str = "meshplan/upgrade-demo";
    let dir = upgrade_repo();
    let d = dir.path();
    let (code, out, err) = run(d, &["commit"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("step \"1.24.6: install\""), "{out}");
    let first_tip = git(d, &["rev-parse", BRANCH]);
    squash_merge(d, BRANCH);
    // The squash commit holds the branch's change, yet the branch tip is in no history of
    // main: stacking on it would conflict in meshplan.lock at the next squash merge.
    assert_eq!(git(d, &["diff", "HEAD", BRANCH, "--", "rendered"]), "");
    let ancestor = std::process::Command::new("git")
        .current_dir(d)
        .args(["merge-base", "--is-ancestor", BRANCH, "main"])
        .status()
        .expect("git runs");
    assert!(!ancestor.success());

    let (code, out, err) = run(d, &["commit"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("step \"1.24.6: wave canary\""), "{out}");
    assert!(err.contains("rebuilt from HEAD"), "{err}");
    // One commit on top of main, holding the next step only.
    assert_eq!(
        git(d, &["rev-parse", &format!("{BRANCH}^")]),
        git(d, &["rev-parse", "main"])
    );
    assert_ne!(git(d, &["rev-parse", BRANCH]), first_tip);
    assert_eq!(
        done_steps(d, BRANCH),
        ["1.24.6: install", "1.24.6: wave canary"]
    );
    // The next squash merge applies cleanly, and main's lock reads.
    squash_merge(d, BRANCH);
    assert_eq!(
        done_steps(d, "main"),
        ["1.24.6: install", "1.24.6: wave canary"]
    );
    let (code, out, err) = run(d, &["check"]);
    assert_eq!(code, 0, "{out}{err}");

    // Rebuilt after this merge too; then, without a merge, commit stacks on its own branch
    // as before.
    let (code, out, err) = run(d, &["commit"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("rebuilt from HEAD"), "{err}");
    let (code, out, err) = run(d, &["commit"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("rebuilt"), "{err}");
    assert_eq!(
        git(d, &["rev-parse", &format!("{BRANCH}~2")]),
        git(d, &["rev-parse", "main"])
    );
}

#[test]
fn a_lock_with_conflict_markers_is_invalid_input_at_the_marker() {
    let dir = upgrade_repo();
    let d = dir.path();
    let lock_path = d.join("rendered/meshplan.lock");
    let lock = std::fs::read_to_string(&lock_path).expect("lock");
    assert!(lock.contains("generation: 1\n"), "{lock}");
    git(d, &["checkout", "-q", "-b", "other"]);
    std::fs::write(
        &lock_path,
        lock.replacen("generation: 1\n", "generation: 2\n", 1),
    )
    .expect("edit");
    git(d, &["commit", "-q", "-am", "one side"]);
    git(d, &["checkout", "-q", "main"]);
    std::fs::write(
        &lock_path,
        lock.replacen("generation: 1\n", "generation: 3\n", 1),
    )
    .expect("edit");
    git(d, &["commit", "-q", "-am", "other side"]);
    let merge = std::process::Command::new("git")
        .current_dir(d)
        .args(["-c", "user.name=M", "-c", "user.email=m@example.com"])
        .args(["merge", "-q", "other"])
        .output()
        .expect("git runs");
    assert!(!merge.status.success(), "the merge conflicts");
    let conflicted = std::fs::read_to_string(&lock_path).expect("lock");
    let line = conflicted
        .lines()
        .position(|l| l.starts_with("<<<<<<<"))
        .expect("a conflict marker")
        + 1;
    for command in ["check", "plan"] {
        let (code, out, err) = run(d, &[command]);
        assert_eq!(code, 2, "{command}: {out}{err}");
        assert!(
            err.contains(&format!("meshplan.lock:{line}:")),
            "{command}: {err}"
        );
        assert!(err.contains("conflict markers"), "{command}: {err}");
    }
}
