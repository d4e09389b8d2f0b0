//! The pieces of a `{flux: DIR}` walk that touch files rather than Flux objects: the
//! artifacts source-watcher's `ArtifactGenerator` copies out of the repository, the
//! kustomization kustomize-controller generates for a path without one, charts pulled into
//! `--chart-dir`, and Helm's merge of values.

use super::build::{BuildResult, Repo, Tools};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An `ExternalArtifact` copied out of the repository as source-watcher copies it.
pub(crate) struct Artifact {
    /// Where the artifact was materialized (canonical).
    pub dir: PathBuf,
    /// Each copied file → the repository file it was copied from.
    pub origins: BTreeMap<PathBuf, PathBuf>,
    /// Keeps the directory alive.
    _temp: tempfile::TempDir,
}

impl Artifact {
    /// The repository directory a directory of the artifact was copied from (the parent of
    /// the origin of any file copied below it), None when nothing was.
    pub fn origins_dir(&self, dir: &Path) -> Option<PathBuf> {
        let (copied, origin) = self.origins.iter().find(|(c, _)| c.starts_with(dir))?;
        let depth = copied.strip_prefix(dir).ok()?.components().count();
        let mut out = origin.clone();
        for _ in 0..depth {
            out.pop();
        }
        Some(out)
    }
}

/// A chart pulled into `--chart-dir`: `<chart>-<version>/` or `.tgz`, else the only
/// `<chart>-*` there when the version is a range.
pub(crate) fn pulled_chart(tools: &Tools, chart: &str, version: &str) -> Option<PathBuf> {
    let dir = tools.chart_dir.as_ref()?;
    for candidate in [
        dir.join(format!("{chart}-{version}")),
        dir.join(format!("{chart}-{version}.tgz")),
    ] {
        if !version.is_empty() && candidate.exists() {
            return candidate.canonicalize().ok();
        }
    }
    let prefix = format!("{chart}-");
    let mut matches: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().map(|n| n.to_string_lossy()).and_then(|n| {
                n.strip_prefix(&prefix)
                    .map(|v| v.starts_with(|c: char| c.is_ascii_digit()))
            }) == Some(true)
        })
        .collect();
    matches.sort();
    (matches.len() == 1)
        .then(|| matches.pop())
        .flatten()
        .and_then(|p| p.canonicalize().ok())
}

/// Copies the files an artifact's rules select into a temporary directory, remembering
/// where each came from. A rule `from: "@src/apps/base/**", to: "@artifact/base/"` copies
/// `apps/base/x/y.yaml` to `base/x/y.yaml`.
pub(crate) fn materialize(repo: &Repo, rules: &[(String, String)]) -> BuildResult<Artifact> {
    let temp = tempfile::Builder::new()
        .prefix("meshplan-artifact-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let dir = temp
        .path()
        .canonicalize()
        .map_err(|e| format!("cannot open a temporary directory: {e}"))?;
    let mut origins = BTreeMap::new();
    for (pattern, to) in rules {
        let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
        let literal = parts
            .iter()
            .take_while(|p| !p.contains(['*', '?', '[', '{']))
            .count();
        let prefix: PathBuf = parts.iter().take(literal).collect();
        let matcher = globset::GlobBuilder::new(&parts.join("/"))
            .literal_separator(true)
            .build()
            .map_err(|e| format!("ArtifactGenerator copy `{pattern}`: {e}"))?
            .compile_matcher();
        let start = repo.inside(&prefix.to_string_lossy())?;
        let to = to.trim_start_matches('/');
        for entry in walkdir::WalkDir::new(&start).sort_by_file_name() {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", start.display()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&repo.canon) else {
                continue;
            };
            let rel_text = super::build::slash(rel);
            if literal < parts.len() && !matcher.is_match(&rel_text) {
                continue;
            }
            let below = entry.path().strip_prefix(&start).unwrap_or(rel);
            let dest = if literal == parts.len() && start.is_file() {
                dir.join(to).join(entry.file_name())
            } else {
                dir.join(to).join(below)
            };
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot copy: {e}"))?;
            }
            std::fs::copy(entry.path(), &dest).map_err(|e| format!("cannot copy: {e}"))?;
            origins.insert(dest, entry.path().to_path_buf());
        }
    }
    Ok(Artifact {
        dir,
        origins,
        _temp: temp,
    })
}

/// What kustomize-controller generates for a path without a kustomization: every
/// `*.yaml`/`*.yml` file below it, and every subdirectory holding a kustomization (whose
/// own files are then left to it), sorted.
pub(crate) fn generated_resources(dir: &Path) -> BuildResult<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut walk = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        if entry.file_type().is_dir() {
            if super::kustomize::has_kustomization(path) {
                out.push(path.to_path_buf());
                walk.skip_current_dir();
            }
            continue;
        }
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path.to_path_buf());
        }
    }
    Ok(out)
}

/// Merges `over` into `base` as Helm merges values: maps key by key, anything else replaced.
pub(crate) fn deep_merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, other) => *slot = other,
    }
}
