//! The Argo CD plugin (`plugins/argocd/plugin.yaml`) run the way Argo CD's cmp-server runs
//! it: the revision to sync is a commit of a real Git repository, exported without `.git`
//! (what the repo-server streams to the sidecar), the plugin's `discover.fileName` glob is
//! matched in the Application's source directory, then its `init` and `generate` commands are
//! executed verbatim, without a shell, in that directory, with the build environment Argo CD
//! sets (`ARGOCD_APP_*`), and with the meshplan built by cargo and the real kubectl on `PATH`.
//! A failing command fails manifest generation with its stderr (Argo CD's `CmdError`), and
//! `generate` does not run.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::{copy_tree, git, root, tool};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// One command of the plugin: `command` followed by `args`, as cmp-server concatenates them.
fn command_of(spec: &Value, which: &str) -> Vec<String> {
    let part = |key: &str| -> Vec<String> {
        spec[which][key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let mut argv = part("command");
    argv.extend(part("args"));
    assert!(!argv.is_empty(), "plugin.yaml: {which}.command is empty");
    argv
}

/// The plugin configuration, read from the file the image and the ConfigMap ship.
struct Plugin {
    init: Vec<String>,
    generate: Vec<String>,
    discover: String,
}

fn plugin() -> Plugin {
    let text = std::fs::read_to_string(root().join("plugins/argocd/plugin.yaml")).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(doc["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(doc["kind"], "ConfigManagementPlugin");
    let spec = &doc["spec"];
    Plugin {
        init: command_of(spec, "init"),
        generate: command_of(spec, "generate"),
        discover: spec["discover"]["fileName"].as_str().unwrap().to_string(),
    }
}

/// What Argo CD made of one manifest generation.
#[derive(Debug)]
enum Generation {
    /// The plugin does not handle this source directory.
    NotDiscovered,
    /// A command failed: the message Argo CD puts in the Application's condition.
    Failed(String),
    /// The generated manifests (`generate`'s stdout).
    Manifests(String),
}

/// A GitOps repository holding `examples/argocd-plugin` under `clusters/prod`, one commit.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &root().join("examples/argocd-plugin"),
        &dir.path().join("clusters/prod"),
    );
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["config", "user.name", "Mesh Owner"]);
    git(dir.path(), &["config", "user.email", "owner@example.com"]);
    commit(dir.path(), "the mesh as Argo CD syncs it");
    dir
}

/// Commits everything; returns the commit's SHA.
fn commit(repo: &Path, message: &str) -> String {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", message]);
    git(repo, &["rev-parse", "HEAD"]).trim().to_string()
}

/// A directory whose only entries are `meshplan` (built by cargo) and `kubectl` (the real
/// one), to be the plugin's whole `PATH`: it can run nothing else.
fn sidecar_bin() -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    let meshplan = assert_cmd::cargo::cargo_bin("meshplan");
    std::os::unix::fs::symlink(meshplan, bin.path().join("meshplan")).unwrap();
    std::os::unix::fs::symlink(tool("kubectl"), bin.path().join("kubectl")).unwrap();
    bin
}

