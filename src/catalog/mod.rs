//! The Istio release catalogue: minor releases with release and end-of-life dates, the
//! Kubernetes versions each supports, and every patch release. Embedded in the binary from
//! `catalog/releases.yaml`; `--catalog FILE` replaces it.

use std::path::PathBuf;

/// The catalogue could not be read: the user's input (`--catalog FILE`), exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct CatalogError {
    /// The catalogue file (`<embedded>` for the built-in one).
    pub path: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// What was wrong.
    pub message: String,
}
