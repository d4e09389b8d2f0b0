//! Issue #17, "Safety": one regression test per reproduced finding of the hostile-input
//! campaign (items 1–13), on copies of `examples/bookinfo` in real Git repositories. Each
//! asserts the rule behind the finding, so the next variant is covered too: meshplan never
//! writes outside the repository or over its inputs, never reads through a symlink out of
//! it, never prints a Secret, and never answers user input with exit 3.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

pub(crate) use crate::common::git;
use crate::common::{root, run_in as run};
use std::path::{Path, PathBuf};

/// A temporary directory holding `outside/victim` and `repo/`: a Git repository (one commit
/// on `main`) with a copy of examples/bookinfo whose `spec.output` is `output`.
pub(crate) struct Sandbox {
    _dir: tempfile::TempDir,
    pub top: PathBuf,
    pub repo: PathBuf,
}

pub(crate) fn sandbox(output: &str) -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().canonicalize().unwrap();
    let repo = top.join("repo");
    std::fs::create_dir_all(repo.join("apps/bookinfo")).unwrap();
    std::fs::create_dir_all(top.join("outside")).unwrap();
    std::fs::write(top.join("outside/victim"), "must survive\n").unwrap();
    let src = root().join("examples/bookinfo");
    let spec = std::fs::read_to_string(src.join("meshplan.yaml")).unwrap();
    let spec = spec.replace("output: rendered", &format!("output: {output:?}"));
    std::fs::write(repo.join("meshplan.yaml"), spec).unwrap();
    std::fs::copy(
        src.join("apps/bookinfo/bookinfo.yaml"),
        repo.join("apps/bookinfo/bookinfo.yaml"),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Mesh Owner"]);
    git(&repo, &["config", "user.email", "owner@example.com"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "bookinfo"]);
    Sandbox {
        _dir: dir,
        top,
        repo,
    }
}

/// The line of `spec.output` in the sandbox's spec, as `meshplan.yaml:LINE`.
fn output_line(repo: &Path) -> String {
    let text = std::fs::read_to_string(repo.join("meshplan.yaml")).unwrap();
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("output:"))
        .unwrap();
    format!("meshplan.yaml:{}:", line + 1)
}

/// Every command that writes the render refuses the sandbox's output: exit 2 at the
/// `spec.output` line.
fn assert_output_refused(s: &Sandbox, why: &str) {
    let at = output_line(&s.repo);
    for args in [
        &["render"][..],
        &["render", "--step", "all", "--force"],
        &["diff"],
        &["commit", "--force"],
        &["check"],
    ] {
        let (code, out, err) = run(&s.repo, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(&at), "{args:?}: expected {at}: {err}");
        assert!(err.contains(why), "{args:?}: expected {why:?}: {err}");
    }
    assert_eq!(
        std::fs::read_to_string(s.top.join("outside/victim")).unwrap(),
        "must survive\n"
    );
    assert!(git(&s.repo, &["branch", "--list", "meshplan/*"]).is_empty());
    git(&s.repo, &["fsck", "--strict", "--no-progress"]);
    assert_eq!(git(&s.repo, &["status", "--porcelain"]), "");
}

#[test]
fn item01_output_into_dot_git_is_refused_and_the_repository_survives() {
    for output in [".git", ".git/objects", "./.git/refs/", "sub/.GIT"] {
        let s = sandbox(output);
        assert_output_refused(&s, ".git");
        assert!(git(&s.repo, &["log", "--oneline"]).contains("bookinfo"));
    }
}

#[test]
fn item02_output_through_a_symlink_is_refused() {
    let s = sandbox("link/victim");
    std::os::unix::fs::symlink("../outside", s.repo.join("link")).unwrap();
    git(&s.repo, &["add", "link"]);
    git(&s.repo, &["commit", "-q", "-m", "link"]);
    assert_output_refused(&s, "symlink");
    // A link inside the repository is refused too: any component, wherever it points.
    let s = sandbox("out/rendered");
    std::fs::create_dir(s.repo.join("real")).unwrap();
    std::fs::write(s.repo.join("real/keep"), "x\n").unwrap();
    std::os::unix::fs::symlink("real", s.repo.join("out")).unwrap();
    git(&s.repo, &["add", "-A"]);
    git(&s.repo, &["commit", "-q", "-m", "link"]);
    assert_output_refused(&s, "symlink");
}

