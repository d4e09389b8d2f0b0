//! Path checks shared by `diff` and `commit`: the output directory and every rendered path
//! must stay inside the repository, as plain directories, before anything is read or written.
//!
//! Rendered paths come from templates and the spec, so they are treated as untrusted: no
//! absolute paths, no `..`, no `.git`, and no symlink (in the working tree or in the base
//! commit) on the way to them — a symlink there would let a commit or a diff reach files
//! outside the directory the user named.

use std::collections::BTreeSet;
use std::path::Path;

use super::{GitError, Tree};

/// Git's file mode for a symbolic link.
const MODE_SYMLINK: i32 = 0o120000;

/// The checked shape of a render: its output directory and the paths outside it.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The output directory, normalised (no `./`, no trailing `/`).
    pub out_dir: String,
    /// Rendered paths outside `out_dir`: written, never deleted.
    pub outside: Vec<String>,
    /// Directories that must be plain directories: `out_dir`, its ancestors and the
    /// ancestors of `outside` paths. Sorted, so parents come before children.
    pub outer_dirs: BTreeSet<String>,
}

impl Layout {
    /// Whether `path` (relative to the repository root) lies under the output directory.
    pub fn contains(&self, path: &str) -> bool {
        under(&self.out_dir, path)
    }
}

/// Whether `path` lies strictly under directory `dir`.
pub(crate) fn under(dir: &str, path: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Checks the output directory and every rendered path, and derives the [`Layout`].
pub(crate) fn layout(out_dir: &str, tree: &Tree) -> Result<Layout, GitError> {
    let out_dir = normalize_out_dir(out_dir)?;
    let mut outside = Vec::new();
    let mut outer_dirs = BTreeSet::new();
    add_ancestors(&out_dir, &mut outer_dirs);
    outer_dirs.insert(out_dir.clone());
    // Every directory some rendered path needs, to catch a file that is also a directory.
    let mut all_dirs = outer_dirs.clone();
    for path in tree.keys() {
        check_components(path).map_err(|reason| GitError::TreePath {
            path: path.clone(),
            reason,
        })?;
        add_ancestors(path, &mut all_dirs);
        if !under(&out_dir, path) {
            add_ancestors(path, &mut outer_dirs);
            outside.push(path.clone());
        }
    }
    if let Some(path) = tree.keys().find(|p| all_dirs.contains(p.as_str())) {
        return Err(GitError::TreePath {
            path: path.clone(),
            reason: "is both a file and a directory of the render".into(),
        });
    }
    Ok(Layout {
        out_dir,
        outside,
        outer_dirs,
    })
}

/// [`layout`] of a commit that also deletes `removed` (user files outside `out_dir`, e.g.
/// a retired adopted install): checked like rendered paths, read and compared like them.
pub(crate) fn layout_removing(
    out_dir: &str,
    tree: &Tree,
    removed: &[String],
) -> Result<Layout, GitError> {
    let mut layout = layout(out_dir, tree)?;
    for path in removed {
        check_components(path).map_err(|reason| GitError::TreePath {
            path: path.clone(),
            reason,
        })?;
        if under(&layout.out_dir, path) || tree.contains_key(path) {
            return Err(GitError::TreePath {
                path: path.clone(),
                reason: "is both deleted and part of the render".into(),
            });
        }
        add_ancestors(path, &mut layout.outer_dirs);
        layout.outside.push(path.clone());
    }
    Ok(layout)
}

/// Normalises `out_dir` (`./a/b/` → `a/b`) and refuses anything outside the repository.
fn normalize_out_dir(raw: &str) -> Result<String, GitError> {
    let err = |reason: &str| GitError::OutDir {
        out_dir: raw.to_string(),
        reason: reason.to_string(),
    };
    if raw.starts_with('/') || raw.starts_with('\\') || raw.get(1..2) == Some(":") {
        return Err(err(
            "is absolute; give a path relative to the repository root",
        ));
    }
    let mut rest = raw.trim_end_matches('/');
    while let Some(r) = rest.strip_prefix("./") {
        rest = r.trim_start_matches('/');
    }
    if rest.is_empty() || rest == "." {
        return Err(err(
            "is the repository root; name a subdirectory (everything else in it would be deleted)",
        ));
    }
    check_components(rest).map_err(|reason| err(&reason))?;
    Ok(rest.to_string())
}

/// Refuses empty, `.`, `..` and `.git` components, backslashes and NUL bytes.
fn check_components(path: &str) -> Result<(), String> {
    if path.starts_with('/') {
        return Err("is absolute; paths are relative to the repository root".into());
    }
    for part in path.split('/') {
        match part {
            "" => return Err("has an empty component (`//` or a trailing `/`)".into()),
            "." => return Err("has a `.` component".into()),
            ".." => return Err("leaves the repository (`..`)".into()),
            p if p.eq_ignore_ascii_case(".git") => {
                return Err("has a `.git` component, which Git never stores".into());
            }
            p if p.contains('\\') || p.contains('\0') => {
                return Err("contains a backslash or NUL byte".into());
            }
            _ => {}
        }
    }
    Ok(())
}

/// Inserts every proper ancestor directory of `path` (`a/b/c` → `a`, `a/b`).
fn add_ancestors(path: &str, into: &mut BTreeSet<String>) {
    for (i, c) in path.char_indices() {
        if c == '/' {
            // `i` is a char boundary of `path`, so the slice cannot panic.
            into.insert(path[..i].to_string());
        }
    }
}

/// Refuses a symlink (or a non-directory) on the way to the output directory or to any
/// rendered path in the working tree. Missing directories are fine: they will be created.
pub(crate) fn check_workdir(workdir: &Path, layout: &Layout) -> Result<(), GitError> {
    for dir in &layout.outer_dirs {
        let full = workdir.join(dir);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(symlink_error(layout, dir, "in the working tree"));
            }
            Ok(meta) if !meta.is_dir() => {
                return Err(outer_error(layout, dir, "is a file in the working tree"));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(GitError::Io { path: full, source }),
        }
    }
    Ok(())
}

