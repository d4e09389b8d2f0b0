//! The Git stage on real repositories in temporary directories: repositories are made and
//! inspected with the `git` command line, so every result is checked by Git itself (`fsck
//! --strict`, `log`, `show`, `status`, `apply`, `diff --stat`), not only by libgit2.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};

use meshplan::git::{
    CommitOptions, CommitOutcome, GitError, Identity, MessageInput, Tree, commit_message,
    commit_tree, diff_ref, diff_worktree, render_stat, render_unified,
};

use crate::common::shared_data;

const OUT: &str = "clusters/prod/istio";
const BRANCH: &str = "meshplan/prod";

/// Runs git in `dir` with no global or system configuration; panics with its stderr.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_output(dir, args);
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git_output(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs")
}

fn corpus(file: &str) -> Vec<u8> {
    std::fs::read(shared_data().join("corpus").join(file)).expect("corpus file")
}

fn write(root: &Path, rel: &str, data: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, data).expect("write");
}

/// A repository on `main` with one commit: an app manifest, a README and an old render.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Repo Owner"]);
    git(root, &["config", "user.email", "owner@example.com"]);
    write(root, "README.md", b"# fleet\n");
    write(
        root,
        "apps/bookinfo/details.yaml",
        &corpus("istio-samples/bookinfo/platform/kube/bookinfo-details.yaml"),
    );
    write(
        root,
        &format!("{OUT}/old-revision.yaml"),
        b"kind: HelmRelease\nname: istiod-1-23-4\n",
    );
    write(root, &format!("{OUT}/keep.yaml"), b"kind: Namespace\n");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "initial"]);
    dir
}

fn tree(entries: &[(&str, &[u8])]) -> Tree {
    entries
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_vec()))
        .collect()
}

fn render_v1() -> Tree {
    tree(&[
        (
            &format!("{OUT}/istiod.yaml"),
            &corpus("istio-samples/bookinfo/platform/kube/bookinfo-ratings.yaml"),
        ),
        (&format!("{OUT}/keep.yaml"), b"kind: Namespace\n"),
        ("meshplan.lock", b"version: 1\nstep: install\n"),
    ])
}

fn opts(tree: Tree, message: &str) -> CommitOptions {
    CommitOptions {
        branch: BRANCH.into(),
        out_dir: OUT.into(),
        tree,
        removed: Vec::new(),
        message: message.into(),
        author: None,
        worktree: false,
        planned_from: None,
        base: None,
    }
}