/// Runs one plugin command as cmp-server's `runCommand` does: `argv[0]` looked up on `PATH`,
/// the source directory as working directory, the sidecar's plus the build environment.
fn run_command(argv: &[String], dir: &Path, env: &[(String, String)]) -> Result<String, String> {
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap_or_else(|e| panic!("{argv:?} does not start: {e}"));
    let stdout = String::from_utf8(out.stdout).unwrap();
    if out.status.success() {
        Ok(stdout)
    } else {
        // Argo CD's CmdError: "`args` failed exit status N: stderr".
        Err(format!(
            "`{}` failed exit status {}: {}",
            argv.join(" "),
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// One manifest generation of the Application `mesh` (source path `source_path`) at the
/// repository's HEAD, as Argo CD's repo-server and the plugin sidecar perform it.
fn generate(repo: &Path, source_path: &str) -> Generation {
    let plugin = plugin();
    let revision = git(repo, &["rev-parse", "HEAD"]).trim().to_string();
    // The repo-server checks the revision out and streams its files, without .git.
    let checkout = tempfile::tempdir().unwrap();
    let archive = Command::new("git")
        .args(["archive", "--format=tar", &revision])
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(archive.status.success());
    let mut tar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(checkout.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &archive.stdout).unwrap();
    assert!(tar.wait().unwrap().success());
    let app_dir = checkout.path().join(source_path);

    if !discovered(&app_dir, &plugin.discover) {
        return Generation::NotDiscovered;
    }
    let bin = sidecar_bin();
    let home = tempfile::tempdir().unwrap();
    let env: Vec<(String, String)> = [
        ("PATH", bin.path().to_str().unwrap()),
        ("HOME", home.path().to_str().unwrap()),
        ("ARGOCD_APP_NAME", "mesh"),
        ("ARGOCD_APP_NAMESPACE", "argocd"),
        ("ARGOCD_APP_REVISION", &revision),
        ("ARGOCD_APP_REVISION_SHORT", &revision[..7]),
        ("ARGOCD_APP_SOURCE_PATH", source_path),
        (
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/platform/gitops.git",
        ),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main"),
        ("KUBE_VERSION", "1.30.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Err(message) = run_command(&plugin.init, &app_dir, &env) {
        return Generation::Failed(message);
    }
    match run_command(&plugin.generate, &app_dir, &env) {
        Ok(manifests) => Generation::Manifests(manifests),
        Err(message) => Generation::Failed(message),
    }
}

/// `discover.fileName`: a glob (Go's `filepath.Glob`, no `**`) in the source directory.
fn discovered(app_dir: &Path, pattern: &str) -> bool {
    let pattern = pattern.trim_start_matches("./");
    let depth = pattern.split('/').count();
    let glob = globset::Glob::new(pattern).unwrap().compile_matcher();
    walkdir::WalkDir::new(app_dir)
        .min_depth(1)
        .max_depth(depth)
        .into_iter()
        .filter_map(Result::ok)
        .any(|e| glob.is_match(e.path().strip_prefix(app_dir).unwrap()))
}

/// What the real Kustomize builds from the source directory of the repository's HEAD.
fn kustomize(repo: &Path, source_path: &str) -> String {
    let out = Command::new(tool("kubectl"))
        .arg("kustomize")
        .arg(repo.join(source_path))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn manifests(generation: Generation) -> String {
    match generation {
        Generation::Manifests(m) => m,
        other => panic!("expected manifests, got {other:?}"),
    }
}

fn failure(generation: Generation) -> String {
    match generation {
        Generation::Failed(m) => m,
        other => panic!("expected a failed generation, got {other:?}"),
    }
}

/// `(kind, name)` of every generated object.
fn objects(yaml: &str) -> Vec<(String, String)> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).unwrap();
    docs.iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const APP: &str = "clusters/prod";

#[test]
fn plugin_yaml_runs_without_a_shell() {
    let plugin = plugin();
    // Argo CD executes argv directly; the image has no shell to rely on.
    for argv in [&plugin.init, &plugin.generate] {
        assert!(
            !["sh", "bash", "/bin/sh", "/bin/bash"].contains(&argv[0].as_str()),
            "{argv:?}"
        );
    }
    assert_eq!(plugin.init[..2], ["meshplan", "check"]);
    assert_eq!(plugin.discover, "./meshplan.yaml");
}

#[test]
fn the_plugin_handles_directories_with_a_meshplan_yaml_only() {
    let repo = repository();
    assert!(matches!(
        generate(repo.path(), &format!("{APP}/apps/bookinfo")),
        Generation::NotDiscovered
    ));
    assert!(matches!(
        generate(repo.path(), APP),
        Generation::Manifests(_)
    ));
}

/// A safe change (the next step of an upgrade, rendered by meshplan) passes `init`, and
/// `generate` prints exactly what Kustomize builds from that revision.
#[test]
fn a_safe_change_generates_the_kustomize_build() {
    let repo = repository();
    let r = repo.path();
    let synced = manifests(generate(r, APP));
    assert_eq!(synced, kustomize(r, APP), "the committed mesh");
    assert!(objects(&synced).contains(&("Application".into(), "istiod-1-26-8".into())));

    // The upgrade's first step, rendered and committed as `meshplan render` does it.
    let spec = r.join(APP).join("meshplan.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("version: 1.26.8", "version: 1.27.9")).unwrap();
    let (code, _, err) = crate::common::run_in(&r.join(APP), &["render"]);
    assert_eq!(code, 0, "{err}");
    commit(r, "meshplan(argocd-demo): install 1.27.9");

    let synced = manifests(generate(r, APP));
    assert_eq!(synced, kustomize(r, APP), "the install step");
    let objs = objects(&synced);
    for name in ["istiod-1-26-8", "istiod-1-27-9"] {
        assert!(
            objs.contains(&("Application".into(), name.into())),
            "{name} in {objs:?}"
        );
    }
}

/// An unsafe change (a hand edit of meshplan's render, merged around the pull-request check)
/// fails `init` with the finding on stderr, and nothing is generated.
#[test]
fn an_unsafe_change_fails_init_with_the_finding_and_generates_nothing() {
    let repo = repository();
    let r = repo.path();
    let file = r.join(APP).join("rendered/istio-system/istiod-1-26-8.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    // istiod's chart bumped in place under the old revision's name, by hand.
    let edited = text.replace("targetRevision: \"1.26.8\"", "targetRevision: \"1.27.9\"");
    assert_ne!(edited, text);
    std::fs::write(&file, edited).unwrap();
    let sha = commit(r, "bump istiod by hand");

    let message = failure(generate(r, APP));
    let plugin = plugin();
    assert!(
        message.starts_with(&format!(
            "`{}` failed exit status 1: ",
            plugin.init.join(" ")
        )),
        "{message}"
    );
    assert!(message.contains("MP502"), "{message}");
    assert!(
        message.contains("rendered/istio-system/istiod-1-26-8.yaml"),
        "{message}"
    );
    assert!(message.contains("re-run meshplan render"), "{message}");
    // The same revision built by hand still builds: only the gate refused it.
    assert!(!kustomize(r, APP).is_empty());
    assert_eq!(git(r, &["rev-parse", "HEAD"]).trim(), sha);
}

/// A spec that does not parse fails `init` too, with exit 2 and the file and line.
#[test]
fn invalid_input_fails_init_naming_file_and_line() {
    let repo = repository();
    let r = repo.path();
    let spec = r.join(APP).join("meshplan.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace("strategy: revision", "stratgy: revision"),
    )
    .unwrap();
    commit(r, "typo");
    let message = failure(generate(r, APP));
    assert!(message.contains("failed exit status 2: "), "{message}");
    assert!(message.contains("meshplan.yaml"), "{message}");
    assert!(message.contains("stratgy"), "{message}");
}

/// The example's Application validates against Argo CD's real CRD and names the plugin as
/// Argo CD expects it: `<metadata.name>-<spec.version>`.
#[test]
fn the_example_application_names_the_plugin() {
    use meshplan::render::schema::{Checked, check};
    let text =
        std::fs::read_to_string(root().join("examples/argocd-plugin/application.yaml")).unwrap();
    let app: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(check(&app).unwrap(), Checked::Valid);
    let plugin_text = std::fs::read_to_string(root().join("plugins/argocd/plugin.yaml")).unwrap();
    let plugin: Value = serde_saphyr::from_str(&plugin_text).unwrap();
    let name = format!(
        "{}-{}",
        plugin["metadata"]["name"].as_str().unwrap(),
        plugin["spec"]["version"].as_str().unwrap()
    );
    assert_eq!(app["spec"]["source"]["plugin"]["name"], name.as_str());
    assert_eq!(app["spec"]["source"]["path"], APP);
}
