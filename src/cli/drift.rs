//! Rendering a lock into the files of `spec.output`, and the MP502 drift check: the files
//! under `spec.output` must be exactly what spec and lock render, because meshplan owns that
//! directory (docs/render.md) and a hand edit there would be silently undone by the next
//! render. The comparison is done here, once, in Rust; the `rendered_drift` policy only
//! turns its result (`input.rendered.drift`) into findings, so users can waive or re-rate it.

use super::context::{Context, relative_to};
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::render::{self, Charts, RenderedTree};
use crate::state::{LOCK_FILE, Lock};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rule code of rendered drift.
const MP502: &str = "MP502";

/// Everything meshplan writes into `spec.output` for `lock`: the render plus `meshplan.lock`.
pub(crate) fn render_lock(
    ctx: &Context,
    lock: &Lock,
    charts: &Charts,
) -> Result<RenderedTree, Error> {
    let model = super::model::render_model(&ctx.spec.spec, &ctx.inventory, lock, &ctx.base);
    let mut tree = render::render(&model, charts).map_err(|e| ctx.render_error(e))?;
    super::collisions::drop_adopted(&mut tree, lock);
    tree.insert(LOCK_FILE.to_string(), lock.to_yaml());
    Ok(tree)
}

/// The output directory of the spec (`spec.output` beside the spec file).
pub(crate) fn output_dir(ctx: &Context) -> PathBuf {
    ctx.spec.base_dir.join(&ctx.spec.spec.spec.output)
}

/// `path` as diagnostics and summaries show it: relative to `-C DIR` when below it, with `/`.
pub(crate) fn display_path(ctx: &Context, path: &Path) -> String {
    display_path_in(&ctx.dir, path)
}

/// [`display_path`] for `-C DIR` `dir`, before a [`Context`] exists.
pub(crate) fn display_path_in(dir: &Path, path: &Path) -> String {
    relative_to(path, dir)
        .unwrap_or_else(|| path.to_path_buf())
        .to_string_lossy()
        .replace('\\', "/")
}

/// How one file of the output directory differs from the render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DriftKind {
    /// Present in both, with other content (or not a regular file).
    Modified,
    /// Rendered but absent.
    Missing,
    /// Present but not rendered.
    Extra,
}

impl DriftKind {
    fn as_str(self) -> &'static str {
        match self {
            DriftKind::Modified => "modified",
            DriftKind::Missing => "missing",
            DriftKind::Extra => "extra",
        }
    }
}

/// The files of the output directory that differ from the render, sorted by file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Drift {
    /// File (relative to `-C DIR`, `/`-separated) → how it differs.
    pub files: BTreeMap<String, DriftKind>,
}

impl Drift {
    /// `{"drift": [{"file", "kind"}]}`, the `rendered` part of the policy input.
    pub fn to_input(&self) -> serde_json::Value {
        let drift: Vec<serde_json::Value> = self
            .files
            .iter()
            .map(|(file, kind)| serde_json::json!({"file": file, "kind": kind.as_str()}))
            .collect();
        serde_json::json!({ "drift": drift })
    }

    /// Points each MP502 diagnostic at its file, line 1: the policy names the file at the
    /// start of its message, and the longest drifted file that starts it is the one (a
    /// shorter one could be a prefix of a longer name).
    pub fn locate(&self, diagnostics: &mut [Diagnostic]) {
        for d in diagnostics.iter_mut().filter(|d| d.rule == MP502) {
            let file = self
                .files
                .keys()
                .filter(|f| {
                    d.message
                        .strip_prefix(f.as_str())
                        .is_some_and(|rest| rest.starts_with(' '))
                })
                .max_by_key(|f| f.len());
            if let Some(file) = file {
                d.file = Some(file.clone());
                d.line = Some(1);
            }
        }
    }
}

/// Reads `spec.output` once: compares it with what the current lock renders (with
/// `charts`), and keeps the files `keep` asks for (by relative path and text) for other
/// readers of the committed output. The drift is `None` when there is no lock, or only the
/// one `meshplan adopt` wrote (nothing has been rendered yet, so there is nothing to drift
/// from).
pub(crate) fn rendered_drift(
    ctx: &Context,
    charts: &Charts,
    keep: impl Fn(&str, &str) -> bool,
) -> Result<(Option<Drift>, RenderedTree), Error> {
    let out = output_dir(ctx);
    // The lock `meshplan adopt` wrote comes before any render: nothing to drift from yet.
    let Some(lock) = ctx.lock.as_ref().filter(|l| !l.is_adoption()) else {
        let (_, kept) = scan_dir(&out, None, keep)?;
        return Ok((None, kept));
    };
    let tree = render_lock(ctx, lock, charts)?;
    let prefix = display_path(ctx, &out);
    let (on_disk, kept) = scan_dir(&out, Some(&tree), keep)?;
    let files = on_disk
        .into_iter()
        .map(|(rel, kind)| (format!("{}/{rel}", prefix.trim_end_matches('/')), kind))
        .collect();
    Ok((Some(Drift { files }), kept))
}

