//! Rendering a lock into the files of `spec.output`, and the MP502 drift check: the files
//! under `spec.output` must be exactly what spec and lock render, because meshplan owns that
//! directory (docs/render.md) and a hand edit there would be silently undone by the next
//! render. The comparison is done here, once, in Rust; the `rendered_drift` policy only
//! turns its result (`input.rendered.drift`) into findings, so users can waive or re-rate it.

use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::pipeline::{Pipeline, relative_to};
use crate::render::{self, Charts, RenderedTree};
use crate::state::{LOCK_FILE, Lock, file_digest};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rule code of rendered drift.
const MP502: &str = "MP502";

/// Everything meshplan writes into `spec.output` for `lock`: the render plus `meshplan.lock`,
/// which records the digest of every rendered file (`Lock::files`), so that later drift is
/// judged against these bytes rather than against a re-render.
pub fn render_lock(ctx: &Pipeline, lock: &Lock, charts: &Charts) -> Result<RenderedTree, Error> {
    let mut tree = render_files(ctx, lock, charts)?;
    let mut lock = lock.clone();
    lock.files = tree
        .iter()
        .map(|(rel, text)| (rel.clone(), file_digest(text.as_bytes())))
        .collect();
    tree.insert(LOCK_FILE.to_string(), lock.to_yaml());
    Ok(tree)
}

/// What `lock` renders with the lock's own text unchanged: what a lock written before
/// meshplan recorded digests is compared with, and what `diff` shows when no step is left.
pub fn render_recorded(
    ctx: &Pipeline,
    lock: &Lock,
    charts: &Charts,
) -> Result<RenderedTree, Error> {
    let mut tree = render_files(ctx, lock, charts)?;
    tree.insert(LOCK_FILE.to_string(), lock.to_yaml());
    Ok(tree)
}

/// The rendered files of `lock`, without `meshplan.lock`.
fn render_files(ctx: &Pipeline, lock: &Lock, charts: &Charts) -> Result<RenderedTree, Error> {
    try_render(ctx, lock, charts).map_err(|e| ctx.render_error(e))
}

/// The rendered files of `lock`, without `meshplan.lock`, or the renderer's own error.
pub fn try_render(
    ctx: &Pipeline,
    lock: &Lock,
    charts: &Charts,
) -> Result<RenderedTree, render::RenderError> {
    let model = crate::pipeline::change::model::render_model(
        &ctx.spec.spec,
        &ctx.inventory,
        lock,
        &ctx.base,
        ctx.tenancy.as_ref(),
    );
    let mut tree = render::render(&model, charts)?;
    // What `adopt` took over is replaced in place: marked so no GitOps tool prunes it.
    crate::pipeline::change::takeover::mark(&mut tree, lock);
    Ok(tree)
}

/// The output directory of the spec (`spec.output` beside the spec file).
pub fn output_dir(ctx: &Pipeline) -> PathBuf {
    ctx.spec.base_dir.join(&ctx.spec.spec.spec.output)
}

/// `path` as diagnostics and summaries show it: relative to `-C DIR` when below it, with `/`.
pub fn display_path(ctx: &Pipeline, path: &Path) -> String {
    display_path_in(&ctx.dir, path)
}

/// `rel` (a path inside the output directory) as the user sees it, under `prefix` (the
/// output directory as [`display_path`] shows it; empty or `.` for `-C DIR` itself).
pub fn display_in(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() || prefix == "." {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    }
}

/// [`display_path`] for `-C DIR` `dir`, before a [`Pipeline`] exists.
pub fn display_path_in(dir: &Path, path: &Path) -> String {
    relative_to(path, dir)
        .unwrap_or_else(|| path.to_path_buf())
        .to_string_lossy()
        .replace('\\', "/")
}

/// How one file of the output directory differs from the render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DriftKind {
    /// Present in both, with other content (or not a regular file).
    Modified,
    /// Rendered but absent.
    Missing,
    /// Present but not rendered.
    Extra,
    /// `meshplan.lock` is absent while files remain under `spec.output`.
    NoLock,
}

impl DriftKind {
    fn as_str(self) -> &'static str {
        match self {
            DriftKind::Modified => "modified",
            DriftKind::Missing => "missing",
            DriftKind::Extra => "extra",
            DriftKind::NoLock => "no-lock",
        }
    }
}

/// What the files of `spec.output` should be.
#[derive(Clone, Copy)]
pub enum Expected<'a> {
    /// Exactly these texts (`meshplan.lock` included): a re-render.
    Tree(&'a RenderedTree),
    /// Files with these digests, and `meshplan.lock` (whatever it holds): the lock's record.
    Digests(&'a BTreeMap<String, String>),
}

impl Expected<'_> {
    /// Whether the file at `rel` is expected (`None`: it is not) and, if so, whether `bytes`
    /// (`None`: not a regular file) are what was expected. The lock is not one of its own
    /// digests: it is always expected and always matches.
    fn matches(&self, rel: &str, bytes: Option<&[u8]>) -> Option<bool> {
        match self {
            Expected::Tree(tree) => tree.get(rel).map(|text| bytes == Some(text.as_bytes())),
            Expected::Digests(_) if rel == LOCK_FILE => Some(true),
            Expected::Digests(files) => files
                .get(rel)
                .map(|digest| bytes.is_some_and(|b| file_digest(b) == *digest)),
        }
    }

    /// The files expected besides `meshplan.lock`'s own entry.
    fn paths(&self) -> Box<dyn Iterator<Item = &String> + '_> {
        match self {
            Expected::Tree(tree) => Box::new(tree.keys()),
            Expected::Digests(files) => Box::new(files.keys()),
        }
    }

    /// How many files are expected: [`Expected::paths`], and for digests the lock too (it
    /// is no digest of its own, yet it is expected and counted when seen).
    fn len(&self) -> usize {
        match self {
            Expected::Tree(tree) => tree.len(),
            Expected::Digests(files) => files.len() + 1,
        }
    }
}

