//! Resolves manifest sources (spec globs and `-f` paths) to the files to read, refusing
//! anything that would read outside the repository: absolute or `..` globs, and symlinks
//! that resolve outside the base directory. Walks follow symlinks (a repository may link a
//! shared folder) and walkdir's loop detection turns a link cycle into an error.

use super::InventoryError;
use globset::GlobBuilder;
use std::path::{Component, Path, PathBuf};
use walkdir::WalkDir;

/// A file to load and how to name it.
#[derive(Debug, Clone)]
pub(crate) struct FileInput {
    /// Where to read it.
    pub path: PathBuf,
    /// How reports name it: relative to the base directory with `/`, or as given.
    pub display: String,
    /// Namespace for its namespaced objects that have none.
    pub namespace: Option<String>,
}

/// Resolves sources against one base directory.
pub(crate) struct Resolver {
    base: PathBuf,
    canon_base: PathBuf,
}

impl Resolver {
    /// A resolver for `base`, which must exist.
    pub fn new(base: &Path) -> Result<Resolver, InventoryError> {
        // `Path::new("")` means the current directory to users but not to `canonicalize`.
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        let canon_base = base.canonicalize().map_err(|e| {
            InventoryError::new(base, 0, format!("cannot open the base directory: {e}"))
        })?;
        Ok(Resolver {
            base: base.to_path_buf(),
            canon_base,
        })
    }

    /// The files a spec glob matches, sorted; `Ok(empty)` when it matches nothing.
    pub fn glob(
        &self,
        pattern: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<FileInput>, InventoryError> {
        let pattern_path = Path::new(pattern);
        let bad = |message: &str| InventoryError::new(pattern_path, 0, message.to_string());
        if pattern.trim().is_empty() {
            return Err(bad("empty manifest glob"));
        }
        if pattern.starts_with('/') || pattern.starts_with('\\') || pattern_path.has_root() {
            return Err(bad(
                "manifest glob is absolute; write it relative to the spec directory",
            ));
        }
        let parts: Vec<&str> = pattern
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        if parts.contains(&"..") {
            return Err(bad("manifest glob leaves the repository with `..`; \
                 only files below the spec directory are read"));
        }
        let normalized = parts.join("/");
        let matcher = GlobBuilder::new(&normalized)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| bad(&format!("invalid manifest glob: {e}")))?
            .compile_matcher();

        // Walk only below the literal prefix: `apps/shop/*.yaml` never visits `vendor/`.
        let literal = parts.iter().take_while(|p| !is_glob_part(p)).count();
        let prefix: PathBuf = parts.iter().take(literal).collect();
        let rest = parts.get(literal..).unwrap_or(&[]);
        let root = self.base.join(&prefix);
        if !root.exists() {
            return Ok(Vec::new());
        }
        let max_depth = if rest.contains(&"**") {
            usize::MAX
        } else {
            rest.len()
        };
        let mut out = Vec::new();
        for entry in walk(&root, max_depth) {
            let entry = entry.map_err(|e| self.walk_error(&e))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let display = self.display(entry.path());
            if !matcher.is_match(&display) {
                continue;
            }
            self.check_inside(entry.path(), &self.canon_base, &display)?;
            out.push(FileInput {
                path: entry.path().to_path_buf(),
                display,
                namespace: namespace.map(str::to_string),
            });
        }
        Ok(out)
    }

    /// The files of an `-f PATH` source: the file itself, or every `*.yaml`, `*.yml` and
    /// `*.json` below a directory. A relative path is taken relative to the base directory.
    pub fn path(&self, given: &Path) -> Result<Vec<FileInput>, InventoryError> {
        let path = self.base.join(given);
        let canon = path.canonicalize().map_err(|e| {
            InventoryError::new(given, 0, format!("cannot read manifest path: {e}"))
        })?;
        // An explicit path may lie anywhere; what it leads to must stay within the
        // repository when it is inside one, else within the named directory itself.
        let root = if canon.starts_with(&self.canon_base) {
            self.canon_base.clone()
        } else {
            canon.clone()
        };
        if canon.is_file() {
            return Ok(vec![FileInput {
                display: self.display_any(&path, &canon, given),
                path,
                namespace: None,
            }]);
        }
        let mut out = Vec::new();
        for entry in walk(&path, usize::MAX) {
            let entry = entry.map_err(|e| self.walk_error(&e))?;
            if !entry.file_type().is_file() || !is_manifest_name(entry.path()) {
                continue;
            }
            let inner = entry.path();
            let canon_inner = inner
                .canonicalize()
                .map_err(|e| InventoryError::new(inner, 0, format!("cannot read manifest: {e}")))?;
            let shown = inner
                .strip_prefix(&path)
                .map(|rel| given.join(rel))
                .unwrap_or_else(|_| inner.to_path_buf());
            let display = self.display_any(inner, &canon_inner, &shown);
            self.check_inside(inner, &root, &display)?;
            out.push(FileInput {
                path: inner.to_path_buf(),
                display,
                namespace: None,
            });
        }
        Ok(out)
    }

    /// `path` relative to the base directory, `/`-separated.
    fn display(&self, path: &Path) -> String {
        slash(path.strip_prefix(&self.base).unwrap_or(path))
    }

    /// Relative to the base directory when the file is in it, else the path as given.
    fn display_any(&self, path: &Path, canon: &Path, given: &Path) -> String {
        if let Ok(rel) = path.strip_prefix(&self.base) {
            slash(rel)
        } else if let Ok(rel) = canon.strip_prefix(&self.canon_base) {
            slash(rel)
        } else {
            slash(given)
        }
    }

    /// Refuses a file whose real location is outside `root` (a symlink leading out).
    fn check_inside(&self, path: &Path, root: &Path, display: &str) -> Result<(), InventoryError> {
        let canon = path.canonicalize().map_err(|e| {
            InventoryError::new(Path::new(display), 0, format!("cannot read manifest: {e}"))
        })?;
        if canon.starts_with(root) {
            Ok(())
        } else {
            Err(InventoryError::new(
                Path::new(display),
                0,
                format!(
                    "points outside the repository (resolves to {}); refusing to read it",
                    canon.display()
                ),
            ))
        }
    }

    /// A walk failure as an error naming the path, with the loop spelled out.
    fn walk_error(&self, err: &walkdir::Error) -> InventoryError {
        let path = err
            .path()
            .map(|p| PathBuf::from(self.display(p)))
            .unwrap_or_else(|| self.base.clone());
        match err.loop_ancestor() {
            Some(ancestor) => InventoryError::new(
                &path,
                0,
                format!(
                    "symlink loop: leads back to {}; remove the link or narrow the glob",
                    self.display(ancestor)
                ),
            ),
            None => InventoryError::new(&path, 0, format!("cannot read directory: {err}")),
        }
    }
}

/// A sorted, link-following walk that never enters `.git`.
fn walk(root: &Path, max_depth: usize) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> {
    WalkDir::new(root)
        .follow_links(true)
        .max_depth(max_depth)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
}

/// Whether one `/`-separated glob part contains glob syntax.
fn is_glob_part(part: &str) -> bool {
    part.contains(['*', '?', '[', ']', '{', '}', '\\'])
}

/// Whether a file found under an `-f DIR` is a manifest by its extension.
fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// A path with `/` separators whatever the platform.
fn slash(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            Component::RootDir => Some(String::new()),
            Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    parts.join("/")
}
