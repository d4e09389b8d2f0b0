//! `meshplan commit`: records a render as one commit on a branch without touching the user's
//! working tree or index, and moves the branch only if nobody else moved it meanwhile.
//!
//! The new tree is the branch tip's tree with the output directory's subtree replaced (and
//! the rendered paths outside it written), built in an in-memory index. Objects are written
//! to the object database first; the branch is then updated by compare-and-swap against the
//! tip the commit was built on. If another writer won the race the update fails and the
//! objects already written stay unreferenced, which Git's garbage collection removes: a
//! failed commit leaves the repository as it was. There is deliberately no automatic retry
//! on the new tip: the step was planned and checked against the old tip's lock file, so
//! re-applying it on top of someone else's change would commit something nobody reviewed.

use std::path::{Path, PathBuf};

use super::diff::{FileDiff, compare, open_repo, read_tree_files};
use super::paths::{self, Layout};
use super::{GitError, Tree, git_err};

/// Git's file mode for a regular, non-executable file.
const MODE_FILE: u32 = 0o100644;

/// A person as Git records them: a name and an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The display name, e.g. `Jane Doe`.
    pub name: String,
    /// The email address, without angle brackets.
    pub email: String,
}

impl Identity {
    /// Parses Git's `Name <email>` form (as given to `--author`).
    pub fn parse(text: &str) -> Option<Identity> {
        let (name, rest) = text.split_once('<')?;
        let email = rest.strip_suffix('>')?.trim();
        let name = name.trim();
        let ok = |s: &str| !s.is_empty() && !s.contains(['<', '>', '\n']);
        (ok(name) && ok(email)).then(|| Identity {
            name: name.to_string(),
            email: email.to_string(),
        })
    }
}

/// What to commit, where, and as whom.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// The branch to commit on (created from the current HEAD commit when missing).
    pub branch: String,
    /// The output directory whose content `tree` replaces, relative to the repository root.
    pub out_dir: String,
    /// The rendered files (see [`Tree`]).
    pub tree: Tree,
    /// Files outside `out_dir` the commit deletes (the documents of a retired install).
    pub removed: Vec<String>,
    /// The commit message (cleaned up like `git commit` does).
    pub message: String,
    /// The author; the repository's `user.name` / `user.email` when `None`.
    pub author: Option<Identity>,
    /// Also update the working tree and index; only allowed for the checked-out branch.
    pub worktree: bool,
    /// The branch tip the change was planned from (`Some(None)`: the branch did not exist
    /// yet), when the caller planned from it: if the branch has moved since, nothing is
    /// written — the change was checked against the old tip's lock. `None` skips the check.
    pub planned_from: Option<Option<git2::Oid>>,
    /// Build on this commit instead of the branch tip: the branch's commits are already in
    /// the base (squash-merged), so the branch is rebuilt from it. The branch still moves
    /// from its current tip by compare-and-swap, never forced past a concurrent writer.
    pub base: Option<git2::Oid>,
}

/// What [`commit_tree`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// A commit was written and the branch moved to it.
    Committed {
        /// The branch name.
        branch: String,
        /// The new commit.
        commit: git2::Oid,
        /// The commit it was built on (`None` for the first commit of an empty repository).
        parent: Option<git2::Oid>,
        /// Whether the branch was created.
        created: bool,
        /// The files the commit changes, sorted by path.
        changes: Vec<FileDiff>,
    },
    /// The render equals what the branch (or HEAD, for a missing branch) already holds:
    /// nothing was written and no branch was created.
    Unchanged {
        /// The branch name.
        branch: String,
        /// The commit that already holds the render.
        tip: Option<git2::Oid>,
    },
}

