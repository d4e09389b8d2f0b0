//! Reports: the diagnostics of a run (and the plan, when there is one) rendered in one of
//! the output formats. Each format is one file; reporters see only a [`Report`].

pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
mod source;
pub mod text;

use crate::diagnostic::{Diagnostic, Severity, Summary};
use crate::plan::Plan;
use std::path::Path;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Compiler-style diagnostics with the source line.
    Text,
    /// The versioned JSON report of DESIGN.md.
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, IDEs).
    Sarif,
    /// JUnit XML, one test suite per rule area, for CI test reports.
    Junit,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
    /// A pull-request comment: summary, plan, Mermaid diagram, findings.
    Markdown,
}

/// What a reporter knows about a rule beyond its findings: the policy metadata, mapped by
/// the caller so that reports do not depend on the policy engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable rule code, e.g. `MP301`.
    pub code: String,
    /// Kebab-case rule name, e.g. `missing-pdb`.
    pub name: String,
    /// The rule's default severity (before `spec.rules` overrides).
    pub severity: Severity,
    /// One-line title.
    pub title: String,
    /// What the rule checks and why it matters.
    pub description: String,
    /// How to fix a finding (the remediation).
    pub help: String,
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
    /// Metadata of every rule that ran (may be empty; findings of unknown rules still render).
    pub rules: &'a [RuleInfo],
    /// The `--fail-on` threshold: findings at or above it fail the run.
    pub fail_on: Severity,
}

impl Report<'_> {
    /// Counts per severity.
    pub fn summary(&self) -> Summary {
        Summary::of(self.diagnostics)
    }

    /// Whether a finding of this severity fails the run; `info` never does (DESIGN.md).
    pub fn fails(&self, severity: Severity) -> bool {
        severity >= self.fail_on.max(Severity::Warn)
    }

    /// Whether the run fails: some finding is at or above `--fail-on`.
    pub fn failed(&self) -> bool {
        self.diagnostics.iter().any(|d| self.fails(d.severity))
    }
}

/// Renders a report; `base_dir` is where diagnostic file paths are relative to (the text
/// format quotes the source line from there); `color` styles the text format.
pub fn render(report: &Report<'_>, format: OutputFormat, base_dir: &Path, color: bool) -> String {
    match format {
        OutputFormat::Text => text::render(report, base_dir, color),
        OutputFormat::Json => json::render(report),
        OutputFormat::Sarif => sarif::render(report),
        OutputFormat::Junit => junit::render(report),
        OutputFormat::Github => github::render(report),
        OutputFormat::Markdown => markdown::render(report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(fail_on: Severity) -> Report<'static> {
        Report {
            diagnostics: &[],
            plan: None,
            warnings: &[],
            rules: &[],
            fail_on,
        }
    }

    #[test]
    fn fail_on_sets_the_threshold_and_info_never_fails() {
        let deny = report(Severity::Deny);
        assert!(deny.fails(Severity::Deny));
        assert!(!deny.fails(Severity::Warn));
        let warn = report(Severity::Warn);
        assert!(warn.fails(Severity::Warn));
        assert!(!warn.fails(Severity::Info));
        assert!(!report(Severity::Info).fails(Severity::Info));
    }
}
