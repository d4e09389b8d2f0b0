//! Reports: the diagnostics of a run (and the plan, when there is one) rendered in one of
//! the output formats. Each format is one file; reporters see only a [`Report`].

pub mod json;
pub mod text;

use crate::diagnostic::{Diagnostic, Summary};
use crate::plan::Plan;
use std::path::Path;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Compiler-style diagnostics with the source line.
    Text,
    /// The versioned JSON report of DESIGN.md.
    Json,
}

/// Everything a reporter needs.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// Findings in report order (see [`crate::diagnostic::normalize`]).
    pub diagnostics: &'a [Diagnostic],
    /// The plan the findings were judged against.
    pub plan: Option<&'a Plan>,
    /// Non-fatal notes from loading (e.g. globs matching nothing).
    pub warnings: &'a [String],
}

impl Report<'_> {
    /// Counts per severity.
    pub fn summary(&self) -> Summary {
        Summary::of(self.diagnostics)
    }
}

/// Renders a report; `base_dir` is where diagnostic file paths are relative to (the text
/// format quotes the source line from there); `color` styles the text format.
pub fn render(report: &Report<'_>, format: OutputFormat, base_dir: &Path, color: bool) -> String {
    match format {
        OutputFormat::Text => text::render(report, base_dir, color),
        OutputFormat::Json => json::render(report),
    }
}