#[test]
fn item03_output_holding_inputs_or_the_root_is_refused() {
    for (output, why) in [
        ("apps", "holds `apps/bookinfo/bookinfo.yaml`"),
        ("apps/bookinfo", "holds"),
        (".", "repository root"),
        ("./", "repository root"),
        ("meshplan.yaml", "is a file"),
        ("../outside", ".."),
        ("/tmp/x", "absolute"),
    ] {
        let s = sandbox(output);
        assert_output_refused(&s, why);
        // Nothing staged beside the repository either.
        let mut names: Vec<String> = std::fs::read_dir(&s.top)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["outside", "repo"], "{output}");
    }
}

#[test]
fn render_out_is_checked_like_spec_output() {
    let s = sandbox("rendered");
    for (out, why) in [(".git", ".git"), ("apps", "holds"), ("/tmp/x", "absolute")] {
        let (code, _, err) = run(&s.repo, &["render", "--out", out]);
        assert_eq!(code, 2, "{out}: {err}");
        assert!(err.contains("--out") && err.contains(why), "{out}: {err}");
    }
    let (code, out, err) = run(&s.repo, &["render", "--out", "preview"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(s.repo.join("preview/meshplan.lock").is_file());
}

#[test]
fn report_files_never_go_into_git_or_over_an_input() {
    let s = sandbox("rendered");
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("report.json");
    let (code, _, err) = run(
        &s.repo,
        &[
            "check",
            "--format",
            "json",
            "--output",
            outside.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(outside.is_file(), "a CI temp directory is a normal place");
    for target in [
        ".git/HEAD",
        ".git/report.json",
        "apps/bookinfo/bookinfo.yaml",
        "meshplan.yaml",
    ] {
        let before = std::fs::read(s.repo.join(target)).ok();
        let (code, _, err) = run(&s.repo, &["check", "--format", "json", "--output", target]);
        assert_eq!(code, 2, "{target}: {err}");
        assert!(err.contains("--output"), "{target}: {err}");
        assert_eq!(std::fs::read(s.repo.join(target)).ok(), before, "{target}");
        // `--report FORMAT=FILE` goes through the same guard.
        let report = format!("sarif={target}");
        let (code, _, err) = run(&s.repo, &["check", "--report", &report]);
        assert_eq!(code, 2, "{target}: {err}");
        assert!(err.contains("--report"), "{target}: {err}");
        assert_eq!(std::fs::read(s.repo.join(target)).ok(), before, "{target}");
    }
    git(&s.repo, &["fsck", "--strict", "--no-progress"]);
}

/// Renders the next step into `rendered/`, exit 0.
pub(crate) fn render_next(repo: &Path) {
    let (code, out, err) = run(repo, &["render"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn item04_a_symlink_under_output_is_never_followed() {
    let s = sandbox("rendered");
    render_next(&s.repo);
    std::fs::write(
        s.top.join("outside/env"),
        "CI_TOKEN=ghp_example_secret_value\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(s.top.join("outside/env"), s.repo.join("rendered/env.yaml"))
        .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", s.repo.join("rendered/passwd.yaml")).unwrap();
    for format in ["text", "json", "sarif", "junit", "github", "markdown"] {
        let (code, out, err) = run(&s.repo, &["check", "--format", format]);
        assert_eq!(code, 1, "{format}: {err}");
        assert!(
            out.contains("MP502"),
            "{format}: drift is still reported: {out}"
        );
        assert!(
            !out.contains("ghp_example") && !err.contains("ghp_example"),
            "{format}: {out}"
        );
        assert!(!out.contains("root:x:0"), "{format}: {out}");
    }
    // A lock that is a symlink out of the repository is not read either.
    std::fs::remove_file(s.repo.join("rendered/meshplan.lock")).unwrap();
    std::os::unix::fs::symlink(
        s.top.join("outside/env"),
        s.repo.join("rendered/meshplan.lock"),
    )
    .unwrap();
    let (code, out, err) = run(&s.repo, &["check"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("meshplan.lock") && !err.contains("ghp_example"),
        "{err}"
    );
}

#[test]
fn item13_text_output_is_linear_in_a_one_line_input() {
    let s = sandbox("rendered");
    let items: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"web-{i}","namespace":"bookinfo","labels":{{"padding":"{pad}"}}}},"spec":{{"replicas":2,"selector":{{"matchLabels":{{"app":"web-{i}"}}}},"template":{{"metadata":{{"labels":{{"app":"web-{i}"}}}},"spec":{{"containers":[{{"name":"web","image":"nginx:1.27"}}]}}}}}}}}"#,
                pad = "p".repeat(400)
            )
        })
        .collect();
    let list = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{}]}}"#,
        items.join(",")
    );
    assert!(list.len() > 600_000 && !list.contains('\n'));
    std::fs::write(s.repo.join("apps/bookinfo/list.yaml"), format!("{list}\n")).unwrap();
    let (code, out, err) = run(&s.repo, &["check", "--format", "text"]);
    assert_eq!(code, 1, "{err}");
    let quoted = out.matches("apps/bookinfo/list.yaml:1").count();
    assert!(quoted >= 1000, "every Deployment has its finding: {quoted}");
    // Each finding quotes a window of the line, never the whole line: the report grows
    // with the number of findings, not with findings × line length.
    assert!(out.len() < 4 * 1024 * 1024, "{} bytes of report", out.len());
    assert!(
        out.lines().all(|l| l.len() < 1000),
        "a long line was quoted whole"
    );
    // No wall-clock assertion (tests do not time; `benches/` does): the cost was the whole
    // line handed to the snippet renderer per finding, and `report::source`'s unit test
    // `long_lines_are_windowed` pins that only a window of it is ever handed over.
}

