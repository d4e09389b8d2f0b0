//! The policy engine: regorus over the built-in policies (embedded from `policies/`) and the
//! user's, with metadata per rule, `spec.rules` overrides and `spec.exceptions` waivers.
//!
//! Rules are Rego v1 files, one per rule; each declares `metadata` as data (regorus does
//! not read OPA annotations) and findings in the sets `deny`, `warn` or `info`. All rules
//! share one engine and one input document (see `docs/policy-input.md`), set once per
//! evaluation, so the cost of converting the facts is paid once however many rules run.

mod apply;
mod builtin;
mod input;
mod set;
pub mod testing;

pub use apply::apply;
pub use input::{InputParts, build_input, build_step_input, synthetic_input};
pub use set::{Finding, PolicySet, RuleMeta, count_by_code};

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
    /// A user policy compiles but breaks the rule contract: missing or invalid `metadata`,
    /// a duplicate rule code, or a finding that is not `{msg, object?, hint?, step?}` (exit 2).
    #[error("{path}: {message}")]
    Contract {
        /// The policy file.
        path: PathBuf,
        /// What is wrong and what is expected.
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

/// Pulls the 1-based line out of a regorus error (`--> file:line:col`), 0 when absent.
fn error_location(message: &str) -> Option<(String, u64)> {
    let rest = message.split("--> ").nth(1)?;
    let first = rest.lines().next()?;
    // The file itself may contain ':' (Windows drive letters), so split from the right.
    let mut parts = first.rsplitn(3, ':');
    let _col = parts.next()?;
    let line = parts.next()?.trim().parse().ok()?;
    let file = parts.next()?.to_string();
    Some((file, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_location_reads_regorus_pointer() {
        let msg =
            "\n--> /tmp/x/bad.rego:3:7\n  |\n3 | deny contains x if {\n  |       ^\nerror: oops";
        assert_eq!(
            error_location(msg),
            Some(("/tmp/x/bad.rego".to_string(), 3))
        );
        assert_eq!(error_location("no pointer here"), None);
    }
}
