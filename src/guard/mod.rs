//! The one place that decides where meshplan may write and what it may read.
//!
//! meshplan runs in CI on pull requests, so every path it is given comes from someone who
//! may not be trusted: `spec.output`, `--out`, `--output`, files a symlink in the repository
//! points at. The rules, applied by every command:
//! - **writes** of the render (`render`, `diff`, `commit --worktree`) go into a directory
//!   inside the repository (the Git work tree holding the spec, else the spec's directory),
//!   never `.git` or under it, never through a symlink, never a directory that holds inputs
//!   (spec, manifests, policies, charts, catalogue); see [`check_output_dir`];
//! - **report files** (`--output`, `--report`) go where the user names them, but never into
//!   `.git` and never over an input file; see [`check_report_path`];
//! - **reads** of files meshplan did not ask for by name (the source lines of a report, the
//!   files under `spec.output`) never follow a symlink out of the repository; see
//!   [`read_inside`].

mod read;
mod write;

pub use read::{is_inside, read_inside};
pub use write::{check_output_dir, check_report_path, check_user_file};

use std::path::{Path, PathBuf};

/// The repository `dir` belongs to, canonical: the Git work tree holding it, else `dir`
/// itself. The Git directory is returned too when there is one.
pub fn repository_root(dir: &Path) -> std::io::Result<(PathBuf, Option<PathBuf>)> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let canonical = dir.canonicalize()?;
    if let Ok(repo) = git2::Repository::discover(&canonical) {
        let git_dir = repo.path().canonicalize().ok();
        if let Some(workdir) = repo.workdir().and_then(|w| w.canonicalize().ok())
            && canonical.starts_with(&workdir)
            && !git_dir.as_ref().is_some_and(|g| canonical.starts_with(g))
        {
            return Ok((workdir, git_dir));
        }
        return Ok((canonical, git_dir));
    }
    Ok((canonical, None))
}
