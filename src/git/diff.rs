//! What a render would change: the files of the output directory in the working tree or in
//! a commit (read straight from blobs, no checkout) compared with the rendered [`Tree`].
//!
//! Both sides are reduced to `path → bytes` maps and compared in one merge pass, so the cost
//! is linear in the number of files. Symlinks and submodules found inside the output
//! directory are read the way Git stores them (link target, `Subproject commit <sha>`), so
//! they show up as files the commit would replace rather than being skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::paths::{self, Layout};
use super::{GitError, Tree, git_err};

/// One changed file: added (`old` is `None`), removed (`new` is `None`) or modified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// Path relative to the repository root, '/'-separated.
    pub path: String,
    /// Content before the change, `None` when the file is added.
    pub old: Option<Vec<u8>>,
    /// Content after the change, `None` when the file is removed.
    pub new: Option<Vec<u8>>,
}

/// Compares `tree` with the files under `out_dir` (and the rendered paths outside it) in
/// the working tree at `repo_root`.
pub fn diff_worktree(
    repo_root: &Path,
    out_dir: &str,
    tree: &Tree,
) -> Result<Vec<FileDiff>, GitError> {
    let layout = paths::layout(out_dir, tree)?;
    paths::check_workdir(repo_root, &layout)?;
    let old = read_workdir_files(repo_root, &layout)?;
    Ok(compare(&old, tree))
}

/// Compares `tree` with the files under `out_dir` in the commit `reference` names
/// (`origin/main`, `HEAD`, a sha, ...), reading blobs directly: nothing is checked out.
pub fn diff_ref(
    repo: &Path,
    reference: &str,
    out_dir: &str,
    tree: &Tree,
) -> Result<Vec<FileDiff>, GitError> {
    let layout = paths::layout(out_dir, tree)?;
    let repository = open_repo(repo)?;
    let commit = repository
        .revparse_single(reference)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| GitError::UnknownReference {
            repo: repo.to_path_buf(),
            reference: reference.to_string(),
            message: e.message().to_string(),
        })?;
    let base = commit
        .tree()
        .map_err(git_err(format!("reading the tree of {}", commit.id())))?;
    paths::check_base_tree(&base, &layout)?;
    let old = read_tree_files(&repository, &base, &layout)?;
    Ok(compare(&old, tree))
}

/// Opens the repository containing `path`, telling "not a repository" apart from failures.
pub(crate) fn open_repo(path: &Path) -> Result<git2::Repository, GitError> {
    git2::Repository::discover(path).map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            GitError::NotARepository {
                path: path.to_path_buf(),
            }
        } else {
            GitError::Git {
                context: format!("opening the repository at {}", path.display()),
                source: e,
            }
        }
    })
}

/// The changes from `old` to `new`, sorted by path; identical files are left out.
pub(crate) fn compare(old: &BTreeMap<String, Vec<u8>>, new: &Tree) -> Vec<FileDiff> {
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let (o, n) = (old.get(path), new.get(path));
            (o != n).then(|| FileDiff {
                path: path.clone(),
                old: o.cloned(),
                new: n.cloned(),
            })
        })
        .collect()
}

