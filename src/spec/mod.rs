//! Loading and validating `meshplan.yaml`. The typed model lives in [`model`]; this module
//! turns a file into a [`Spec`] or a [`SpecError`] naming file, line and column.

pub mod model;

pub use model::*;

use std::path::{Path, PathBuf};

/// A spec that could not be loaded: always the user's input, exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct SpecError {
    /// The spec file.
    pub path: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// What was expected, with a "did you mean" hint where one helps.
    pub message: String,
}

/// A loaded spec with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The spec file as given.
    pub path: PathBuf,
    /// Directory relative paths in the spec (manifests, output, policies) resolve against.
    pub base_dir: PathBuf,
    /// The typed spec.
    pub spec: Spec,
}

/// Reads, parses and validates a spec file.
pub fn load(path: &Path) -> Result<LoadedSpec, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|e| SpecError {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read spec: {e}"),
    })?;
    let spec = parse(path, &text)?;
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(LoadedSpec {
        path: path.to_path_buf(),
        base_dir,
        spec,
    })
}

/// Parses spec text; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<Spec, SpecError> {
    serde_saphyr::from_str::<Spec>(text).map_err(|e| SpecError {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: e.to_string(),
    })
}

impl Spec {
    /// The managed revision name: `spec.istio.revision` or the version with dots as dashes.
    pub fn revision(&self) -> String {
        self.spec
            .istio
            .revision
            .clone()
            .unwrap_or_else(|| revision_name(&self.spec.istio.version))
    }
}

/// The revision name Istio users conventionally give a version: `1.24.3` → `1-24-3`.
pub fn revision_name(version: &str) -> String {
    version.replace('.', "-")
}
