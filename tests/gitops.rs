//! The GitOps flow end to end through the CLI, on copies of `examples/bookinfo` (Istio 1.26.8)
//! in temporary directories: `render` step by step on a new cluster, then an upgrade to 1.28
//! committed step by step with `commit` on a real Git repository, checked with the `git`
//! command line (`log`, trailers, `show --stat`, `status`, `fsck --strict`); the MP502 drift
//! check; `diff --exit-code`; and a deny finding that refuses `render` and `commit`.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::{TODAY, check_json, findings, git, root, run_in as run};
use std::path::Path;
use std::process::Command;

const CLUSTER: &str = "bookinfo-demo";
const BRANCH: &str = "meshplan/bookinfo-demo";

/// A copy of examples/bookinfo (spec and manifests) in a fresh temporary directory.
fn bookinfo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("examples/bookinfo");
    std::fs::copy(src.join("meshplan.yaml"), dir.path().join("meshplan.yaml")).unwrap();
    std::fs::create_dir_all(dir.path().join("apps/bookinfo")).unwrap();
    std::fs::copy(
        src.join("apps/bookinfo/bookinfo.yaml"),
        dir.path().join("apps/bookinfo/bookinfo.yaml"),
    )
    .unwrap();
    dir
}

/// `bookinfo()` as a Git repository on `main` with one commit and a local identity.
fn bookinfo_repo() -> tempfile::TempDir {
    let dir = bookinfo();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Mesh Owner"]);
    git(root, &["config", "user.email", "owner@example.com"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "bookinfo on Istio 1.26.8"]);
    dir
}

/// The lock as JSON.
fn lock(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap()
}

fn read_lock(dir: &Path) -> serde_json::Value {
    lock(&std::fs::read_to_string(dir.join("rendered/meshplan.lock")).unwrap())
}