fn committed(outcome: CommitOutcome) -> (git2::Oid, Option<git2::Oid>, bool) {
    match outcome {
        CommitOutcome::Committed {
            commit,
            parent,
            created,
            ..
        } => (commit, parent, created),
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn index_bytes(root: &Path) -> Vec<u8> {
    std::fs::read(root.join(".git/index")).expect("index")
}

fn fsck(root: &Path) {
    let out = git_output(root, &["fsck", "--strict", "--no-dangling"]);
    assert!(
        out.status.success(),
        "fsck: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "fsck: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn first_commit_creates_branch_in_memory() {
    let dir = repo();
    let root = dir.path();
    write(root, "README.md", b"# fleet (edited, uncommitted)\n");
    write(root, "notes.txt", b"untracked\n");
    let status = git(root, &["status", "--porcelain"]);
    let index = index_bytes(root);
    let main = git(root, &["rev-parse", "main"]).trim().to_string();

    let (commit, parent, created) =
        committed(commit_tree(root, &opts(render_v1(), "install")).unwrap());
    assert!(created);
    assert_eq!(parent.map(|p| p.to_string()), Some(main.clone()));
    assert_eq!(git(root, &["rev-parse", BRANCH]).trim(), commit.to_string());
    assert_eq!(
        git(root, &["rev-parse", &format!("{BRANCH}^")]).trim(),
        main
    );
    let files = git(root, &["ls-tree", "-r", "--name-only", BRANCH]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "README.md",
            "apps/bookinfo/details.yaml",
            "clusters/prod/istio/istiod.yaml",
            "clusters/prod/istio/keep.yaml",
            "meshplan.lock",
        ]
    );
    assert_eq!(
        git(root, &["show", &format!("{BRANCH}:{OUT}/istiod.yaml")]).as_bytes(),
        corpus("istio-samples/bookinfo/platform/kube/bookinfo-ratings.yaml")
    );
    // The committed README is main's, not the uncommitted edit.
    assert_eq!(
        git(root, &["show", &format!("{BRANCH}:README.md")]),
        "# fleet\n"
    );
    assert_eq!(
        git(
            root,
            &["log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", BRANCH]
        )
        .trim(),
        "Repo Owner <owner@example.com>|Repo Owner <owner@example.com>|install"
    );
    let ratings = corpus("istio-samples/bookinfo/platform/kube/bookinfo-ratings.yaml");
    let n = ratings.iter().filter(|&&b| b == b'\n').count();
    let stat = git(root, &["show", "--stat=80", "--format=", BRANCH]);
    let lines: Vec<&str> = stat.lines().collect();
    assert_eq!(lines.len(), 4, "{stat}");
    assert!(
        lines[0].starts_with(&format!(" clusters/prod/istio/istiod.yaml       | {n} +++")),
        "{stat}"
    );
    assert_eq!(lines[1], " clusters/prod/istio/old-revision.yaml |  2 --");
    assert_eq!(lines[2], " meshplan.lock                         |  2 ++");
    assert_eq!(
        lines[3],
        format!(" 3 files changed, {} insertions(+), 2 deletions(-)", n + 2)
    );
    // The raw objects, as Git reads them: one parent, the configured identity, plain files.
    let raw = git(root, &["cat-file", "-p", &commit.to_string()]);
    let lines: Vec<&str> = raw.lines().collect();
    assert!(lines[0].starts_with("tree "), "{raw}");
    assert_eq!(lines[1], format!("parent {main}"));
    assert!(
        lines[2].starts_with("author Repo Owner <owner@example.com> "),
        "{raw}"
    );
    assert!(
        lines[3].starts_with("committer Repo Owner <owner@example.com> "),
        "{raw}"
    );
    assert_eq!(&lines[4..], ["", "install"]);
    let listing = git(root, &["cat-file", "-p", &format!("{BRANCH}:{OUT}")]);
    let modes: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert_eq!(modes, ["100644", "100644"], "{listing}");
    // Working tree, index and HEAD are exactly as before.
    assert_eq!(git(root, &["status", "--porcelain"]), status);
    assert_eq!(index_bytes(root), index);
    assert_eq!(
        git(root, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/main"
    );
    assert!(!root.join(OUT).join("istiod.yaml").exists());
    fsck(root);
}

#[test]
fn second_commit_modifies_and_removes() {
    let dir = repo();
    let root = dir.path();
    let (first, _, _) = committed(commit_tree(root, &opts(render_v1(), "install")).unwrap());
    let mut v2 = render_v1();
    v2.remove(&format!("{OUT}/keep.yaml"));
    v2.insert(
        format!("{OUT}/istiod.yaml"),
        b"kind: HelmRelease\nname: istiod-1-24-3\n".to_vec(),
    );
    v2.insert(
        "meshplan.lock".into(),
        b"version: 1\nstep: wave canary\n".to_vec(),
    );
    let (second, parent, created) = committed(commit_tree(root, &opts(v2, "wave canary")).unwrap());
    assert!(!created);
    assert_eq!(parent, Some(first));
    assert_eq!(
        git(
            root,
            &[
                "diff",
                "--name-status",
                &first.to_string(),
                &second.to_string()
            ]
        ),
        "M\tclusters/prod/istio/istiod.yaml\nD\tclusters/prod/istio/keep.yaml\nM\tmeshplan.lock\n"
    );
    assert_eq!(git(root, &["rev-list", "--count", BRANCH]).trim(), "3");
    // Files outside out_dir that the render does not name are kept.
    assert!(
        git(root, &["ls-tree", "-r", "--name-only", BRANCH]).contains("apps/bookinfo/details.yaml")
    );
    fsck(root);
}

#[test]
fn unchanged_render_makes_no_commit() {
    let dir = repo();
    let root = dir.path();
    let (first, _, _) = committed(commit_tree(root, &opts(render_v1(), "install")).unwrap());
    let again = commit_tree(root, &opts(render_v1(), "install again")).unwrap();
    assert_eq!(
        again,
        CommitOutcome::Unchanged {
            branch: BRANCH.into(),
            tip: Some(first)
        }
    );
    assert_eq!(git(root, &["rev-parse", BRANCH]).trim(), first.to_string());

    // A render equal to what HEAD holds neither commits nor creates the branch.
    let same_as_main = tree(&[
        (
            &format!("{OUT}/old-revision.yaml"),
            b"kind: HelmRelease\nname: istiod-1-23-4\n",
        ),
        (&format!("{OUT}/keep.yaml"), b"kind: Namespace\n"),
    ]);
    let mut o = opts(same_as_main, "noop");
    o.branch = "meshplan/other".into();
    assert!(matches!(
        commit_tree(root, &o).unwrap(),
        CommitOutcome::Unchanged { .. }
    ));
    assert!(
        !git_output(root, &["rev-parse", "--verify", "-q", "meshplan/other"])
            .status
            .success()
    );
}

#[test]
fn message_trailers_and_author_override() {
    let dir = repo();
    let root = dir.path();
    let namespaces = ["shop".to_string(), "bookinfo".to_string()];
    let restarted = ["Deployment/bookinfo/reviews-v1".to_string()];
    let manual = ["Job/shop/migrate".to_string()];
    let message = commit_message(&MessageInput {
        cluster: "prod-eu-1",
        step: "wave canary",
        n: 2,
        total: 4,
        hop: "1.24.3",
        namespaces: &namespaces,
        released: &[],
        restarted: &restarted,
        manual: &manual,
        from: "1.23.4",
        to: "1.24.3",
        deleted: &[],
        taken_over: &[],
        actions: &[],
        operator_deletes: &[],
    });
    let mut o = opts(render_v1(), &message);
    o.author = Identity::parse("Release Bot <bot@example.com>");
    committed(commit_tree(root, &o).unwrap());
    assert_eq!(
        git(root, &["log", "-1", "--format=%an <%ae>|%cn <%ce>", BRANCH]).trim(),
        "Release Bot <bot@example.com>|Repo Owner <owner@example.com>"
    );
    assert_eq!(
        git(root, &["log", "-1", "--format=%s", BRANCH]).trim(),
        "meshplan(prod-eu-1): wave canary (2/4)"
    );
    let trailers = git(
        root,
        &["log", "-1", "--format=%(trailers:only,unfold)", BRANCH],
    );
    assert_eq!(
        trailers.trim(),
        "Meshplan-Step: wave canary\nMeshplan-From: 1.23.4\nMeshplan-To: 1.24.3"
    );
    let body = git(root, &["log", "-1", "--format=%b", BRANCH]);
    assert!(
        body.contains("Namespaces moved:\n- bookinfo\n- shop\n"),
        "{body}"
    );
    assert!(body.contains("- Job/shop/migrate\n"), "{body}");
    fsck(root);
}

#[test]
fn refuses_bare_repository() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "--bare"]);
    let err = commit_tree(dir.path(), &opts(render_v1(), "x")).unwrap_err();
    assert!(matches!(err, GitError::BareRepository { .. }), "{err}");
}

#[test]
fn refuses_non_repository() {
    let dir = tempfile::tempdir().unwrap();
    let err = commit_tree(dir.path(), &opts(render_v1(), "x")).unwrap_err();
    assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
    let err = diff_ref(dir.path(), "HEAD", OUT, &render_v1()).unwrap_err();
    assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
}

/// A repository where `main` and `topic` change the same line of README.md.
fn diverged() -> tempfile::TempDir {
    let dir = repo();
    let root = dir.path();
    git(root, &["checkout", "-q", "-b", "topic"]);
    write(root, "README.md", b"# topic\n");
    git(root, &["commit", "-q", "-am", "topic"]);
    git(root, &["checkout", "-q", "main"]);
    write(root, "README.md", b"# main\n");
    git(root, &["commit", "-q", "-am", "main"]);
    dir
}

#[test]
fn refuses_merge_in_progress() {
    let dir = diverged();
    let root = dir.path();
    assert!(
        !git_output(root, &["merge", "topic"]).status.success(),
        "the merge conflicts"
    );
    let err = commit_tree(root, &opts(render_v1(), "x")).unwrap_err();
    assert!(
        matches!(&err, GitError::OperationInProgress { state, .. } if state == "merge"),
        "{err}"
    );
    assert!(err.to_string().contains("a merge is in progress"), "{err}");
}

#[test]
fn refuses_rebase_in_progress() {
    let dir = diverged();
    let root = dir.path();
    assert!(
        !git_output(root, &["rebase", "topic"]).status.success(),
        "the rebase conflicts"
    );
    let err = commit_tree(root, &opts(render_v1(), "x")).unwrap_err();
    assert!(
        matches!(&err, GitError::OperationInProgress { state, .. } if state == "rebase"),
        "{err}"
    );
}

#[test]
fn detached_head_only_refuses_a_new_branch() {
    let dir = repo();
    let root = dir.path();
    git(root, &["branch", "existing"]);
    git(root, &["checkout", "-q", "--detach"]);
    let err = commit_tree(root, &opts(render_v1(), "x")).unwrap_err();
    assert!(matches!(err, GitError::DetachedHead { .. }), "{err}");
    let mut o = opts(render_v1(), "onto an existing branch");
    o.branch = "existing".into();
    let (_, parent, created) = committed(commit_tree(root, &o).unwrap());
    assert!(!created && parent.is_some());
    fsck(root);
}

#[test]
fn refuses_out_dir_outside_the_repository() {
    let dir = repo();
    let root = dir.path();
    for bad in ["../x", "/etc", "clusters/../../x"] {
        let mut o = opts(Tree::new(), "x");
        o.out_dir = bad.into();
        let err = commit_tree(root, &o).unwrap_err();
        assert!(matches!(err, GitError::OutDir { .. }), "{bad}: {err}");
    }
}

#[test]
fn refuses_out_dir_through_a_symlink() {
    let dir = repo();
    let root = dir.path();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("clusters/linked")).unwrap();
    let t = tree(&[("clusters/linked/istio/a.yaml", b"a: 1\n")]);
    let mut o = opts(t.clone(), "x");
    o.out_dir = "clusters/linked/istio".into();
    let err = commit_tree(root, &o).unwrap_err();
    assert!(
        err.to_string().contains("symlink in the working tree"),
        "{err}"
    );
    let err = diff_worktree(root, "clusters/linked/istio", &t).unwrap_err();
    assert!(err.to_string().contains("symlink"), "{err}");

    // Committed as a symlink, then removed from the working tree: the base commit refuses.
    git(root, &["add", "clusters/linked"]);
    git(root, &["commit", "-q", "-m", "link"]);
    std::fs::remove_file(root.join("clusters/linked")).unwrap();
    let err = commit_tree(root, &o).unwrap_err();
    assert!(
        err.to_string().contains("symlink in the base commit"),
        "{err}"
    );
    assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
}

