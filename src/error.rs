//! The error boundary of the whole program: every stage error converts into [`Error`],
//! which knows whether it is the user's input (exit 2) or a bug of ours (exit 3).

use std::path::PathBuf;

/// Process exit codes fixed by the CLI contract in DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Passed: no finding at or above `--fail-on`.
    Ok = 0,
    /// Policy findings at or above `--fail-on` (or differences for `diff --exit-code`).
    Findings = 1,
    /// Invalid input or usage; the message says what and where.
    Input = 2,
    /// Internal error.
    Internal = 3,
}

/// Any error that ends a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec file (`meshplan.yaml`) could not be read or does not fit the schema.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),
    /// A manifest could not be loaded.
    #[error(transparent)]
    Inventory(#[from] crate::inventory::InventoryError),
    /// The release catalogue could not be read.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    /// The lock (`meshplan.lock`) could not be read, or belongs to another cluster.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// A policy could not be loaded or compiled.
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    /// The render stage failed (a `--charts` template, or a bug of ours).
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    /// The Git repository could not be diffed or committed to (the user's repository).
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    /// Bad command-line usage that clap could not catch (e.g. conflicting values).
    #[error("{0}")]
    Usage(String),
    /// A file we had to write or read outside the stages above.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A bug in meshplan: never the user's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The exit code this error maps to.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Internal(_) => ExitCode::Internal,
            Error::Policy(e) if e.is_internal() => ExitCode::Internal,
            Error::Render(e) if e.is_internal() => ExitCode::Internal,
            Error::Inventory(e) if e.is_internal() => ExitCode::Internal,
            _ => ExitCode::Input,
        }
    }
}
