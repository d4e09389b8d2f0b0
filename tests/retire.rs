//! Retiring the adopted install (`tests/fixtures/adopt/flux`): the cleanup step deletes
//! exactly the user's istiod HelmRelease document (`installedBy`) from
//! `apps/istio/releases.yaml`, every other byte unchanged, in the commit or render of that
//! step; a document meshplan may not or cannot cut exactly is a manual action instead.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::{check_json, copy_tree, findings, git, root, run_in as run};
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

/// A Git repository of the fixture on `main`, adopted, every step committed with `meshplan
/// commit` and merged into main as a pull request would be (`tests/adopt_walk.rs`: the
/// committed sidecar re-injected when the cleanup asks for it, never `--force`); returns
/// for each merged step the `git show --name-status` lines outside `rendered/` and the
/// commit message.
fn commit_all(d: &Path) -> Vec<(Vec<String>, String)> {
    crate::adopt_walk::init_repo(d);
    let (merged, _) = crate::adopt_walk::walk(d);
    merged
        .iter()
        .map(|m| {
            let outside = m.outside().into_iter().map(str::to_string).collect();
            (outside, m.message.clone())
        })
        .collect()
}

/// The cleanup's changes outside `rendered/` and its message; it lists no manual action.
fn retiring(merged: &[(Vec<String>, String)]) -> (Vec<String>, String) {
    let retiring: Vec<_> = merged
        .iter()
        .filter(|(_, m)| m.contains(": cleanup ("))
        .collect();
    assert_eq!(retiring.len(), 1, "one cleanup: {merged:?}");
    let (outside, message) = retiring[0].clone();
    assert!(!message.contains("Manual actions"), "{message}");
    (outside, message)
}

/// A document of the user's after the istiod one, with its own comment: it must survive
/// every cut byte for byte.
const KEPT: &str = "---\n# notes of the platform team\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mesh-notes\n  namespace: istio-system\ndata:\n  owner: platform\n";

/// Appends [`KEPT`] to the fixture's releases file; returns the file's text.
fn with_kept(d: &Path) -> String {
    let mut text = std::fs::read_to_string(d.join(RELEASES)).unwrap();
    text.push_str(KEPT);
    std::fs::write(d.join(RELEASES), &text).unwrap();
    text
}