#[test]
fn refuses_missing_identity_unless_author_given() {
    let dir = repo();
    let root = dir.path();
    // Empty repository-level values hide any global identity, as unset ones would.
    git(root, &["config", "user.name", ""]);
    git(root, &["config", "user.email", ""]);
    let objects = git(root, &["count-objects", "-v"]);
    let err = commit_tree(root, &opts(render_v1(), "x")).unwrap_err();
    assert!(matches!(err, GitError::NoIdentity { .. }), "{err}");
    assert_eq!(
        git(root, &["count-objects", "-v"]),
        objects,
        "no object written"
    );
    assert!(
        git_output(root, &["rev-parse", "--verify", "-q", BRANCH])
            .stdout
            .is_empty()
    );

    let mut o = opts(render_v1(), "x");
    o.author = Identity::parse("Release Bot <bot@example.com>");
    committed(commit_tree(root, &o).unwrap());
    assert_eq!(
        git(root, &["log", "-1", "--format=%an <%ae>|%cn <%ce>", BRANCH]).trim(),
        "Release Bot <bot@example.com>|Release Bot <bot@example.com>"
    );
}

#[test]
fn refuses_bad_branch_and_empty_message() {
    let dir = repo();
    let mut o = opts(render_v1(), "x");
    o.branch = "bad..name".into();
    let err = commit_tree(dir.path(), &o).unwrap_err();
    assert!(matches!(err, GitError::InvalidBranch { .. }), "{err}");
    let err = commit_tree(dir.path(), &opts(render_v1(), "  \n\n")).unwrap_err();
    assert!(matches!(err, GitError::EmptyMessage), "{err}");
}