/// Commits `opts.tree` under `opts.out_dir` as one commit on `opts.branch` of the repository
/// containing `repo_path`, in memory, moving the branch by compare-and-swap.
pub fn commit_tree(repo_path: &Path, opts: &CommitOptions) -> Result<CommitOutcome, GitError> {
    // Kept whole on purpose: this is one transaction whose safety is its order (every refusal
    // before any object is written, the files before the branch moves, each failure undone),
    // which is easiest to audit read top to bottom in one place.
    let layout = paths::layout_removing(&opts.out_dir, &opts.tree, &opts.removed)?;
    let refname = branch_ref(&opts.branch)?;
    let message = git2::message_prettify(opts.message.as_str(), None)
        .map_err(git_err("cleaning up the commit message"))?;
    if message.trim().is_empty() {
        return Err(GitError::EmptyMessage);
    }
    let repo = open_repo(repo_path)?;
    let workdir = match repo.workdir() {
        Some(dir) if !repo.is_bare() => dir.to_path_buf(),
        _ => {
            return Err(GitError::BareRepository {
                path: repo.path().to_path_buf(),
            });
        }
    };
    check_state(&repo, &workdir)?;
    paths::check_workdir(&workdir, &layout)?;

    let existing = match repo.find_reference(&refname) {
        Ok(r) => Some(
            r.peel_to_commit()
                .map_err(git_err(format!("reading {refname}")))?,
        ),
        Err(e) if e.code() == git2::ErrorCode::NotFound => None,
        Err(e) => return Err(git_err(format!("reading {refname}"))(e)),
    };
    if let Some(planned) = opts.planned_from {
        let actual = existing.as_ref().map(git2::Commit::id);
        if actual != planned {
            let show =
                |id: Option<git2::Oid>| id.map_or_else(|| "(none)".to_string(), |i| i.to_string());
            return Err(GitError::BranchMoved {
                branch: opts.branch.clone(),
                expected: show(planned),
                actual: show(actual),
            });
        }
    }
    let created = existing.is_none();
    if created {
        check_collision(&repo, &opts.branch)?;
    }
    let tip = existing.as_ref().map(git2::Commit::id);
    let base = match (opts.base, existing) {
        (Some(id), _) => Some(
            repo.find_commit(id)
                .map_err(git_err(format!("reading commit {id}")))?,
        ),
        (None, Some(commit)) => Some(commit),
        (None, None) => head_commit(&repo, &workdir, &opts.branch)?,
    };
    if opts.worktree {
        check_worktree(&repo, &refname, &opts.branch, &layout)?;
    } else if head_target(&repo)?.as_deref() == Some(refname.as_bytes()) {
        return Err(GitError::BranchCheckedOut {
            branch: opts.branch.clone(),
        });
    }
    let base_tree = match &base {
        Some(c) => Some(
            c.tree()
                .map_err(git_err(format!("reading the tree of {}", c.id())))?,
        ),
        None => None,
    };
    if let Some(t) = &base_tree {
        paths::check_base_tree(t, &layout)?;
    }

    // Before any object is written, so a refusal leaves the object database as it was.
    let (author, committer) = identities(&repo, &workdir, opts.author.as_ref())?;
    let new_tree_id = build_tree(&repo, base_tree.as_ref(), &layout, opts)?;
    let unchanged = match &base_tree {
        Some(t) => t.id() == new_tree_id,
        None => opts.tree.is_empty(),
    };
    if unchanged {
        return Ok(CommitOutcome::Unchanged {
            branch: opts.branch.clone(),
            tip: base.as_ref().map(git2::Commit::id),
        });
    }
    let changes = match &base_tree {
        Some(t) => compare(&read_tree_files(&repo, t, &layout)?, &opts.tree),
        None => compare(&Default::default(), &opts.tree),
    };

    let new_tree = repo
        .find_tree(new_tree_id)
        .map_err(git_err("reading the new tree"))?;
    let parents: Vec<&git2::Commit<'_>> = base.iter().collect();
    let commit = repo
        .commit(None, &author, &committer, &message, &new_tree, &parents)
        .map_err(git_err("writing the commit"))?;

    let expected = tip;
    let subject = message.lines().next().unwrap_or("");
    // With --worktree the files are written before the branch moves: a failed write is
    // undone and leaves branch and checkout as they were; a branch that cannot move (another
    // writer) puts the files back too.
    let written = if opts.worktree {
        Some(write_worktree(&workdir, &changes)?)
    } else {
        None
    };
    if let Err(e) = update_branch(&repo, &refname, &opts.branch, commit, expected, subject) {
        if let Some(w) = &written {
            restore(&workdir, w);
        }
        return Err(e);
    }
    if opts.worktree {
        update_index(&repo, &changes, commit)?;
    }
    Ok(CommitOutcome::Committed {
        branch: opts.branch.clone(),
        commit,
        parent: base.as_ref().map(git2::Commit::id),
        created,
        changes,
    })
}

