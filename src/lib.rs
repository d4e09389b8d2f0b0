//! meshplan: turns a declarative Istio mesh spec into safe, reviewable GitOps upgrade steps.
//!
//! The crate is laid out by pipeline stage (see `DESIGN.md` in the shared docs):
//! spec → inventory → state → facts → plan → (render) → policy → report. `cli` wires the
//! stages into commands; `main.rs` only parses arguments and maps results to exit codes.

pub mod catalog;
pub mod cli;
pub mod diagnostic;
pub mod error;
pub mod facts;
pub mod git;
pub mod guard;
pub mod inventory;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod render;
pub mod report;
pub mod spec;
pub mod state;

pub use error::{Error, ExitCode};
