//! Retiring the adopted install (`tests/fixtures/adopt/flux`): the cleanup step deletes
//! exactly the user's istiod HelmRelease document (`installedBy`) from
//! `apps/istio/releases.yaml`, every other byte unchanged, in the commit or render of that
//! step; a document meshplan may not or cannot cut exactly is a manual action instead.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::{check_json, copy_tree, findings, root, run_in as run};
use serde_json::Value;
use std::path::Path;

const RELEASES: &str = "apps/istio/releases.yaml";

/// The fixture's istiod document starts at this `---` marker and runs to the end of the file.
const ISTIOD: &str =
    "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: istiod\n";

/// A copy of the fixture in a fresh temporary directory.
fn running() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/adopt/flux"), dir.path());
    dir
}

/// Runs git in `dir` with no global or system configuration; panics with its stderr.
fn git(dir: &Path, args: &[&str]) -> String {
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

/// The `manual` list of the plan's step named `name`.
fn manual_of(d: &Path, name: &str) -> Vec<String> {
    let (code, out, err) = run(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    let step = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {plan}"));
    step["manual"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_cleanup_commit_deletes_exactly_the_adopted_istiod_document() {
    let dir = running();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "user.name", "Mesh Owner"]);
    git(d, &["config", "user.email", "owner@example.com"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "Istio 1.24.6 as installed"]);
    let before = std::fs::read_to_string(d.join(RELEASES)).unwrap();
    let cut = before.find(ISTIOD).expect("the fixture's istiod document");
    let expected = &before[..cut];
    assert!(expected.contains("name: istio-base"), "{expected}");

    let (code, _, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{err}");
    assert!(manual_of(d, "cleanup").is_empty());
    let mut merged = 0;
    let mut retired_in = Vec::new();
    loop {
        // Only the MP105 on the committed sidecar is forced, as in tests/adopt.rs.
        let (mut code, mut out, mut err) = run(d, &["commit"]);
        if code == 1 {
            assert!(
                err.lines()
                    .chain(out.lines())
                    .filter(|l| l.starts_with("deny["))
                    .all(|l| l.starts_with("deny[MP105]")),
                "{out}{err}"
            );
            (code, out, err) = run(d, &["commit", "--force"]);
        }
        assert_eq!(code, 0, "{out}{err}");
        if out.starts_with("nothing to commit") {
            break;
        }
        merged += 1;
        assert!(merged < 20, "the plan never ends: {out}");
        if merged == 1 {
            std::fs::remove_file(d.join("rendered/meshplan.lock")).unwrap();
        }
        git(d, &["merge", "-q", "--ff-only", "meshplan/running"]);
        let changes = git(d, &["show", "--name-status", "--format=", "main"]);
        let outside: Vec<&str> = changes
            .lines()
            .filter(|l| !l.contains("\trendered/"))
            .collect();
        if !outside.is_empty() {
            assert_eq!(outside, [format!("M\t{RELEASES}")], "{changes}");
            retired_in.push(git(d, &["log", "-1", "--format=%B", "main"]));
        }
    }
    assert_eq!(retired_in.len(), 1, "one commit retires the install");
    let message = &retired_in[0];
    assert!(message.contains(": cleanup ("), "{message}");
    assert!(
        message.contains(&format!(
            "Adopted install deleted:\n- HelmRelease/istio-system/istiod ({RELEASES})\n"
        )),
        "{message}"
    );
    assert!(!message.contains("Manual actions"), "{message}");
    // Every other byte of the file is what the user wrote: the base release, its comments
    // and separators.
    let committed = git(d, &["show", &format!("main:{RELEASES}")]);
    assert_eq!(committed, expected);
    assert_eq!(std::fs::read_to_string(d.join(RELEASES)).unwrap(), expected);
    let done: Value =
        serde_saphyr::from_str(&git(d, &["show", "main:rendered/meshplan.lock"])).unwrap();
    assert_eq!(done["revisions"].as_array().unwrap().len(), 1, "{done}");
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP207").is_empty(), "{report}");
    git(d, &["fsck", "--strict", "--no-progress"]);
}

/// Adopts, then renders every step with `--force` (the committed sidecar's MP105); returns
/// the stderr of all renders.
fn render_all(d: &Path) -> String {
    let (code, _, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{err}");
    let mut all = String::new();
    for _ in 0..10 {
        let (code, out, err) = run(d, &["render", "--force"]);
        assert_eq!(code, 0, "{out}{err}");
        all.push_str(&err);
        if out.starts_with("nothing to render") {
            return all;
        }
    }
    panic!("the plan never ends")
}

#[test]
fn render_retires_the_install_in_the_working_tree() {
    let dir = running();
    let d = dir.path();
    let before = std::fs::read_to_string(d.join(RELEASES)).unwrap();
    let cut = before.find(ISTIOD).unwrap();
    let err = render_all(d);
    assert!(!err.contains("manual action"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join(RELEASES)).unwrap(),
        &before[..cut]
    );
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP207").is_empty(), "{report}");
}

#[test]
fn a_symlinked_file_is_a_manual_action_and_stays_untouched() {
    let dir = running();
    let d = dir.path();
    std::fs::create_dir_all(d.join("vendor")).unwrap();
    std::fs::rename(d.join(RELEASES), d.join("vendor/releases.yaml")).unwrap();
    std::os::unix::fs::symlink("../../vendor/releases.yaml", d.join(RELEASES)).unwrap();
    let before = std::fs::read(d.join("vendor/releases.yaml")).unwrap();
    let (code, _, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{err}");
    let manual = manual_of(d, "cleanup");
    assert_eq!(
        manual,
        [format!(
            "delete HelmRelease/istio-system/istiod from {RELEASES} by hand: `{RELEASES}` is a \
             symlink, which meshplan never writes through"
        )]
    );
    std::fs::remove_file(d.join("rendered/meshplan.lock")).unwrap();
    let err = render_all(d);
    assert!(
        err.contains(&format!("manual action: {}", manual[0])),
        "{err}"
    );
    assert_eq!(
        std::fs::read(d.join("vendor/releases.yaml")).unwrap(),
        before
    );
    assert!(
        std::fs::symlink_metadata(d.join(RELEASES))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_document_that_cannot_be_cut_exactly_is_a_manual_action() {
    let dir = running();
    let d = dir.path();
    // A `---` marker carrying a comment is valid YAML, but meshplan cuts only at bare
    // markers: it leaves the file to the user rather than guess where the document starts.
    let path = d.join(RELEASES);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("---\napiVersion", "--- # the control plane\napiVersion");
    std::fs::write(&path, &text).unwrap();
    let err = render_all(d);
    assert!(
        err.contains(&format!(
            "manual action: delete HelmRelease/istio-system/istiod from {RELEASES} by hand: a \
             document marker with content"
        )),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}