/// `refs/heads/<branch>`, refusing names Git would refuse.
fn branch_ref(branch: &str) -> Result<String, GitError> {
    let refname = format!("refs/heads/{branch}");
    if branch.is_empty() || branch.starts_with('-') || !git2::Reference::is_valid_name(&refname) {
        return Err(GitError::InvalidBranch {
            branch: branch.to_string(),
        });
    }
    Ok(refname)
}

/// Refuses a new branch `a/b` when branch `a` exists, or `a` when some `a/...` exists.
fn check_collision(repo: &git2::Repository, branch: &str) -> Result<(), GitError> {
    let collision = |existing: &str| GitError::BranchCollision {
        branch: branch.to_string(),
        existing: existing.to_string(),
    };
    for (i, c) in branch.char_indices() {
        // `i` is a char boundary of `branch`, so the slice cannot panic.
        let prefix = &branch[..i];
        if c == '/' && repo.find_reference(&format!("refs/heads/{prefix}")).is_ok() {
            return Err(collision(prefix));
        }
    }
    let beneath = repo
        .references_glob(&format!("refs/heads/{branch}/*"))
        .map_err(git_err("listing branches"))?
        .filter_map(Result::ok)
        .map(|r| String::from_utf8_lossy(r.name_bytes()).into_owned())
        .next();
    match beneath {
        Some(name) => Err(collision(name.trim_start_matches("refs/heads/"))),
        None => Ok(()),
    }
}

/// Refuses a repository in the middle of a merge, rebase, cherry-pick, ...
fn check_state(repo: &git2::Repository, workdir: &Path) -> Result<(), GitError> {
    use git2::RepositoryState as S;
    let state = match repo.state() {
        S::Clean => return Ok(()),
        S::Merge => "merge",
        S::Revert | S::RevertSequence => "revert",
        S::CherryPick | S::CherryPickSequence => "cherry-pick",
        S::Bisect => "bisect",
        S::Rebase | S::RebaseInteractive | S::RebaseMerge => "rebase",
        S::ApplyMailbox => "`git am`",
        S::ApplyMailboxOrRebase => "`git am` or rebase",
    };
    Err(GitError::OperationInProgress {
        path: workdir.to_path_buf(),
        state: state.to_string(),
    })
}

/// The commit a new branch starts from: HEAD's, or none in a repository without commits.
fn head_commit<'r>(
    repo: &'r git2::Repository,
    workdir: &Path,
    branch: &str,
) -> Result<Option<git2::Commit<'r>>, GitError> {
    if repo.head_detached().map_err(git_err("reading HEAD"))? {
        return Err(GitError::DetachedHead {
            path: workdir.to_path_buf(),
            branch: branch.to_string(),
        });
    }
    match repo.head() {
        Ok(head) => Ok(Some(
            head.peel_to_commit().map_err(git_err("reading HEAD"))?,
        )),
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(git_err("reading HEAD")(e)),
    }
}