/// Reads every file under the output directory of `base`, plus the outside paths it has.
pub(crate) fn read_tree_files(
    repo: &git2::Repository,
    base: &git2::Tree<'_>,
    layout: &Layout,
) -> Result<BTreeMap<String, Vec<u8>>, GitError> {
    let mut files = BTreeMap::new();
    if let Some(entry) = paths::get_path(base, &layout.out_dir)? {
        // check_base_tree (or the caller) has made sure it is a tree; a blob here would be
        // refused there, so only trees are walked.
        if let Ok(sub) = entry.to_object(repo).and_then(|o| o.peel_to_tree()) {
            let mut entries = Vec::new();
            sub.walk(git2::TreeWalkMode::PreOrder, |root, e| {
                if e.kind() != Some(git2::ObjectType::Tree) {
                    let name = String::from_utf8_lossy(e.name_bytes()).into_owned();
                    entries.push((format!("{}/{root}{name}", layout.out_dir), e.id(), e.kind()));
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(git_err(format!("walking `{}`", layout.out_dir)))?;
            for (path, id, kind) in entries {
                files.insert(path, object_bytes(repo, id, kind)?);
            }
        }
    }
    for path in &layout.outside {
        if let Some(entry) = paths::get_path(base, path)? {
            files.insert(path.clone(), object_bytes(repo, entry.id(), entry.kind())?);
        }
    }
    Ok(files)
}

/// A blob's content, or the text Git shows for a submodule entry.
fn object_bytes(
    repo: &git2::Repository,
    id: git2::Oid,
    kind: Option<git2::ObjectType>,
) -> Result<Vec<u8>, GitError> {
    if kind == Some(git2::ObjectType::Commit) {
        return Ok(format!("Subproject commit {id}\n").into_bytes());
    }
    let blob = repo
        .find_blob(id)
        .map_err(git_err(format!("reading blob {id}")))?;
    Ok(blob.content().to_vec())
}

/// Reads every file under the output directory in the working tree, plus the outside paths.
fn read_workdir_files(root: &Path, layout: &Layout) -> Result<BTreeMap<String, Vec<u8>>, GitError> {
    let mut files = BTreeMap::new();
    let dir = root.join(&layout.out_dir);
    if dir.is_dir() {
        for entry in walkdir::WalkDir::new(&dir)
            .follow_links(false)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| {
                let path = e.path().map_or_else(|| dir.clone(), Path::to_path_buf);
                GitError::Io {
                    path,
                    source: e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("filesystem loop")),
                }
            })?;
            if entry.file_type().is_dir() {
                if entry.file_name() == ".git" {
                    return Err(GitError::OutDir {
                        out_dir: layout.out_dir.clone(),
                        reason: format!(
                            "contains a nested repository at {}",
                            entry.path().display()
                        ),
                    });
                }
                continue;
            }
            let rel = relative(root, entry.path())?;
            files.insert(rel, read_file(entry.path())?);
        }
    }
    for path in &layout.outside {
        let full = root.join(path);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.is_dir() => {
                return Err(GitError::TreePath {
                    path: path.clone(),
                    reason: "is a directory in the working tree".into(),
                });
            }
            Ok(_) => {
                files.insert(path.clone(), read_file(&full)?);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(GitError::Io { path: full, source }),
        }
    }
    Ok(files)
}

/// A file's bytes; a symlink's bytes are its target, as Git stores it (never followed).
fn read_file(path: &Path) -> Result<Vec<u8>, GitError> {
    let io = |source| GitError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path).map_err(io)?;
        return Ok(target.to_string_lossy().into_owned().into_bytes());
    }
    std::fs::read(path).map_err(io)
}

/// `path` relative to `root`, '/'-separated; refuses names that are not UTF-8.
fn relative(root: &Path, path: &Path) -> Result<String, GitError> {
    let not_utf8 = || GitError::TreePath {
        path: path.display().to_string(),
        reason: "file name is not UTF-8".into(),
    };
    let rel = path.strip_prefix(root).map_err(|_| GitError::Io {
        path: PathBuf::from(path),
        source: std::io::Error::other("walked outside the repository"),
    })?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Ok(parts.ok_or_else(not_utf8)?.join("/"))
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        entries
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn compare_reports_added_removed_modified_sorted() {
        let old = map(&[("o/a", "1"), ("o/b", "2"), ("o/c", "3")]);
        let new = map(&[("o/a", "1"), ("o/b", "two"), ("o/0", "new")]);
        let d = compare(&old, &new);
        let kinds: Vec<_> = d
            .iter()
            .map(|f| (f.path.as_str(), f.old.is_some(), f.new.is_some()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("o/0", false, true),
                ("o/b", true, true),
                ("o/c", true, false)
            ]
        );
    }

    #[test]
    fn worktree_symlink_inside_out_dir_is_read_as_its_target() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("out/link")).unwrap();
        let d = diff_worktree(dir.path(), "out", &Tree::new()).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].old.as_deref(), Some(b"/etc/passwd".as_slice()));
    }
}