#[test]
fn the_cleanup_commit_deletes_exactly_the_adopted_istiod_document() {
    let dir = running();
    let d = dir.path();
    let before = with_kept(d);
    assert!(
        before.find(ISTIOD).is_some(),
        "the fixture's istiod document"
    );
    let merged = commit_all(d);
    assert!(merged.len() >= 3, "install, wave, cleanup: {merged:?}");
    // The install took the base release over (tests/adopt_walk.rs); the cleanup deletes
    // the istiod document: what is left is the user's other document, byte for byte.
    let expected = KEPT;
    let (outside, message) = retiring(&merged);
    assert_eq!(outside, [format!("M\t{RELEASES}")]);
    assert!(
        message.contains(&format!(
            "Adopted install deleted:\n- HelmRelease/istio-system/istiod ({RELEASES})\n"
        )),
        "{message}"
    );
    // Every other byte of the file is what the user wrote: the document, its comment and
    // its separator.
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

#[test]
fn a_file_left_without_documents_is_deleted_by_the_commit() {
    let dir = running();
    let d = dir.path();
    // The user keeps istiod in a file of its own.
    let text = std::fs::read_to_string(d.join(RELEASES)).unwrap();
    let cut = text.find(ISTIOD).unwrap();
    std::fs::write(d.join(RELEASES), &text[..cut]).unwrap();
    std::fs::write(d.join("apps/istio/istiod.yaml"), &text[cut..]).unwrap();
    let merged = commit_all(d);
    let (outside, _) = retiring(&merged);
    assert_eq!(outside, ["D\tapps/istio/istiod.yaml"]);
    assert!(!d.join("apps/istio/istiod.yaml").exists());
    // The base release, alone in its file, went with the install's takeover.
    assert!(!d.join(RELEASES).exists());
    assert!(
        merged[0].0.contains(&format!("D\t{RELEASES}")),
        "{merged:?}"
    );
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP207").is_empty(), "{report}");
    git(d, &["fsck", "--strict", "--no-progress"]);
}

/// Adopts (unless a lock exists), then renders every step left with `--force` (the committed
/// sidecar's MP105); returns the stderr of all renders.
fn render_all(d: &Path) -> String {
    if !d.join("rendered/meshplan.lock").exists() {
        let (code, _, err) = run(d, &["adopt"]);
        assert_eq!(code, 0, "{err}");
    }
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
    let before = with_kept(d);
    let cut = before.find(ISTIOD).unwrap();
    let (code, _, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{err}");
    // install, then the wave: the install takes the base release over (its document goes,
    // with the comment above it), then the user's file is untouched until the cleanup.
    for _ in 0..2 {
        let (code, out, err) = run(d, &["render"]);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            std::fs::read_to_string(d.join(RELEASES)).unwrap(),
            &before[cut..]
        );
    }
    // `diff` of the cleanup shows the deletion (no Git repository: plain files).
    let (code, out, err) = run(d, &["diff"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("--- a/{RELEASES}\n+++ b/{RELEASES}\n")),
        "{out}"
    );
    assert!(out.contains("\n-  name: istiod\n"), "{out}");
    let err = render_all(d);
    assert!(!err.contains("manual action"), "{err}");
    assert_eq!(std::fs::read_to_string(d.join(RELEASES)).unwrap(), KEPT);
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
    // The install's takeover of the base release meets the same symlink.
    assert_eq!(
        manual_of(d, "install"),
        [format!(
            "delete HelmRelease/istio-system/istio-base from {RELEASES} (meshplan's render takes \
             it over under the same name) by hand: `{RELEASES}` is a symlink, which meshplan \
             never writes through"
        )]
    );
    std::fs::remove_file(d.join("rendered/meshplan.lock")).unwrap();
    let err = render_all(d);
    assert!(
        err.contains(&format!("manual action: {}", manual[0])),
        "{err}"
    );
    // A manual action is no workload: the lock records none by that name.
    let lock = std::fs::read_to_string(d.join("rendered/meshplan.lock")).unwrap();
    assert!(!lock.contains("by hand"), "{lock}");
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

#[test]
fn a_rendered_install_is_a_manual_action_and_stays_untouched() {
    // `helm template` output committed as it is (as in tests/adopt.rs): deleting the
    // istiod Deployment alone would leave the rest of that install behind.
    let dir = running();
    let d = dir.path();
    std::fs::remove_dir_all(d.join("apps/istio")).unwrap();
    std::fs::create_dir_all(d.join("apps/istio")).unwrap();
    let rendered = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istiod\n  namespace: istio-system\n  labels: {app: istiod, istio.io/rev: default}\nspec:\n  selector: {matchLabels: {app: istiod}}\n  template:\n    metadata: {labels: {app: istiod}}\n    spec:\n      containers:\n        - name: discovery\n          image: docker.io/istio/pilot:1.24.6\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata:\n  name: istio-sidecar-injector\n  labels: {istio.io/rev: default}\nwebhooks: []\n";
    std::fs::write(d.join("apps/istio/istiod.yaml"), rendered).unwrap();
    let err = render_all(d);
    assert!(
        err.contains(
            "manual action: delete Deployment/istio-system/istiod from apps/istio/istiod.yaml \
             by hand: it is one object of a rendered install"
        ),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("apps/istio/istiod.yaml")).unwrap(),
        rendered
    );
}

#[test]
fn an_istio_operator_alone_in_its_file_is_deleted_with_the_file() {
    let dir = running();
    let d = dir.path();
    std::fs::remove_dir_all(d.join("apps/istio")).unwrap();
    std::fs::create_dir_all(d.join("apps/istio")).unwrap();
    let operator = d.join("apps/istio/operator.yaml");
    std::fs::write(
        &operator,
        "# the mesh as istioctl installs it\napiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: control-plane\n  namespace: istio-system\nspec:\n  profile: default\n  revision: 1-24-6\n  tag: 1.24.6\n",
    )
    .unwrap();
    let err = render_all(d);
    assert!(!err.contains("manual action: delete"), "{err}");
    // What is left to do is in the cluster: Helm must own the CRDs the operator installed.
    assert!(
        err.contains("manual action: before this pull request merges, let Helm adopt"),
        "{err}"
    );
    assert!(!operator.exists());
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP207").is_empty(), "{report}");
}
