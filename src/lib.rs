//! meshplan: turns a declarative Istio mesh spec into safe, reviewable GitOps upgrade steps.
//!
//! The crate is laid out by pipeline stage (see `DESIGN.md` in the shared docs and
//! `docs/architecture.md`): spec → inventory → state → facts → plan → render → policy →
//! report, composed by [`pipeline`], which the CLI calls. `main.rs` only parses arguments
//! and maps results to exit codes.
//!
//! # Layers
//! Bottom to top. A module uses only modules of the layers before its own, never a later
//! one (`tests/layering.rs` reads `src/` and fails otherwise):
//!
//! 1. `diagnostic`, `guard` — findings and object references; which paths may be touched.
//! 2. `catalog` — Istio releases, their support windows and Kubernetes versions.
//! 3. `spec` — `meshplan.yaml`: the typed model, its schema and its locations.
//! 4. `inventory` — the manifests, as files, kustomize, Helm, Flux or Argo CD build them.
//! 5. `state` — `meshplan.lock`: data and its parsing, nothing about plans.
//! 6. `facts` — derived once from spec, inventory and a mesh view: what each webhook injects.
//! 7. `plan` — the steps, and what each step does to a lock (`plan::LockTransition`).
//! 8. `render` — the charts and the files a step writes.
//! 9. `policy` — the Rego engine, the built-in rules and the input they read.
//! 10. `report` — text, JSON, SARIF, Markdown, JUnit, GitHub output.
//! 11. `git` — the local repository: diff, commit, branches.
//! 12. `error` — the error boundary: every stage's error and its exit code.
//! 13. `pipeline` — the engine: load, judge a change, render it, drift, retirement.
//! 14. `cli` — the commands: arguments, one or two pipeline calls, formatting.

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
pub use pipeline::{Options, Pipeline};