/// The base tree with the output directory replaced by `tree`, written as tree objects
/// through an in-memory index (the repository's own index file is never opened).
fn build_tree(
    repo: &git2::Repository,
    base: Option<&git2::Tree<'_>>,
    layout: &Layout,
    opts: &CommitOptions,
) -> Result<git2::Oid, GitError> {
    let tree = &opts.tree;
    let mut index = git2::Index::new().map_err(git_err("creating an in-memory index"))?;
    if let Some(base) = base {
        index
            .read_tree(base)
            .map_err(git_err("reading the base tree"))?;
    }
    index
        .remove_dir(Path::new(&layout.out_dir), 0)
        .map_err(git_err(format!("clearing `{}`", layout.out_dir)))?;
    for (path, data) in tree {
        let id = repo
            .blob(data)
            .map_err(git_err(format!("writing the blob of `{path}`")))?;
        let time = git2::IndexTime::new(0, 0);
        let entry = git2::IndexEntry {
            ctime: time,
            mtime: time,
            dev: 0,
            ino: 0,
            mode: MODE_FILE,
            uid: 0,
            gid: 0,
            file_size: u32::try_from(data.len()).unwrap_or(u32::MAX),
            id,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry).map_err(|source| GitError::TreePath {
            path: path.clone(),
            reason: format!("cannot be stored in a Git tree: {}", source.message()),
        })?;
    }
    for path in &opts.removed {
        // A path the base does not hold is already deleted: nothing to remove.
        if index.get_path(Path::new(path), 0).is_some() {
            index
                .remove_path(Path::new(path))
                .map_err(git_err(format!("deleting `{path}`")))?;
        }
    }
    index
        .write_tree_to(repo)
        .map_err(git_err("writing the new tree"))
}

/// Author and committer: the explicit author and/or the repository's configured identity.
fn identities(
    repo: &git2::Repository,
    workdir: &Path,
    author: Option<&Identity>,
) -> Result<(git2::Signature<'static>, git2::Signature<'static>), GitError> {
    let configured = config_identity(repo)?;
    let author = author.or(configured.as_ref());
    let committer = configured.as_ref().or(author);
    let (Some(author), Some(committer)) = (author, committer) else {
        return Err(GitError::NoIdentity {
            path: workdir.to_path_buf(),
        });
    };
    let sign = |who: &Identity| {
        git2::Signature::now(&who.name, &who.email)
            .map_err(git_err(format!("identity `{} <{}>`", who.name, who.email)))
    };
    Ok((sign(author)?, sign(committer)?))
}

/// `user.name` and `user.email` from the repository's configuration (all levels); empty
/// values count as unset.
fn config_identity(repo: &git2::Repository) -> Result<Option<Identity>, GitError> {
    let config = repo
        .config()
        .and_then(|mut c| c.snapshot())
        .map_err(git_err("reading the git configuration"))?;
    let get = |key: &str| match config.get_string(key) {
        Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_string())),
        Ok(_) => Ok(None),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(git_err(format!("reading `{key}`"))(e)),
    };
    Ok(match (get("user.name")?, get("user.email")?) {
        (Some(name), Some(email)) => Some(Identity { name, email }),
        _ => None,
    })
}

/// Moves `refname` to `new` only if it still points at `expected` (or, when `expected` is
/// `None`, only if it still does not exist). Never forces.
fn update_branch(
    repo: &git2::Repository,
    refname: &str,
    branch: &str,
    new: git2::Oid,
    expected: Option<git2::Oid>,
    subject: &str,
) -> Result<(), GitError> {
    let log = format!("meshplan commit: {subject}");
    let result = match expected {
        Some(old) => repo.reference_matching(refname, new, true, old, &log),
        None => repo.reference(refname, new, false, &log),
    };
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::Modified | git2::ErrorCode::Exists | git2::ErrorCode::NotFound
            ) =>
        {
            let actual = repo
                .refname_to_id(refname)
                .map_or_else(|_| "(none)".to_string(), |id| id.to_string());
            Err(GitError::BranchMoved {
                branch: branch.to_string(),
                expected: expected.map_or_else(|| "(none)".to_string(), |id| id.to_string()),
                actual,
            })
        }
        Err(e) if e.code() == git2::ErrorCode::Locked => Err(GitError::BranchLocked {
            branch: branch.to_string(),
        }),
        Err(e) => Err(git_err(format!("updating {refname}"))(e)),
    }
}

