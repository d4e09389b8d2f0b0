//! The text report: one compiler-style diagnostic per finding (severity, code, message,
//! file:line, the source line, object, step and hint), then a summary line. Rendering is
//! done by `annotate-snippets`, the renderer rustc itself uses.

use super::Report;
use super::source::SourceCache;
use crate::diagnostic::{Diagnostic, Severity};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use std::path::Path;

/// Renders the report as text.
pub fn render(report: &Report<'_>, base_dir: &Path, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut sources = SourceCache::new(base_dir);
    let mut out = String::new();
    for w in report.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    if !report.warnings.is_empty() {
        out.push('\n');
    }
    for d in report.diagnostics {
        out.push_str(&render_one(&renderer, d, &mut sources));
        out.push_str("\n\n");
    }
    let s = report.summary();
    out.push_str(&format!(
        "{}: {} deny, {} warn, {} info\n",
        if report.failed() { "failed" } else { "passed" },
        s.deny,
        s.warn,
        s.info
    ));
    out
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Deny => Level::ERROR.with_name(Some("deny")),
        Severity::Warn => Level::WARNING.with_name(Some("warn")),
        Severity::Info => Level::INFO.with_name(Some("info")),
    }
}

fn render_one(renderer: &Renderer, d: &Diagnostic, sources: &mut SourceCache) -> String {
    let title = level(d.severity)
        .primary_title(d.message.as_str())
        .id(d.rule.as_str());
    let source_line = match (&d.file, d.line) {
        (Some(file), Some(line)) => sources.line(file, line),
        _ => None,
    };
    let mut notes = Vec::new();
    // With a source snippet the object is its label; without one it gets a note.
    if let (Some(o), None) = (&d.object, &source_line) {
        notes.push(format!("object: {}", o.key()));
    }
    if let Some(step) = &d.step {
        notes.push(format!("step: {step}"));
    }
    notes.push(format!("rule: {} ({})", d.name, d.rule));
    let group = match (&d.file, d.line, source_line) {
        (Some(file), Some(line), Some(text)) => {
            let label = d.object.as_ref().map(|o| o.key()).unwrap_or_default();
            let end = text.len();
            title.element(
                Snippet::source(text)
                    .line_start(line as usize)
                    .path(file.clone())
                    .annotation(AnnotationKind::Primary.span(0..end).label(label)),
            )
        }
        (Some(file), line, _) => {
            let at = match line {
                Some(l) => format!("{file}:{l}"),
                None => file.clone(),
            };
            title.element(Level::NOTE.message(format!("at {at}")))
        }
        _ => title.element(Level::NOTE.message(notes.remove(0))),
    };
    let group = notes
        .into_iter()
        .fold(group, |g, n| g.element(Level::NOTE.message(n)));
    let group = match &d.hint {
        Some(h) => group.element(Level::HELP.message(h.clone())),
        None => group,
    };
    let report: [Group<'_>; 1] = [group];
    renderer.render(&report).to_string()
}