/// The files of the output directory that differ from the render, sorted by file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
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

/// Reads `spec.output` once: compares it with what meshplan last rendered there, and keeps
/// the files `keep` asks for (by relative path and text) for other readers of the committed
/// output. What was rendered is the digests the lock records (`Lock::files`), so an edit of
/// the spec or a meshplan that renders differently is not drift; a lock without digests
/// (written before meshplan recorded them) is re-rendered with `charts` and compared as it
/// was. Without a lock, any file there is drift (kind `no-lock`, one finding at the missing
/// lock); the drift is `None` when there is no lock and no file (nothing rendered yet).
/// The lock `meshplan adopt` wrote comes before any render: nothing to drift from yet.
pub fn rendered_drift(
    ctx: &Pipeline,
    charts: &Charts,
    keep: impl Fn(&str, &str) -> bool,
) -> Result<(Option<Drift>, RenderedTree), Error> {
    let out = output_dir(ctx);
    let prefix = display_path(ctx, &out);
    let shown = |rel: &str| format!("{}/{rel}", prefix.trim_end_matches('/'));
    let Some(lock) = &ctx.lock else {
        let none = RenderedTree::new();
        let (on_disk, kept) = scan_dir(&out, Some(Expected::Tree(&none)), keep)?;
        let drift = (!on_disk.is_empty()).then(|| Drift {
            files: BTreeMap::from([(shown(LOCK_FILE), DriftKind::NoLock)]),
        });
        return Ok((drift, kept));
    };
    if lock.is_adoption() {
        let (_, kept) = scan_dir(&out, None, keep)?;
        return Ok((None, kept));
    }
    let tree;
    let expected = if lock.files.is_empty() {
        tree = render_recorded(ctx, lock, charts)?;
        Expected::Tree(&tree)
    } else {
        Expected::Digests(&lock.files)
    };
    let (on_disk, kept) = scan_dir(&out, Some(expected), keep)?;
    let files = on_disk
        .into_iter()
        .map(|(rel, kind)| (shown(&rel), kind))
        .collect();
    Ok((Some(Drift { files }), kept))
}

/// Files under `dir` (relative, `/`-separated) that differ from `tree`, and rendered files
/// missing there. Linear in the number of files.
pub fn compare_dir(dir: &Path, tree: &RenderedTree) -> Result<BTreeMap<String, DriftKind>, Error> {
    Ok(scan_dir(dir, Some(Expected::Tree(tree)), |_, _| false)?.0)
}

/// One walk of `dir`: how it differs from `tree` (when given), and the regular UTF-8 files
/// `keep` accepts, by relative path. Every file is read once.
fn scan_dir(
    dir: &Path,
    tree: Option<Expected<'_>>,
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
            match tree.matches(rel, bytes.as_deref()) {
                None => {
                    out.insert(rel.to_string(), DriftKind::Extra);
                }
                Some(same) => {
                    seen += 1;
                    if !same {
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
        for rel in tree.paths() {
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
    fn digests_find_modified_missing_and_extra_and_leave_the_lock_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree: RenderedTree = BTreeMap::from([
            ("a.yaml".to_string(), "a: 1\n".to_string()),
            ("sub/b.yaml".to_string(), "b: 1\n".to_string()),
            ("sub/c.yaml".to_string(), "c: 1\n".to_string()),
            (
                LOCK_FILE.to_string(),
                "whatever the lock holds\n".to_string(),
            ),
        ]);
        render::write_tree(&tree, dir.path()).expect("write");
        let digests: BTreeMap<String, String> = tree
            .iter()
            .filter(|(rel, _)| rel.as_str() != LOCK_FILE)
            .map(|(rel, text)| (rel.clone(), file_digest(text.as_bytes())))
            .collect();
        let scan = |d: &Path| scan_dir(d, Some(Expected::Digests(&digests)), |_, _| false);
        assert!(scan(dir.path()).expect("scan").0.is_empty());
        std::fs::write(dir.path().join("a.yaml"), "a: 2\n").expect("edit");
        std::fs::remove_file(dir.path().join("sub/c.yaml")).expect("delete");
        std::fs::write(dir.path().join("sub/d.yaml"), "d: 1\n").expect("add");
        std::fs::write(dir.path().join(LOCK_FILE), "edited lock\n").expect("lock");
        assert_eq!(
            scan(dir.path())
                .expect("scan")
                .0
                .into_iter()
                .collect::<Vec<_>>(),
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
            message: "out/a.yaml.bak is not part of what meshplan rendered (added by hand?)"
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