/// The reference HEAD points to (`refs/heads/main`), or `None` when HEAD is detached.
fn head_target(repo: &git2::Repository) -> Result<Option<Vec<u8>>, GitError> {
    let head = repo
        .find_reference("HEAD")
        .map_err(git_err("reading HEAD"))?;
    Ok(head.symbolic_target_bytes().map(<[u8]>::to_vec))
}

/// For `--worktree`: the branch must be checked out and the paths the commit writes must
/// have no uncommitted changes, so updating them loses nothing.
fn check_worktree(
    repo: &git2::Repository,
    refname: &str,
    branch: &str,
    layout: &Layout,
) -> Result<(), GitError> {
    match head_target(repo)? {
        Some(target) if target == refname.as_bytes() => {}
        Some(target) => {
            let target = String::from_utf8_lossy(&target);
            return Err(GitError::WorktreeNotCurrent {
                branch: branch.to_string(),
                head: target.trim_start_matches("refs/heads/").to_string(),
            });
        }
        None => {
            return Err(GitError::WorktreeNotCurrent {
                branch: branch.to_string(),
                head: "detached".to_string(),
            });
        }
    }
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    let statuses = repo
        .statuses(Some(&mut opts))
        .map_err(git_err("reading the working tree status"))?;
    // Filtered here rather than with pathspecs, whose glob rules would apply to the names.
    let mut dirty: Vec<String> = statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT)
        .map(|s| String::from_utf8_lossy(s.path_bytes()).into_owned())
        .filter(|p| layout.contains(p) || layout.outside.contains(p))
        .collect();
    if dirty.is_empty() {
        return Ok(());
    }
    dirty.sort();
    Err(GitError::WorktreeDirty { paths: dirty })
}

/// The previous content of each path [`write_worktree`] changed (`None`: it did not exist).
type Written = Vec<(String, Option<Vec<u8>>)>;

/// Writes the committed changes into the working tree (`--worktree`). On a failure, the
/// files already written are put back and the error names the file.
fn write_worktree(workdir: &Path, changes: &[FileDiff]) -> Result<Written, GitError> {
    let mut written: Written = Vec::new();
    for change in changes {
        let full: PathBuf = workdir.join(&change.path);
        let before = std::fs::read(&full).ok();
        let result = match &change.new {
            Some(data) => full
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&full, data)),
            None => match std::fs::remove_file(&full) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => {
                    remove_empty_parents(workdir, &full);
                    Ok(())
                }
            },
        };
        if let Err(source) = result {
            restore(workdir, &written);
            return Err(GitError::WorktreeWrite {
                path: change.path.clone(),
                source,
            });
        }
        written.push((change.path.clone(), before));
    }
    Ok(written)
}

/// Puts back what [`write_worktree`] changed, best effort: the error being reported is the
/// one that matters.
fn restore(workdir: &Path, written: &Written) {
    for (path, before) in written.iter().rev() {
        let full = workdir.join(path);
        match before {
            Some(data) => {
                if let Some(parent) = full.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let _ = std::fs::write(&full, data);
            }
            None => {
                let _ = std::fs::remove_file(&full);
                remove_empty_parents(workdir, &full);
            }
        }
    }
}

/// Like Git, drops directories a removal left empty (remove_dir refuses non-empty ones,
/// which ends the climb).
fn remove_empty_parents(workdir: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == workdir || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Records the committed changes in the index once the branch has moved (`--worktree`).
fn update_index(
    repo: &git2::Repository,
    changes: &[FileDiff],
    commit: git2::Oid,
) -> Result<(), GitError> {
    let fail =
        |path: &str, source: Box<dyn std::error::Error + Send + Sync>| GitError::WorktreeUpdate {
            commit: commit.to_string(),
            path: path.to_string(),
            source,
        };
    let mut index = repo.index().map_err(|e| fail("index", e.into()))?;
    for change in changes {
        let path = Path::new(&change.path);
        let result = match &change.new {
            Some(_) => index.add_path(path),
            None => index.remove_path(path),
        };
        result.map_err(|e| fail(&change.path, e.into()))?;
    }
    index.write().map_err(|e| fail("index", e.into()))
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "commit_tests.rs"]
mod tests;
