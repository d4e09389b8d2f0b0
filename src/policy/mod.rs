//! The policy engine: regorus over the built-in policies (embedded from `policies/`) and the
//! user's, with metadata per rule, `spec.rules` overrides and `spec.exceptions` waivers.

use std::path::PathBuf;

/// A policy could not be loaded or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A user policy does not parse or compile (exit 2).
    #[error("{path}:{line}: {message}")]
    Compile {
        /// The policy file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The compiler's message.
        message: String,
    },
    /// A policy directory could not be read (exit 2).
    #[error("{path}: {message}")]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Evaluation failed inside a built-in policy (exit 3).
    #[error("policy evaluation failed: {0}")]
    Eval(String),
}

impl PolicyError {
    /// Whether this is our bug rather than the user's input.
    pub fn is_internal(&self) -> bool {
        matches!(self, PolicyError::Eval(_))
    }
}