#[test]
fn commit_worktree_writes_the_files_before_the_branch_moves() {
    let s = sandbox("rendered");
    // An ignored directory where the render puts a file: the write fails mid-way.
    std::fs::create_dir_all(s.repo.join("rendered/kustomization.yaml")).unwrap();
    std::fs::write(s.repo.join("rendered/kustomization.yaml/keep"), "x\n").unwrap();
    std::fs::write(s.repo.join(".gitignore"), "/rendered/kustomization.yaml/\n").unwrap();
    git(&s.repo, &["add", ".gitignore"]);
    git(&s.repo, &["commit", "-q", "-m", "ignore"]);
    let tip = git(&s.repo, &["rev-parse", "main"]);
    let (code, out, err) = run(
        &s.repo,
        &["commit", "--branch", "main", "--worktree", "--force"],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("rendered/kustomization.yaml"), "{err}");
    assert!(err.contains("nothing was committed"), "{err}");
    assert_eq!(
        git(&s.repo, &["rev-parse", "main"]),
        tip,
        "the branch did not move"
    );
    assert_eq!(
        git(&s.repo, &["status", "--porcelain"]),
        "",
        "the checkout is as it was"
    );
    let left: Vec<_> = walkdir::WalkDir::new(s.repo.join("rendered"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().to_path_buf())
        .collect();
    assert_eq!(left, [s.repo.join("rendered/kustomization.yaml/keep")]);
    // Once the obstacle is gone the same command commits and updates the checkout.
    std::fs::remove_dir_all(s.repo.join("rendered")).unwrap();
    let (code, out, err) = run(
        &s.repo,
        &["commit", "--branch", "main", "--worktree", "--force"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_ne!(git(&s.repo, &["rev-parse", "main"]), tip);
    assert_eq!(git(&s.repo, &["status", "--porcelain"]), "");
}
