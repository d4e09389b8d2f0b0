//! The `--format json` report: `{version, summary, diagnostics, plan}` exactly as DESIGN.md
//! fixes it. Stable and versioned; field order is fixed by the structs.

use super::Report;
use crate::diagnostic::{Diagnostic, Summary};
use crate::plan::Plan;
use serde::Serialize;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    summary: Summary,
    diagnostics: &'a [Diagnostic],
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a Plan>,
}

/// Renders the JSON report, pretty-printed, with a trailing newline.
pub fn render(report: &Report<'_>) -> String {
    let doc = JsonReport {
        version: 1,
        summary: report.summary(),
        diagnostics: report.diagnostics,
        plan: report.plan,
    };
    // Serializing plain structs of strings, numbers and vectors cannot fail.
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
