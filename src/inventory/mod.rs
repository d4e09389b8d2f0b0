//! The inventory: every Kubernetes object found in the spec's manifest globs, `-f PATH`
//! arguments and stdin, each with its source file and 1-based line, indexed by
//! kind/namespace/name. Secrets keep their metadata only.

use crate::diagnostic::ObjectRef;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One Kubernetes object from a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// apiVersion/kind/namespace/name; namespace already defaulted for namespaced kinds.
    pub id: ObjectRef,
    /// Source file relative to the base directory (`-C DIR`), `-` for stdin.
    pub file: String,
    /// 1-based line where the object's document starts.
    pub line: u32,
    /// The whole object as JSON; for Secrets `data` and `stringData` are removed.
    pub body: serde_json::Value,
}

/// Every object loaded, in a stable order, with an index by `Kind/namespace/name`.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Objects sorted by (file, line).
    pub objects: Vec<Object>,
    /// `ObjectRef::key()` → position in `objects`.
    pub index: BTreeMap<String, usize>,
    /// Non-fatal problems (e.g. a glob matching nothing), already phrased for the user.
    pub warnings: Vec<String>,
}

/// A manifest could not be loaded: the user's input, exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct InventoryError {
    /// The file concerned, as given or relative to the base directory.
    pub path: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// What was wrong and what was expected.
    pub message: String,
}