/// Refuses a symlink, file or submodule on the way to the output directory in `base`, and
/// an outside path that is a directory there.
pub(crate) fn check_base_tree(base: &git2::Tree<'_>, layout: &Layout) -> Result<(), GitError> {
    for dir in &layout.outer_dirs {
        let Some(entry) = get_path(base, dir)? else {
            continue;
        };
        if entry.filemode() == MODE_SYMLINK {
            return Err(symlink_error(layout, dir, "in the base commit"));
        }
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {}
            Some(git2::ObjectType::Commit) => {
                return Err(outer_error(
                    layout,
                    dir,
                    "is a submodule in the base commit",
                ));
            }
            _ => return Err(outer_error(layout, dir, "is a file in the base commit")),
        }
    }
    for path in &layout.outside {
        if let Some(entry) = get_path(base, path)?
            && entry.kind() == Some(git2::ObjectType::Tree)
        {
            return Err(GitError::TreePath {
                path: path.clone(),
                reason: "is a directory in the base commit".into(),
            });
        }
    }
    Ok(())
}

/// Looks `path` up in `tree`; a missing path is `None`, not an error.
pub(crate) fn get_path<'r>(
    tree: &git2::Tree<'r>,
    path: &str,
) -> Result<Option<git2::TreeEntry<'r>>, GitError> {
    match tree.get_path(Path::new(path)) {
        Ok(entry) => Ok(Some(entry)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(source) => Err(GitError::Git {
            context: format!("reading `{path}` from tree {}", tree.id()),
            source,
        }),
    }
}

fn symlink_error(layout: &Layout, dir: &str, place: &str) -> GitError {
    outer_error(
        layout,
        dir,
        &format!("is a symlink {place}, which could lead outside the repository"),
    )
}

fn outer_error(layout: &Layout, dir: &str, what: &str) -> GitError {
    let reason = if dir == layout.out_dir {
        what.to_string()
    } else {
        format!("`{dir}` on the way to it {what}")
    };
    GitError::OutDir {
        out_dir: layout.out_dir.clone(),
        reason,
    }
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tree(paths: &[&str]) -> Tree {
        paths.iter().map(|p| (p.to_string(), Vec::new())).collect()
    }

    #[test]
    fn out_dir_is_normalised() {
        let l = layout("./clusters/prod/", &tree(&["clusters/prod/a.yaml"])).unwrap();
        assert_eq!(l.out_dir, "clusters/prod");
        assert!(l.outside.is_empty());
        let dirs: Vec<_> = l.outer_dirs.iter().map(String::as_str).collect();
        assert_eq!(dirs, ["clusters", "clusters/prod"]);
    }

    #[test]
    fn out_dir_outside_the_repository_is_refused() {
        for bad in [
            "/etc",
            "../x",
            "a/../../x",
            "",
            ".",
            "./",
            "a//b",
            "a/.git",
            "C:/x",
        ] {
            let err = layout(bad, &Tree::new()).unwrap_err();
            assert!(matches!(err, GitError::OutDir { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn rendered_paths_are_checked() {
        for bad in ["out/../x", "/abs", "out/.GIT/config", "out/a\\b", "out//a"] {
            let err = layout("out", &tree(&[bad])).unwrap_err();
            assert!(matches!(err, GitError::TreePath { .. }), "{bad}: {err}");
        }
        let err = layout("out", &tree(&["out/a", "out/a/b"])).unwrap_err();
        assert!(
            err.to_string().contains("both a file and a directory"),
            "{err}"
        );
        let err = layout("out/sub", &tree(&["out"])).unwrap_err();
        assert!(
            err.to_string().contains("both a file and a directory"),
            "{err}"
        );
    }

    #[test]
    fn paths_outside_out_dir_are_upserts() {
        let l = layout("out", &tree(&["out/a", "meshplan.lock", "x/y/z", "outer"])).unwrap();
        assert_eq!(l.outside, ["meshplan.lock", "outer", "x/y/z"]);
        assert!(l.outer_dirs.contains("x/y"));
        assert!(l.contains("out/a") && !l.contains("outer") && !l.contains("out"));
    }
}
