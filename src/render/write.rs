//! Putting a rendered tree on disk all at once: a failed write leaves the output directory as
//! it was, and a reader (a Git diff, a CI job) never sees half of a new tree mixed with half of
//! the old one.
//!
//! meshplan owns the output directory entirely: the new tree replaces it, and files meshplan
//! did not render are removed. `meshplan.lock` lives there too; the caller puts it into the
//! tree before writing, so tree and lock always change together.

use super::{RenderError, RenderedTree};
use std::path::{Component, Path, PathBuf};

/// Writes `tree` as the whole content of `out_dir`: into a fresh directory beside it first,
/// then swapped in by renames. On error nothing under `out_dir` has changed.
///
/// The swap is two renames (old tree aside, new tree in), so for an instant `out_dir` may be
/// missing, but it never holds a mix of two trees. A symlinked `out_dir` is refused: renaming
/// would replace the link, not the directory it points to.
pub fn write_tree(tree: &RenderedTree, out_dir: &Path) -> Result<(), RenderError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RenderError::Io { path, source }
    };
    let name = out_dir.file_name().ok_or_else(|| RenderError::Io {
        path: out_dir.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory name"),
    })?;
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Ok(meta) = std::fs::symlink_metadata(out_dir)
        && (meta.file_type().is_symlink() || !meta.is_dir())
    {
        return Err(RenderError::Io {
            path: out_dir.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the output path exists and is not a plain directory",
            ),
        });
    }
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let prefix = format!(".{}.meshplan-new-", name.to_string_lossy());
    let staging = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    for (relative, contents) in tree {
        let path = staging.path().join(safe_relative(relative)?);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(&path, contents).map_err(io(&path))?;
    }
    set_directory_mode(staging.path()).map_err(io(staging.path()))?;

    // Swap: move the old tree aside (into a temp dir that cleans itself up), move the new one
    // in, and put the old one back if that fails.
    let graveyard = tempfile::Builder::new()
        .prefix(&format!(".{}.meshplan-old-", name.to_string_lossy()))
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    let old = graveyard.path().join("old");
    let had_old = out_dir.exists();
    if had_old {
        std::fs::rename(out_dir, &old).map_err(io(out_dir))?;
    }
    if let Err(source) = std::fs::rename(staging.path(), out_dir) {
        if had_old {
            // Best effort: the original error is the one to report.
            let _ = std::fs::rename(&old, out_dir);
        }
        return Err(RenderError::Io {
            path: out_dir.to_path_buf(),
            source,
        });
    }
    // The staging directory is now `out_dir`; keep TempDir from deleting it on drop.
    let _ = staging.keep();
    drop(graveyard);
    Ok(())
}

/// A tree path as a relative path with only normal components (no `..`, no root).
fn safe_relative(relative: &str) -> Result<PathBuf, RenderError> {
    let path = Path::new(relative);
    let ok = !relative.is_empty()
        && !relative.contains('\\')
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(path.to_path_buf())
    } else {
        Err(RenderError::Internal(format!(
            "rendered path `{relative}` is not a plain relative path"
        )))
    }
}

/// Staging directories are created private (0700); the output is an ordinary directory.
#[cfg(unix)]
fn set_directory_mode(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_directory_mode(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(entries: &[(&str, &str)]) -> RenderedTree {
        entries
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect()
    }

    fn snapshot(dir: &Path) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(dir).expect("under dir");
                (
                    rel.to_string_lossy().into_owned(),
                    std::fs::read_to_string(e.path()).expect("readable"),
                )
            })
            .collect();
        files.sort();
        files
    }

    fn siblings(parent: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(parent)
            .expect("readable")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_whole_directory() {
        let root = tempfile::tempdir().expect("tempdir");
        let out = root.path().join("rendered");
        write_tree(
            &tree(&[("a.yaml", "1\n"), ("x/b.yaml", "2\n"), ("stale.yaml", "s")]),
            &out,
        )
        .expect("first write");
        write_tree(&tree(&[("a.yaml", "3\n"), ("x/c.yaml", "4\n")]), &out).expect("second write");
        assert_eq!(
            snapshot(&out),
            vec![
                ("a.yaml".into(), "3\n".into()),
                ("x/c.yaml".into(), "4\n".into())
            ]
        );
        assert_eq!(siblings(root.path()), vec!["rendered".to_string()]);
    }

    #[test]
    fn a_failure_mid_write_leaves_the_old_tree_untouched() {
        let root = tempfile::tempdir().expect("tempdir");
        let out = root.path().join("rendered");
        write_tree(
            &tree(&[("kustomization.yaml", "old\n"), ("ns/a.yaml", "old\n")]),
            &out,
        )
        .expect("first write");
        let before = snapshot(&out);
        // `a` is written as a file, then `a/b.yaml` needs `a` to be a directory: the write
        // fails after files were already written to the staging directory.
        let err = write_tree(
            &tree(&[
                ("a", "file\n"),
                ("a/b.yaml", "x\n"),
                ("kustomization.yaml", "new\n"),
            ]),
            &out,
        )
        .expect_err("cannot create a/b.yaml");
        assert!(matches!(err, RenderError::Io { .. }), "{err}");
        assert_eq!(snapshot(&out), before);
        assert_eq!(siblings(root.path()), vec!["rendered".to_string()]);
    }

    #[test]
    fn unsafe_paths_are_refused_before_anything_is_written() {
        let root = tempfile::tempdir().expect("tempdir");
        let out = root.path().join("rendered");
        for bad in ["../escape.yaml", "/abs.yaml", "", "a/../../b"] {
            let err = write_tree(&tree(&[(bad, "x")]), &out).expect_err("refused");
            assert!(err.is_internal(), "{bad}: {err}");
        }
        assert!(!out.exists());
        assert!(siblings(root.path()).is_empty());
    }
}
