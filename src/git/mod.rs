//! The Git stage: compares a rendered tree with what a repository holds (`diff`) and records
//! it as one reviewable commit on a branch (`commit`), entirely through libgit2 (git2).
//!
//! A render is a [`Tree`]: the files that must exist under an output directory after the
//! change. The commit is built in memory from the branch tip's tree with the output
//! directory's subtree replaced, and the branch moves by compare-and-swap, so the user's
//! working tree and index are never touched and two concurrent writers can never lose a
//! commit. See `docs/gitops-flow.md` for how the pieces make one pull request per step.

use std::collections::BTreeMap;
use std::path::PathBuf;

mod commit;
mod diff;
mod message;
mod paths;
mod redact;
mod render;

pub use commit::{CommitOptions, CommitOutcome, Identity, commit_tree};
pub use diff::{FileDiff, diff_ref, diff_worktree};
pub use message::{MessageInput, commit_message};
pub use redact::{REDACTED, redact_secrets};
pub use render::{render_stat, render_unified};

/// Rendered files: path relative to the repository root ('/'-separated) → content.
///
/// Paths under `out_dir` describe that directory completely (anything else there is
/// deleted); paths outside it (such as `meshplan.lock`) are written and never deleted.
pub type Tree = BTreeMap<String, Vec<u8>>;

/// Why a diff or commit could not be made; every variant is a problem with the user's
/// repository or arguments (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not inside a Git repository.
    #[error("{}: not a git repository (or any parent up to the filesystem root)", path.display())]
    NotARepository {
        /// The path the repository was looked up from.
        path: PathBuf,
    },
    /// A bare repository has no working tree to render for.
    #[error("{}: is a bare repository; meshplan commits from a clone with a working tree", path.display())]
    BareRepository {
        /// The repository's git directory.
        path: PathBuf,
    },
    /// A merge, rebase, cherry-pick, ... is in progress.
    #[error("{}: a {state} is in progress; finish or abort it first (git status shows how)", path.display())]
    OperationInProgress {
        /// The repository's working directory.
        path: PathBuf,
        /// The operation, e.g. `merge` or `rebase`.
        state: String,
    },
    /// HEAD is detached, so there is no branch to start a new one from.
    #[error(
        "{}: HEAD is detached, so branch `{branch}` cannot be created from the current branch; \
         check out a branch first or create `{branch}` yourself",
        path.display()
    )]
    DetachedHead {
        /// The repository's working directory.
        path: PathBuf,
        /// The branch that had to be created.
        branch: String,
    },
    /// The branch name is not a valid Git branch name.
    #[error("`{branch}` is not a valid branch name")]
    InvalidBranch {
        /// The name given.
        branch: String,
    },
    /// A new branch would collide with an existing one (`a` vs `a/b`): Git stores branch
    /// names as paths, so one cannot be both a branch and a directory of branches.
    #[error("branch `{branch}` cannot be created: branch `{existing}` exists")]
    BranchCollision {
        /// The branch to create.
        branch: String,
        /// The existing branch in the way.
        existing: String,
    },
    /// The output directory is not a plain directory inside the repository.
    #[error("output directory `{out_dir}`: {reason}")]
    OutDir {
        /// The output directory as given.
        out_dir: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A path of the rendered tree cannot be written into a Git tree.
    #[error("rendered file `{path}`: {reason}")]
    TreePath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The reference to diff against does not name a commit.
    #[error("{}: `{reference}` does not name a commit: {message}", repo.display())]
    UnknownReference {
        /// The repository.
        repo: PathBuf,
        /// The reference as given.
        reference: String,
        /// libgit2's explanation.
        message: String,
    },
    /// Neither `user.name`/`user.email` nor an explicit author is available.
    #[error(
        "{}: no commit identity: set `git config user.name` and `git config user.email`, \
         or pass --author \"Name <email>\"",
        path.display()
    )]
    NoIdentity {
        /// The repository.
        path: PathBuf,
    },
    /// The commit message is empty once cleaned up.
    #[error("the commit message is empty")]
    EmptyMessage,
    /// Another writer moved the branch between reading its tip and updating it.
    #[error(
        "branch {branch} moved from {expected} to {actual} while committing; nothing was written"
    )]
    BranchMoved {
        /// The branch name.
        branch: String,
        /// The tip the commit was built on (`(none)` when the branch did not exist).
        expected: String,
        /// The tip found when updating.
        actual: String,
    },
    /// Another process holds the branch's lock file.
    #[error(
        "branch {branch} is being updated by another process (its lock file exists); \
         nothing was written, try again"
    )]
    BranchLocked {
        /// The branch name.
        branch: String,
    },
    /// `--worktree` was asked for a branch that is not checked out.
    #[error(
        "--worktree needs `{branch}` to be the checked-out branch (HEAD is {head}); \
         commit without --worktree or check out `{branch}` first"
    )]
    WorktreeNotCurrent {
        /// The branch committed to.
        branch: String,
        /// What HEAD is.
        head: String,
    },
    /// The branch is checked out, so moving it alone would make the checkout look changed.
    #[error(
        "branch `{branch}` is checked out: committing to it without --worktree would leave \
         your working tree and index behind the branch; commit to another branch \
         (e.g. meshplan/<cluster>) or pass --worktree"
    )]
    BranchCheckedOut {
        /// The branch name.
        branch: String,
    },
    /// `--worktree` would overwrite uncommitted changes.
    #[error(
        "--worktree would overwrite uncommitted changes in: {}; commit or stash them first",
        paths.join(", ")
    )]
    WorktreeDirty {
        /// The changed paths, sorted.
        paths: Vec<String>,
    },
    /// The commit was made but its files could not be written to the working tree.
    #[error(
        "committed {commit}, but updating the working tree failed at {path}: {source}; \
         run `git checkout -- .` to bring it up to date"
    )]
    WorktreeUpdate {
        /// The commit that was written.
        commit: String,
        /// The file being written.
        path: String,
        /// The underlying error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `--worktree` could not write a file; what was written is put back, nothing moved.
    #[error(
        "--worktree: cannot write {path}: {source}; nothing was committed to the branch and \
         the working tree is as it was"
    )]
    WorktreeWrite {
        /// The file being written.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file of the working tree could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// libgit2 failed on an operation; `context` says which.
    #[error("{context}: {source}")]
    Git {
        /// What was being done.
        context: String,
        /// libgit2's error.
        source: git2::Error,
    },
}

/// Wraps a libgit2 error with what was being done.
pub(crate) fn git_err(context: impl Into<String>) -> impl FnOnce(git2::Error) -> GitError {
    let context = context.into();
    move |source| GitError::Git { context, source }
}
