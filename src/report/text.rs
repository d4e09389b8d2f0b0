//! The text report: one compiler-style diagnostic per finding (severity, code, message,
//! file:line, the source line with its value underlined, object, step and hint), then a
//! summary line. A rule with many findings shows its first three in full and the rest one
//! line each; `check --summary` is one line per rule. Rendering is
//! done by `annotate-snippets`, the renderer rustc itself uses.

use super::Report;
use super::source::SourceCache;
use crate::diagnostic::{Diagnostic, Severity};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use std::collections::BTreeMap;
use std::path::Path;

/// A rule with more findings than this is collapsed after [`SHOWN_IN_FULL`].
const COLLAPSE_OVER: usize = 5;

/// How many findings of a collapsed rule are shown with their source snippet.
const SHOWN_IN_FULL: usize = 3;

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
    // A rule with many findings (a port convention across a whole repository) shows its
    // first few in full and the rest one line each, so the others stay visible.
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for d in report.diagnostics {
        *per_rule.entry(d.rule.as_str()).or_default() += 1;
    }
    let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
    let mut compact: Vec<(&str, Vec<&Diagnostic>)> = Vec::new();
    for d in report.diagnostics {
        let n = shown.entry(d.rule.as_str()).or_default();
        *n += 1;
        if per_rule[d.rule.as_str()] > COLLAPSE_OVER && *n > SHOWN_IN_FULL {
            match compact.iter_mut().find(|(r, _)| *r == d.rule) {
                Some((_, list)) => list.push(d),
                None => compact.push((d.rule.as_str(), vec![d])),
            }
            continue;
        }
        out.push_str(&render_one(&renderer, d, &mut sources));
        out.push_str("\n\n");
    }
    for (rule, list) in &compact {
        let first = list[0];
        out.push_str(&format!(
            "{}[{rule}]: {} more {} findings\n",
            first.severity.as_str(),
            list.len(),
            first.name
        ));
        for d in list {
            let at = match (&d.file, d.line) {
                (Some(f), Some(l)) => format!("{f}:{l}: "),
                (Some(f), None) => format!("{f}: "),
                _ => String::new(),
            };
            let object = d
                .object
                .as_ref()
                .map(|o| format!("{}: ", o.key()))
                .unwrap_or_default();
            out.push_str(&format!("  {at}{object}{}\n", d.message));
        }
        out.push('\n');
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

/// Renders the grouped summary (`check --summary`): one line per rule, worst first, with its
/// count and the first three objects (or files) it names, then the verdict line.
pub fn render_summary(report: &Report<'_>) -> String {
    struct RuleLine<'d> {
        severity: Severity,
        name: &'d str,
        count: usize,
        examples: Vec<String>,
    }
    let mut groups: BTreeMap<&str, RuleLine<'_>> = BTreeMap::new();
    for d in report.diagnostics {
        let g = groups.entry(d.rule.as_str()).or_insert(RuleLine {
            severity: d.severity,
            name: d.name.as_str(),
            count: 0,
            examples: Vec::new(),
        });
        g.count += 1;
        // A rule overridden per object keeps its worst severity on the line.
        g.severity = g.severity.max(d.severity);
        let example = match (&d.object, &d.file, d.line) {
            (Some(o), _, _) => o.key(),
            (None, Some(f), Some(l)) => format!("{f}:{l}"),
            (None, Some(f), None) => f.clone(),
            (None, None, _) => d.message.clone(),
        };
        if g.examples.len() < 3 && !g.examples.contains(&example) {
            g.examples.push(example);
        }
    }
    let mut lines: Vec<(&str, RuleLine<'_>)> = groups.into_iter().collect();
    lines.sort_by(|a, b| b.1.severity.cmp(&a.1.severity).then(a.0.cmp(b.0)));
    let mut out = String::new();
    for w in report.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for (code, g) in &lines {
        let more = g.count.saturating_sub(g.examples.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{}[{code}] {}: {} ({}{tail})\n",
            g.severity.as_str(),
            g.name,
            g.count,
            g.examples.join(", ")
        ));
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
            let span = value_span(&text);
            title.element(
                Snippet::source(text)
                    .line_start(line as usize)
                    .path(file.clone())
                    .annotation(AnnotationKind::Primary.span(span).label(label)),
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

/// The part of a YAML source line a finding is about: the value of a `key: value` line (the
/// key when the value is on later lines), without indentation, the list dash or a trailing
/// comment, so the underline marks the value rather than the whole line.
fn value_span(line: &str) -> std::ops::Range<usize> {
    let code_end = comment_start(line).unwrap_or(line.len());
    let code = line[..code_end].trim_end();
    let mut start = code.len() - code.trim_start().len();
    if code[start..].starts_with("- ") {
        start += 2;
        start += code[start..].len() - code[start..].trim_start().len();
    }
    let end = code.len();
    if let Some(colon) = key_colon(&code[start..]) {
        // An object's first line stands for the whole object: keep the key with its value.
        if matches!(&code[start..start + colon], "apiVersion" | "kind") {
            return start..end;
        }
        let value = start + colon + 1;
        let value_start = value + (code[value..].len() - code[value..].trim_start().len());
        if value_start < end {
            return value_start..end;
        }
        return start..start + colon;
    }
    if start < end {
        start..end
    } else {
        0..line.len()
    }
}

/// Byte offset of a `#` comment (one preceded by whitespace, outside quotes), if any.
fn comment_start(line: &str) -> Option<usize> {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single && prev != '\\' => double = !double,
            '#' if !single && !double && prev.is_whitespace() => return Some(i),
            _ => {}
        }
        prev = c;
    }
    None
}

/// Byte offset of the `:` ending a plain mapping key at the start of `s` (`key: value` or
/// `key:`), if `s` starts with one.
fn key_colon(s: &str) -> Option<usize> {
    if s.starts_with(['{', '[', '"', '\'']) {
        return None;
    }
    let colon = s.find(": ").or_else(|| s.strip_suffix(':').map(str::len))?;
    // A flow value or a URL is not a key: the key is a plain scalar without spaces.
    (!s[..colon].contains([' ', '{', '['])).then_some(colon)
}

#[cfg(test)]
mod tests {
    use super::value_span;

    fn underlined(line: &str) -> &str {
        &line[value_span(line)]
    }

    #[test]
    fn the_underline_spans_the_value_not_the_line() {
        assert_eq!(underlined("    version: 1.24.3   # the target"), "1.24.3");
        assert_eq!(underlined("  - name: ingress"), "ingress");
        assert_eq!(
            underlined("      - {name: http2, port: 80}  # web"),
            "{name: http2, port: 80}"
        );
        assert_eq!(underlined("  gateways:"), "gateways");
        assert_eq!(underlined("  gateways: # the list"), "gateways");
        assert_eq!(underlined("    url: \"http://a#b\" # c"), "\"http://a#b\"");
        assert_eq!(underlined("  image: repo/app:v1"), "repo/app:v1");
        assert_eq!(underlined("  - apps/**/*.yaml"), "apps/**/*.yaml");
        assert_eq!(underlined("kind: Deployment  # web"), "kind: Deployment");
        assert_eq!(underlined("- apiVersion: apps/v1"), "apiVersion: apps/v1");
        assert_eq!(underlined("   "), "   ");
    }
}