/// The plan's step names, as `plan --format json` lists them.
fn steps(dir: &Path) -> Vec<(String, bool)> {
    let (code, out, err) = run(dir, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["done"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Installed revisions of a lock, as `name=version`.
fn revisions(lock: &serde_json::Value) -> Vec<String> {
    lock["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}={}",
                r["name"].as_str().unwrap(),
                r["version"].as_str().unwrap()
            )
        })
        .collect()
}

/// Sets the spec's Istio version (and allows a two-minor canary hop).
fn upgrade_spec(dir: &Path, version: &str) {
    let path = dir.join("meshplan.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("version: 1.26.8", &format!("version: {version}"))
        .replace(
            "strategy: revision\n",
            "strategy: revision\n    maxMinorSkip: 2\n",
        );
    assert!(text.contains(version) && text.contains("maxMinorSkip: 2"));
    std::fs::write(path, text).unwrap();
}

#[test]
fn render_step_by_step_until_the_plan_is_done() {
    let dir = bookinfo();
    let d = dir.path();
    let plan = steps(d);
    assert!(plan.len() >= 2, "a new cluster has several steps: {plan:?}");
    for (i, (name, done)) in plan.iter().enumerate() {
        assert!(!done);
        let (code, out, err) = run(d, &["render"]);
        assert_eq!(code, 0, "render {name}: {err}");
        assert_eq!(
            out,
            format!(
                "rendered step \"{name}\" ({}/{}) into rendered/\n",
                i + 1,
                plan.len()
            )
        );
        let lock = read_lock(d);
        assert_eq!(lock["cluster"], CLUSTER);
        // The install step puts the revision in; every later step keeps it.
        assert_eq!(revisions(&lock), ["1-26-8=1.26.8"], "after {name}");
        assert!(d.join("rendered/kustomization.yaml").is_file());
        // Nothing drifted: check agrees with what render wrote.
        let (code, report) = check_json(d);
        assert!(
            findings(&report, "MP502").is_empty(),
            "after {name}: {report}"
        );
        assert_eq!(code, 0, "{report}");
    }
    let done = read_lock(d);
    assert!(done.get("upgrade").is_none(), "the plan is done: {done}");
    // The mesh namespace is labelled with the revision; the default tag points at it.
    assert_eq!(done["namespaces"]["bookinfo"], "1-26-8");
    assert_eq!(done["tags"]["default"], "1-26-8");
    let ns = std::fs::read_to_string(d.join("rendered/namespaces/bookinfo.yaml")).unwrap();
    assert!(
        ns.contains("istio.io/rev: \"1-26-8\"") && ns.contains("mesh: enabled"),
        "{ns}"
    );
    // The wave restarted every injected Deployment once: one patch each, generation 1.
    let restarts: Vec<_> = std::fs::read_dir(d.join("rendered/restarts/bookinfo"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(restarts.len(), 6);
    assert!(
        restarts
            .iter()
            .all(|p| p.contains("meshplan.dev/restarted-for: \"1-26-8.1\"")),
        "{restarts:?}"
    );
    let before = std::fs::read(d.join("rendered/meshplan.lock")).unwrap();
    let (code, out, _) = run(d, &["render"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "nothing to render: the plan is done\n")
    );
    assert_eq!(
        std::fs::read(d.join("rendered/meshplan.lock")).unwrap(),
        before
    );
}

#[test]
fn render_step_numbers_are_checked() {
    let dir = bookinfo();
    let d = dir.path();
    let total = steps(d).len();
    let (code, _, err) = run(d, &["render", "--step", &(total + 1).to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("the plan has {total} steps")),
        "{err}"
    );
    assert!(!d.join("rendered").exists());
    // N must not be done already.
    let (code, out, err) = run(d, &["render", "--step", "1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("rendered step \"install\" (1/{total}) into rendered/\n")
    );
    let (code, _, err) = run(d, &["render", "--step", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("step \"install\" is already done"), "{err}");
    let (code, out, _) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("({total}/{total}) into rendered/")),
        "{out}"
    );
    assert!(read_lock(d).get("upgrade").is_none());
    let (code, _, err) = run(d, &["render", "--step", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("the plan is done"), "{err}");
    // N applies every remaining step up to N in one change.
    let fresh = bookinfo();
    let (code, out, err) = run(fresh.path(), &["render", "--step", &total.to_string()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("rendered steps \"install\" to \"wave main\" (1-{total}/{total}) into rendered/\n")
    );
    assert_eq!(
        std::fs::read(fresh.path().join("rendered/meshplan.lock")).unwrap(),
        std::fs::read(d.join("rendered/meshplan.lock")).unwrap(),
        "one step at a time or all at once, the same lock"
    );
}

#[test]
fn check_reports_hand_edits_of_rendered_files_as_mp502() {
    let dir = bookinfo();
    let d = dir.path();
    assert_eq!(run(d, &["render", "--step", "all"]).0, 0);
    let file = d.join("rendered/namespaces/bookinfo.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, original.replace("mesh: enabled", "mesh: disabled")).unwrap();
    std::fs::write(d.join("rendered/notes.txt"), "hand-written\n").unwrap();
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mp502: Vec<(&str, &str, u64)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "MP502")
        .map(|d| {
            (
                d["file"].as_str().unwrap(),
                d["severity"].as_str().unwrap(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        mp502,
        [
            ("rendered/namespaces/bookinfo.yaml", "deny", 1),
            ("rendered/notes.txt", "deny", 1)
        ]
    );
    // Text output names the file and the rule's hint.
    let (code, text, _) = run(d, &["check"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("MP502") && text.contains("re-run meshplan render or revert the edit"));
    // A deleted rendered file drifts too.
    std::fs::write(&file, &original).unwrap();
    std::fs::remove_file(d.join("rendered/notes.txt")).unwrap();
    let kustomization = d.join("rendered/kustomization.yaml");
    let kept = std::fs::read(&kustomization).unwrap();
    std::fs::remove_file(&kustomization).unwrap();
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("rendered/kustomization.yaml is missing"),
        "{out}"
    );
    // Reverted: quiet again.
    std::fs::write(&kustomization, kept).unwrap();
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("MP502"));
}

#[test]
fn diff_exit_code_before_and_after_render() {
    let dir = bookinfo_repo();
    let d = dir.path();
    let (code, out, _) = run(d, &["diff", "--exit-code"]);
    assert_eq!(code, 1);
    assert!(out.contains("+++ b/rendered/meshplan.lock"), "{out}");
    let (code, stat, _) = run(d, &["diff", "--stat"]);
    assert_eq!(code, 0, "without --exit-code differences are not a failure");
    assert!(stat.contains("rendered/kustomization.yaml"), "{stat}");
    // After the first step the next one is still pending: diff shows it.
    assert_eq!(run(d, &["render"]).0, 0);
    let (code, out, _) = run(d, &["diff", "--exit-code"]);
    assert_eq!(code, 1);
    assert!(out.contains("rendered/namespaces/bookinfo.yaml"), "{out}");
    // Once the plan is done, diff compares what spec and lock render: nothing.
    assert_eq!(run(d, &["render"]).0, 0);
    let (code, out, _) = run(d, &["diff", "--exit-code"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.is_empty());
    // Against HEAD the render is new until it is committed.
    assert_eq!(run(d, &["diff", "--against", "HEAD", "--exit-code"]).0, 1);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "install and wave main"]);
    assert_eq!(run(d, &["diff", "--against", "HEAD", "--exit-code"]).0, 0);
    // A hand edit shows as a difference.
    let ns = d.join("rendered/namespaces/bookinfo.yaml");
    let text = std::fs::read_to_string(&ns).unwrap();
    std::fs::write(&ns, text.replace("mesh: enabled", "mesh: off")).unwrap();
    let (code, out, _) = run(d, &["diff", "--exit-code"]);
    assert_eq!(code, 1);
    assert!(
        out.lines()
            .any(|l| l.starts_with('-') && l.ends_with("mesh: off")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with('+') && l.ends_with("mesh: enabled")),
        "{out}"
    );
    assert_eq!(run(d, &["diff", "--against", "HEAD", "--exit-code"]).0, 0);
    let (code, _, err) = run(d, &["diff", "--against", "no-such-ref"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn diff_outside_a_repository_compares_files_and_refuses_against() {
    let dir = bookinfo();
    let d = dir.path();
    if git2::Repository::discover(d).is_ok() {
        return; // the temporary directory lies inside a repository on this machine
    }
    assert_eq!(run(d, &["diff", "--exit-code"]).0, 1);
    assert_eq!(run(d, &["render", "--step", "all"]).0, 0);
    assert_eq!(run(d, &["diff", "--exit-code"]).0, 0);
    std::fs::write(d.join("rendered/extra.yaml"), "a: 1\n").unwrap();
    let (code, out, _) = run(d, &["diff", "--exit-code"]);
    assert_eq!(code, 1);
    assert!(out.contains("rendered/extra.yaml"), "{out}");
    let (code, _, err) = run(d, &["diff", "--against", "HEAD"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a git repository"), "{err}");
}

#[test]
fn commit_an_upgrade_step_by_step_on_the_cluster_branch() {
    let dir = bookinfo_repo();
    let d = dir.path();
    // The cluster runs 1.26.8: its whole render is on main.
    assert_eq!(run(d, &["render", "--step", "all"]).0, 0);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "deploy 1.26.8"]);
    upgrade_spec(d, "1.28.10");
    git(d, &["commit", "-q", "-am", "upgrade to 1.28.10"]);
    let main_tip = git(d, &["rev-parse", "main"]);
    let status = git(d, &["status", "--porcelain"]);
    let plan = steps(d);
    assert!(plan.len() >= 4, "install, wave, gateway, cleanup: {plan:?}");
    for (i, (name, _)) in plan.iter().enumerate() {
        let n = format!("({}/{})", i + 1, plan.len());
        let (code, out, err) = run(d, &["commit"]);
        assert_eq!(code, 0, "commit {name}: {err}");
        assert!(
            out.starts_with(&format!("committed step \"{name}\" {n} on {BRANCH} as ")),
            "{out}"
        );
        let subject = git(d, &["log", "-1", "--format=%s", BRANCH]);
        assert_eq!(subject.trim(), format!("meshplan({CLUSTER}): {name} {n}"));
        let trailers = git(d, &["log", "-1", "--format=%(trailers)", BRANCH]);
        assert!(
            trailers.contains(&format!("Meshplan-Step: {name}\n")),
            "{trailers}"
        );
        assert!(
            trailers.contains("Meshplan-From: 1.26.8\nMeshplan-To: 1.28.10"),
            "{trailers}"
        );
        let stat = git(d, &["show", "--stat", "--format=", BRANCH]);
        assert!(stat.contains("rendered/meshplan.lock"), "{stat}");
        // The checkout and main are untouched.
        assert_eq!(git(d, &["status", "--porcelain"]), status);
        assert_eq!(git(d, &["rev-parse", "main"]), main_tip);
        assert_eq!(
            git(d, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
            "main"
        );
    }
    assert_eq!(
        git(d, &["rev-list", "--count", &format!("main..{BRANCH}")]).trim(),
        plan.len().to_string()
    );
    let tip = git(d, &["rev-parse", BRANCH]);
    let lock_text = git(d, &["show", &format!("{BRANCH}:rendered/meshplan.lock")]);
    let done = lock(&lock_text);
    assert_eq!(revisions(&done), ["1-28-10=1.28.10"]);
    assert_eq!(done["tags"]["default"], "1-28-10");
    assert!(done.get("upgrade").is_none(), "{done}");
    // Again: nothing left, no commit.
    let (code, out, _) = run(d, &["commit"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("nothing to commit"), "{out}");
    assert_eq!(git(d, &["rev-parse", BRANCH]), tip);
    git(d, &["fsck", "--strict", "--no-progress"]);
    // The branch's render is what spec and lock describe: no drift once checked out.
    git(d, &["checkout", "-q", BRANCH]);
    let (code, report) = check_json(d);
    assert!(findings(&report, "MP502").is_empty(), "{report}");
    assert_eq!(code, 0, "{report}");
}

#[test]
fn commit_worktree_message_and_author() {
    let dir = bookinfo_repo();
    let d = dir.path();
    let (code, out, err) = run(d, &["commit", "--branch", "main", "--worktree"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("committed step"), "{out}");
    // main now holds the first step, the checkout too; the next commit is the next step.
    assert_eq!(git(d, &["status", "--porcelain"]), "");
    let tip = git(d, &["rev-parse", "main"]);
    // A custom message and author are used as given.
    let (code, _, err) = run(
        d,
        &[
            "commit",
            "--message",
            "step two",
            "--author",
            "Bot <bot@example.com>",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        git(d, &["log", "-1", "--format=%s|%an <%ae>", BRANCH]).trim(),
        "step two|Bot <bot@example.com>"
    );
    assert_eq!(git(d, &["rev-parse", "main"]), tip);
    let (code, _, err) = run(d, &["commit", "--author", "nobody"]);
    assert_eq!(code, 2, "{err}");
}

/// A Deployment with three replicas and no PodDisruptionBudget: MP301 (deny).
const UNGUARDED: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
  namespace: bookinfo
spec:
  replicas: 3
  selector:
    matchLabels: {app: cart}
  template:
    metadata:
      labels: {app: cart}
    spec:
      containers:
        - name: cart
          image: docker.io/example/cart:1.0
          readinessProbe:
            httpGet: {path: /healthz, port: 8080}
";

#[test]
fn deny_findings_refuse_render_and_commit_unless_forced() {
    let dir = bookinfo_repo();
    let d = dir.path();
    std::fs::write(d.join("apps/bookinfo/cart.yaml"), UNGUARDED).unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "cart"]);
    let (code, out, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("MP301") && err.contains("cart"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert!(out.is_empty());
    assert!(!d.join("rendered").exists());
    let (code, _, err) = run(d, &["commit", "--step", "all"]);
    assert_eq!(code, 1, "{err}");
    assert!(git(d, &["branch", "--list", BRANCH]).is_empty());
    let (code, _, err) = run(d, &["commit", "--step", "all", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("MP301"), "{err}");
    // One commit for both steps, named by the first and the last.
    assert_eq!(
        git(d, &["log", "-1", "--format=%s", BRANCH]).trim(),
        format!("meshplan({CLUSTER}): install .. wave main (2/2)")
    );
    let (code, out, _) = run(d, &["render", "--step", "all", "--force"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("rendered steps"), "{out}");
    assert!(d.join("rendered/meshplan.lock").is_file());
}

#[test]
fn a_symlinked_output_directory_is_refused_not_followed() {
    let dir = bookinfo_repo();
    let d = dir.path();
    std::fs::create_dir(d.join("elsewhere")).unwrap();
    std::fs::write(d.join("elsewhere/keep.yaml"), "a: 1\n").unwrap();
    std::os::unix::fs::symlink("elsewhere", d.join("rendered")).unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "symlinked output"]);
    let (code, _, err) = run(d, &["commit", "--step", "all"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rendered"), "{err}");
    assert!(git(d, &["branch", "--list", BRANCH]).is_empty());
    let (code, _, err) = run(d, &["diff"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("elsewhere/keep.yaml")).unwrap(),
        "a: 1\n"
    );
}

#[test]
fn check_judges_drift_by_the_digests_of_what_render_wrote() {
    let dir = bookinfo();
    let d = dir.path();
    // Templates of our own: the traffic Service gets an extra annotation.
    let charts = d.join("charts");
    for sub in ["common", "flux-helm", "argocd-helm", "istio-operator"] {
        let src = root().join("charts").join(sub);
        std::fs::create_dir_all(charts.join(sub)).unwrap();
        for entry in std::fs::read_dir(&src).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), charts.join(sub).join(entry.file_name())).unwrap();
        }
    }
    let service = charts.join("common/service.yaml.j2");
    let text = std::fs::read_to_string(&service).unwrap();
    let text = text.replace(
        "  labels: {{ labels }}\n",
        "  labels: {{ labels }}\n  annotations: {owner: platform-team}\n",
    );
    assert!(text.contains("owner: platform-team"));
    std::fs::write(&service, text).unwrap();
    let (code, _, err) = run(d, &["render", "--step", "all", "--charts", "charts"]);
    assert_eq!(code, 0, "{err}");
    let rendered =
        std::fs::read_to_string(d.join("rendered/istio-ingress/ingress-service.yaml")).unwrap();
    assert!(rendered.contains("owner: platform-team"), "{rendered}");
    // The lock records the digests of what was written: whatever charts check has, the
    // files are what meshplan rendered, so nothing drifts (a newer meshplan that renders a
    // byte differently is no hand edit either).
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("MP502"), "{out}");
    // A lock written before digests existed: check re-renders it, so the charts matter.
    let lock_path = d.join("rendered/meshplan.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    let at = lock.find("\nfiles:\n").expect("the lock records digests") + 1;
    std::fs::write(&lock_path, &lock[..at]).unwrap();
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("rendered/istio-ingress/ingress-service.yaml differs"),
        "{out}"
    );
    let (code, out, _) = run(d, &["check", "--format", "json", "--charts", "charts"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("MP502"));
    let (code, _, err) = run(d, &["check", "--charts", "no-such-dir"]);
    assert_eq!(code, 2, "{err}");
}

/// The restart patches are a Kustomize Component: a kustomization above the app's that
/// includes it gets every injected Deployment's pod template annotated, checked with the
/// real Kustomize.
#[test]
fn rendered_restart_component_applies_to_the_apps_own_build() {
    let dir = bookinfo();
    let d = dir.path();
    loop {
        let (code, out, err) = run(d, &["render"]);
        assert_eq!(code, 0, "{err}");
        if out.starts_with("nothing to render") {
            break;
        }
    }
    std::fs::write(
        d.join("apps/bookinfo/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: bookinfo\nresources: [bookinfo.yaml]\n",
    )
    .unwrap();
    // The patches name the namespace: the component goes where the objects already carry
    // it, one level above the kustomization that sets it (docs/render.md).
    std::fs::write(
        d.join("apps/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [bookinfo]\ncomponents: [../rendered/restarts]\n",
    )
    .unwrap();
    let out = std::process::Command::new(crate::common::tool("kubectl"))
        .args(["kustomize"])
        .arg(d.join("apps"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let deployments: Vec<&serde_json::Value> =
        built.iter().filter(|o| o["kind"] == "Deployment").collect();
    assert_eq!(deployments.len(), 6);
    for dep in deployments {
        assert_eq!(
            dep["spec"]["template"]["metadata"]["annotations"]["meshplan.dev/restarted-for"],
            "1-26-8.1",
            "{}",
            dep["metadata"]["name"]
        );
    }
    // The root of the output builds on its own, without the workloads.
    let out = std::process::Command::new(crate::common::tool("kubectl"))
        .args(["kustomize"])
        .arg(d.join("rendered"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `meshplan commit` processes racing on the same branch (four per round), many rounds: the branch only
/// ever moves by compare-and-swap, so every reported success is on the branch, no commit is
/// lost or overwritten, the loser says why, and the repository stays valid.
#[test]
fn concurrent_commit_processes_never_lose_a_commit() {
    let dir = bookinfo_repo();
    let d = dir.path();
    assert_eq!(run(d, &["render", "--step", "all"]).0, 0);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "deploy 1.26.8"]);
    upgrade_spec(d, "1.28.10");
    git(d, &["commit", "-q", "-am", "upgrade to 1.28.10"]);
    let total = steps(d).len();
    let mut successes = Vec::new();
    let mut refused = 0;
    for _round in 0..total + 2 {
        let spawn = || {
            let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("meshplan"));
            cmd.current_dir(d)
                .args(["commit", "--today", TODAY])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        };
        // Four at once on two cores, so that they really overlap.
        let children: Vec<_> = (0..4).map(|_| spawn()).collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            match out.status.code() {
                Some(0) if stdout.starts_with("committed") => {
                    // "committed step ... on <branch> as <sha> (N files changed)"
                    let after_as = stdout.rsplit(" as ").next().unwrap();
                    let sha = after_as.split_whitespace().next().unwrap().to_string();
                    successes.push(sha);
                }
                Some(0) => assert!(stdout.starts_with("nothing to commit"), "{stdout}"),
                // The loser of a race: refused, nothing written, and it says so.
                Some(2) => {
                    assert!(
                        stderr.contains("moved") || stderr.contains("lock"),
                        "{stderr}"
                    );
                    refused += 1;
                }
                other => panic!("commit exited {other:?}: {stdout}{stderr}"),
            }
        }
    }
    // Every success is on the branch, and the branch holds exactly the successes. Two
    // processes that commit the same step in the same second write the same object (same
    // tree, parent, message, identity and time), so they report one commit between them.
    successes.sort();
    successes.dedup();
    let count = git(d, &["rev-list", "--count", &format!("main..{BRANCH}")]);
    assert_eq!(
        count.trim(),
        successes.len().to_string(),
        "successes {successes:?}\nbranch:\n{}",
        git(d, &["log", "--format=%h %p %s", &format!("main..{BRANCH}")])
    );
    assert_eq!(successes.len(), total, "every step committed exactly once");
    for sha in &successes {
        let code = std::process::Command::new("git")
            .current_dir(d)
            .args(["merge-base", "--is-ancestor", sha, BRANCH])
            .status()
            .unwrap();
        assert!(code.success(), "{sha} was lost");
    }
    git(d, &["fsck", "--strict", "--no-progress"]);
    // How often the processes really collided depends on timing; shown, not asserted.
    eprintln!("{} commits, {refused} refused races", successes.len());
}

/// The upgrade example as a repository: `meshplan commit` run step after step commits each
/// of the ten steps on the cluster branch, each commit changing exactly what its step
/// should; once done, `commit` makes no commit, and the checkout was never touched.
#[test]
fn commit_the_upgrade_example_step_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "user.name", "Mesh Owner"]);
    git(d, &["config", "user.email", "owner@example.com"]);
    git(d, &["add", "-A"]);
    git(
        d,
        &["commit", "-q", "-m", "running 1.22.8, asking for 1.26.8"],
    );
    let status = git(d, &["status", "--porcelain"]);
    let branch = "meshplan/upgrade-demo";
    let plan = steps(d);
    assert_eq!(plan.len(), 10, "{plan:?}");
    for (i, (name, _)) in plan.iter().enumerate() {
        let (code, out, err) = run(d, &["commit"]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(
            out.starts_with(&format!("committed step \"{name}\" ({}/10)", i + 1)),
            "{out}"
        );
        let changed = git(d, &["show", "--name-status", "--format=", branch]);
        let (hop, kind) = name.split_once(": ").unwrap();
        let new = format!("1-{}", hop.trim_start_matches("1.").replace('.', "-"));
        // Every step moves the lock on; each kind changes its own files.
        assert!(
            changed.contains("M\trendered/meshplan.lock"),
            "{name}: {changed}"
        );
        match kind {
            "install" => assert!(
                changed.contains(&format!("A\trendered/istio-system/istiod-{new}.yaml")),
                "{name}: {changed}"
            ),
            "wave canary" => assert!(
                changed.contains("rendered/restarts/podinfo/deployment-podinfo.yaml"),
                "{name}: {changed}"
            ),
            "wave main" => assert!(
                changed.contains("rendered/namespaces/bookinfo.yaml"),
                "{name}: {changed}"
            ),
            "gateway" => assert!(
                changed.contains("M\trendered/istio-ingress/ingress-service.yaml"),
                "{name}: {changed}"
            ),
            "cleanup" => assert!(
                changed
                    .lines()
                    .any(|l| l.starts_with("D\trendered/istio-system/istiod-")),
                "{name}: {changed}"
            ),
            other => panic!("unexpected step {other}"),
        }
        assert_eq!(
            git(d, &["status", "--porcelain"]),
            status,
            "checkout untouched"
        );
    }
    let tip = git(d, &["rev-parse", branch]);
    let (code, out, _) = run(d, &["commit"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("nothing to commit"), "{out}");
    assert_eq!(git(d, &["rev-parse", branch]), tip);
    assert_eq!(
        git(d, &["rev-list", "--count", &format!("main..{branch}")]).trim(),
        "10"
    );
    git(d, &["fsck", "--strict", "--no-progress"]);
}