#[test]
fn first_commit_in_an_empty_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Repo Owner"]);
    git(root, &["config", "user.email", "owner@example.com"]);
    let (_, parent, created) = committed(commit_tree(root, &opts(render_v1(), "install")).unwrap());
    assert!(created && parent.is_none());
    assert_eq!(git(root, &["rev-list", "--count", BRANCH]).trim(), "1");
    fsck(root);
}

#[test]
fn concurrent_commits_never_lose_one() {
    const ROUNDS: usize = 20;
    let dir = repo();
    let root: PathBuf = dir.path().to_path_buf();
    committed(commit_tree(&root, &opts(render_v1(), "base")).unwrap());
    let base_count: usize = git(&root, &["rev-list", "--count", BRANCH])
        .trim()
        .parse()
        .unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let workers: Vec<_> = (0..2)
        .map(|t| {
            let (root, barrier) = (root.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut wins = Vec::new();
                let mut losses = Vec::new();
                for round in 0..ROUNDS {
                    let render = tree(&[(
                        &format!("{OUT}/writer-{t}.yaml"),
                        format!("round: {round}\n").as_bytes(),
                    )]);
                    let message = format!("writer {t} round {round}");
                    barrier.wait();
                    match commit_tree(&root, &opts(render, &message)) {
                        Ok(CommitOutcome::Committed { commit, .. }) => wins.push(commit),
                        Ok(other) => panic!("unexpected {other:?}"),
                        Err(e @ (GitError::BranchMoved { .. } | GitError::BranchLocked { .. })) => {
                            losses.push(e.to_string())
                        }
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
                (wins, losses)
            })
        })
        .collect();
    let mut wins = Vec::new();
    let mut losses = Vec::new();
    for w in workers {
        let (w, l) = w.join().expect("worker");
        wins.extend(w);
        losses.extend(l);
    }
    assert_eq!(wins.len() + losses.len(), 2 * ROUNDS);
    assert!(
        wins.len() >= ROUNDS,
        "each round has a winner: {} wins",
        wins.len()
    );
    let count: usize = git(&root, &["rev-list", "--count", BRANCH])
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        count - base_count,
        wins.len(),
        "every success is on the branch, once"
    );
    for win in &wins {
        let out = git_output(
            &root,
            &["merge-base", "--is-ancestor", &win.to_string(), BRANCH],
        );
        assert!(out.status.success(), "{win} is not on {BRANCH}");
    }
    for loss in &losses {
        assert!(
            loss.contains("nothing was written"),
            "a lost race says so: {loss}"
        );
    }
    fsck(&root);
}