/// Files under `dir` (relative, `/`-separated) that differ from `tree`, and rendered files
/// missing there. Linear in the number of files.
pub(crate) fn compare_dir(
    dir: &Path,
    tree: &RenderedTree,
) -> Result<BTreeMap<String, DriftKind>, Error> {
    Ok(scan_dir(dir, Some(tree), |_, _| false)?.0)
}

/// One walk of `dir`: how it differs from `tree` (when given), and the regular UTF-8 files
/// `keep` accepts, by relative path. Every file is read once.
fn scan_dir(
    dir: &Path,
    tree: Option<&RenderedTree>,
    keep: impl Fn(&str, &str) -> bool,
) -> Result<(BTreeMap<String, DriftKind>, RenderedTree), Error> {
    let mut out = BTreeMap::new();
    let mut kept = RenderedTree::new();
    let mut seen = 0usize;
    walk_files(dir, |rel, entry| {
        // A symlink or other special file is never what meshplan writes.
        let bytes = if entry.file_type().is_file() {
            Some(std::fs::read(entry.path()).map_err(io_error(entry.path()))?)
        } else {
            None
        };
        if let Some(tree) = tree {
            match tree.get(rel) {
                None => {
                    out.insert(rel.to_string(), DriftKind::Extra);
                }
                Some(expected) => {
                    seen += 1;
                    if bytes.as_deref() != Some(expected.as_bytes()) {
                        out.insert(rel.to_string(), DriftKind::Modified);
                    }
                }
            }
        }
        if let Some(text) = bytes.and_then(|b| String::from_utf8(b).ok())
            && keep(rel, &text)
        {
            kept.insert(rel.to_string(), text);
        }
        Ok(())
    })?;
    if let Some(tree) = tree
        && seen < tree.len()
    {
        for rel in tree.keys() {
            if !dir.join(rel).exists() {
                out.insert(rel.clone(), DriftKind::Missing);
            }
        }
    }
    Ok((out, kept))
}

/// An [`Error::Io`] about `path`.
fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { path, source }
}

/// Calls `visit` with every entry under `dir` that is not a directory (its path relative to
/// `dir`, `/`-separated), in file-name order; nothing when `dir` does not exist.
fn walk_files(
    dir: &Path,
    mut visit: impl FnMut(&str, &walkdir::DirEntry) -> Result<(), Error>,
) -> Result<(), Error> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            Error::Io {
                path,
                source: e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("directory loop")),
            }
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .map_err(|e| Error::Internal(e.to_string()))?
            .to_string_lossy()
            .replace('\\', "/");
        visit(&rel, &entry)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_dir_finds_modified_missing_and_extra() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree: RenderedTree = BTreeMap::from([
            ("a.yaml".to_string(), "a: 1\n".to_string()),
            ("sub/b.yaml".to_string(), "b: 1\n".to_string()),
            ("sub/c.yaml".to_string(), "c: 1\n".to_string()),
        ]);
        render::write_tree(&tree, dir.path()).expect("write");
        assert!(compare_dir(dir.path(), &tree).expect("compare").is_empty());
        std::fs::write(dir.path().join("a.yaml"), "a: 2\n").expect("edit");
        std::fs::remove_file(dir.path().join("sub/c.yaml")).expect("delete");
        std::fs::write(dir.path().join("sub/d.yaml"), "d: 1\n").expect("add");
        let drift = compare_dir(dir.path(), &tree).expect("compare");
        assert_eq!(
            drift.into_iter().collect::<Vec<_>>(),
            [
                ("a.yaml".to_string(), DriftKind::Modified),
                ("sub/c.yaml".to_string(), DriftKind::Missing),
                ("sub/d.yaml".to_string(), DriftKind::Extra),
            ]
        );
    }

    #[test]
    fn locate_picks_the_longest_file_naming_the_message() {
        let drift = Drift {
            files: BTreeMap::from([
                ("out/a.yaml".to_string(), DriftKind::Modified),
                ("out/a.yaml.bak".to_string(), DriftKind::Extra),
            ]),
        };
        let mut d = Diagnostic {
            rule: MP502.to_string(),
            name: "rendered-drift".to_string(),
            severity: crate::diagnostic::Severity::Deny,
            message: "out/a.yaml.bak is not part of what spec and lock render (added by hand?)"
                .to_string(),
            object: None,
            file: None,
            line: None,
            hint: None,
            step: None,
        };
        drift.locate(std::slice::from_mut(&mut d));
        assert_eq!(d.file.as_deref(), Some("out/a.yaml.bak"));
        assert_eq!(d.line, Some(1));
        assert_eq!(
            drift.to_input()["drift"][1],
            serde_json::json!({"file": "out/a.yaml.bak", "kind": "extra"})
        );
    }
}