#[test]
fn refuses_the_checked_out_branch_without_worktree() {
    let dir = repo();
    let root = dir.path();
    let mut o = opts(render_v1(), "x");
    o.branch = "main".into();
    let err = commit_tree(root, &o).unwrap_err();
    assert!(matches!(err, GitError::BranchCheckedOut { .. }), "{err}");
    assert_eq!(git(root, &["rev-list", "--count", "main"]).trim(), "1");
}

#[test]
fn locked_branch_fails_and_writes_nothing() {
    let dir = repo();
    let root = dir.path();
    let (first, _, _) = committed(commit_tree(root, &opts(render_v1(), "install")).unwrap());
    // What another git process holds while it updates the branch.
    let lock = root.join(".git/refs/heads/meshplan/prod.lock");
    std::fs::write(&lock, b"").unwrap();
    let mut v2 = render_v1();
    v2.insert("meshplan.lock".into(), b"version: 1\nstep: wave\n".to_vec());
    let err = commit_tree(root, &opts(v2.clone(), "wave")).unwrap_err();
    assert!(matches!(err, GitError::BranchLocked { .. }), "{err}");
    assert_eq!(git(root, &["rev-parse", BRANCH]).trim(), first.to_string());
    std::fs::remove_file(&lock).unwrap();
    let (_, parent, _) = committed(commit_tree(root, &opts(v2, "wave")).unwrap());
    assert_eq!(parent, Some(first));
    fsck(root);
}

#[test]
fn worktree_mode_updates_the_checked_out_branch_only() {
    let dir = repo();
    let root = dir.path();
    let mut o = opts(render_v1(), "install");
    o.worktree = true;
    let err = commit_tree(root, &o).unwrap_err();
    assert!(matches!(err, GitError::WorktreeNotCurrent { .. }), "{err}");

    o.branch = "main".into();
    write(root, &format!("{OUT}/keep.yaml"), b"hand edit\n");
    let err = commit_tree(root, &o).unwrap_err();
    assert!(
        matches!(&err, GitError::WorktreeDirty { paths } if paths == &[format!("{OUT}/keep.yaml")]),
        "{err}"
    );
    git(root, &["checkout", "--", "."]);

    committed(commit_tree(root, &o).unwrap());
    assert_eq!(git(root, &["status", "--porcelain"]), "");
    assert!(!root.join(OUT).join("old-revision.yaml").exists());
    assert!(root.join("meshplan.lock").exists());
    fsck(root);
}

#[test]
fn diff_worktree_reports_changes() {
    let dir = repo();
    let root = dir.path();
    let diffs = diff_worktree(root, OUT, &render_v1()).unwrap();
    let summary: Vec<_> = diffs
        .iter()
        .map(|d| (d.path.as_str(), d.old.is_some(), d.new.is_some()))
        .collect();
    assert_eq!(
        summary,
        [
            ("clusters/prod/istio/istiod.yaml", false, true),
            ("clusters/prod/istio/old-revision.yaml", true, false),
            ("meshplan.lock", false, true),
        ]
    );
    // A missing output directory means every rendered file is new.
    let diffs = diff_worktree(root, "clusters/new", &tree(&[("clusters/new/a", b"a\n")])).unwrap();
    assert_eq!(diffs.len(), 1);
}

#[test]
fn diff_ref_reads_blobs_not_the_working_tree() {
    let dir = repo();
    let root = dir.path();
    let head = git(root, &["rev-parse", "HEAD"]).trim().to_string();
    // Working-tree edits and deletions must not show: only the commit counts.
    std::fs::remove_file(root.join(OUT).join("old-revision.yaml")).unwrap();
    write(root, &format!("{OUT}/keep.yaml"), b"edited\n");
    let mut render = render_v1();
    render.remove("meshplan.lock");
    for reference in ["HEAD", "main", head.as_str()] {
        let diffs = diff_ref(root, reference, OUT, &render).unwrap();
        let paths: Vec<_> = diffs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "clusters/prod/istio/istiod.yaml",
                "clusters/prod/istio/old-revision.yaml"
            ],
            "{reference}"
        );
    }
    let err = diff_ref(root, "origin/nope", OUT, &render).unwrap_err();
    assert!(matches!(err, GitError::UnknownReference { .. }), "{err}");
}

/// Makes a repository whose `main` holds the istio samples, then a render changing them.
fn sample_change() -> (tempfile::TempDir, Tree) {
    let dir = repo();
    let root = dir.path();
    let kube = "istio-samples/bookinfo/platform/kube";
    write(
        root,
        &format!("{OUT}/details.yaml"),
        &corpus(&format!("{kube}/bookinfo-details.yaml")),
    );
    write(
        root,
        &format!("{OUT}/ratings.yaml"),
        &corpus(&format!("{kube}/bookinfo-ratings.yaml")),
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "samples"]);
    let ratings = String::from_utf8(corpus(&format!("{kube}/bookinfo-ratings.yaml")))
        .unwrap()
        .replace("replicas: 1", "replicas: 3")
        .replace("version: v1", "version: v2");
    let render = tree(&[
        (
            &format!("{OUT}/details.yaml"),
            &corpus(&format!("{kube}/bookinfo-details.yaml")),
        ),
        (&format!("{OUT}/ratings.yaml"), ratings.as_bytes()),
        (
            &format!("{OUT}/keep.yaml"),
            b"kind: Namespace\nmetadata:\n  name: bookinfo\n",
        ),
        (
            &format!("{OUT}/mysql.yaml"),
            &corpus(&format!("{kube}/bookinfo-db.yaml")),
        ),
    ]);
    (dir, render)
}

#[test]
fn unified_diff_snapshot_and_git_apply() {
    let (dir, render) = sample_change();
    let root = dir.path();
    let diffs = diff_worktree(root, OUT, &render).unwrap();
    let patch = render_unified(&diffs, false);
    insta::assert_snapshot!("unified_diff", patch);
    // Git itself accepts the patch and applying it yields exactly the render.
    std::fs::write(root.join("render.patch"), &patch).unwrap();
    git(root, &["apply", "--check", "render.patch"]);
    git(root, &["apply", "render.patch"]);
    std::fs::remove_file(root.join("render.patch")).unwrap();
    assert_eq!(diff_worktree(root, OUT, &render).unwrap(), []);
}

#[test]
fn stat_matches_git_diff_stat() {
    let (dir, mut render) = sample_change();
    let root = dir.path();
    // A binary file and a name too long for 80 columns, to check Git's layout rules too.
    render.insert(format!("{OUT}/bundle.tgz"), vec![0x1f, 0x8b, 0, 0, 7]);
    let long = format!(
        "{OUT}/{}/virtual-service.yaml",
        "very-long-directory".repeat(3)
    );
    render.insert(long, b"kind: VirtualService\n".to_vec());
    let diffs = diff_worktree(root, OUT, &render).unwrap();
    let ours = render_stat(&diffs);
    for (path, data) in &render {
        write(root, path, data);
    }
    std::fs::remove_file(root.join(OUT).join("old-revision.yaml")).unwrap();
    git(root, &["add", "-A"]);
    let theirs = git(root, &["diff", "--cached", "--stat=80"]);
    assert_eq!(ours, theirs);
    insta::assert_snapshot!("stat", ours);
}

#[test]
fn secret_values_never_reach_the_diff() {
    let dir = repo();
    let root = dir.path();
    let secret = corpus("kube-prometheus/manifests/alertmanager-secret.yaml");
    write(root, &format!("{OUT}/alertmanager-secret.yaml"), &secret);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "secret"]);
    let text = String::from_utf8(secret).unwrap();
    let changed = text.replace("\"null\"", "\"webhook\"").replace(
        "stringData:\n",
        "stringData:\n  extra.yaml: c2VjcmV0LXZhbHVl\n",
    );
    assert_ne!(changed, text);
    let render = tree(&[
        (
            &format!("{OUT}/alertmanager-secret.yaml"),
            changed.as_bytes(),
        ),
        (&format!("{OUT}/keep.yaml"), b"kind: Namespace\n"),
        (
            &format!("{OUT}/old-revision.yaml"),
            b"kind: HelmRelease\nname: istiod-1-23-4\n",
        ),
    ]);
    let diffs = diff_ref(root, "HEAD", OUT, &render).unwrap();
    assert_eq!(diffs.len(), 1);
    let out = render_unified(&diffs, true) + &render_stat(&diffs);
    assert!(!out.contains("c2VjcmV0LXZhbHVl"), "{out}");
    // The stringData value of the original is multi-line YAML: none of its lines show.
    for line in text
        .lines()
        .filter(|l| l.contains("resolve_timeout") || l.contains("receiver"))
    {
        assert!(!out.contains(line.trim()), "leaked `{line}`:\n{out}");
    }
    assert!(out.contains("extra.yaml: <redacted>"), "{out}");
}

#[test]
fn refuses_a_branch_that_collides_with_another() {
    let dir = repo();
    let root = dir.path();
    git(root, &["branch", "meshplan"]);
    let err = commit_tree(root, &opts(render_v1(), "x")).unwrap_err();
    assert!(
        err.to_string().contains("branch `meshplan` exists"),
        "{err}"
    );
    git(root, &["branch", "release/eu/prod"]);
    let mut o = opts(render_v1(), "x");
    o.branch = "release/eu".into();
    let err = commit_tree(root, &o).unwrap_err();
    assert!(
        err.to_string().contains("`release/eu/prod` exists"),
        "{err}"
    );
}
