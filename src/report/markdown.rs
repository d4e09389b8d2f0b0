//! The `--format markdown` report: a pull-request comment. A summary line (counts per
//! severity, pass or fail), the plan (hops, a table of steps, the workloads a person must
//! restart, a Mermaid diagram of the steps per hop), then the findings grouped by severity
//! with links to file and line.
//!
//! GitHub rejects comments over 65,536 characters, so the comment is written against a byte
//! budget (bytes ≥ characters, so it is conservative): findings past a first screenful are
//! collapsed into `<details>`, and what no longer fits is counted, never silently dropped.
//! The summary counts always cover every finding. The first line is the hidden marker
//! `<!-- meshplan -->` by which the GitHub Action finds its own comment to update.

use super::Report;
use crate::diagnostic::{Diagnostic, Severity};
use crate::plan::Plan;
use std::fmt::Write as _;

/// The most characters GitHub accepts in a comment.
pub const COMMENT_LIMIT: usize = 65_536;
/// The default byte budget: under [`COMMENT_LIMIT`] with room for a wrapper's additions.
pub const DEFAULT_BUDGET: usize = 60_000;
/// The hidden marker that identifies meshplan's comment on a pull request.
pub const MARKER: &str = "<!-- meshplan -->";
/// Bytes of findings shown before the rest are collapsed into `<details>`.
const OPEN_FINDINGS_BYTES: usize = 8_000;
/// Room kept for closing tags and "not shown" notes once the budget runs short.
const RESERVE: usize = 1_500;
/// Workloads listed before the list collapses: a reviewer reads names, not thousands.
const MANUAL_LISTED: usize = 50;
/// Bytes kept per relative file link for a wrapper that turns it into an absolute URL
/// (`https://github.com/<owner>/<repo>/blob/<sha>/<dir>/`), as the GitHub Action does.
pub const LINK_ALLOWANCE: usize = 200;
/// Steps beyond which the Mermaid diagram is left out (it would not be readable).
const MERMAID_MAX_STEPS: usize = 60;

/// Knobs of the Markdown renderer.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Maximum size of the comment in bytes.
    pub budget: usize,
    /// Prefix of file links (e.g. `https://github.com/o/r/blob/<sha>/`); links are relative
    /// paths when `None`.
    pub link_base: Option<&'a str>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            budget: DEFAULT_BUDGET,
            link_base: None,
        }
    }
}

/// Renders the pull-request comment with the default options.
pub fn render(report: &Report<'_>) -> String {
    render_with(report, &Options::default())
}

/// Renders the pull-request comment.
pub fn render_with(report: &Report<'_>, options: &Options<'_>) -> String {
    let mut out = String::new();
    summary(&mut out, report);
    warnings(&mut out, report, options);
    if let Some(plan) = report.plan {
        plan_section(&mut out, plan, options);
    }
    findings(&mut out, report, options);
    out
}

/// Renders only the plan (for `meshplan plan --format markdown`): hops, steps, the
/// workloads a person must restart and the Mermaid diagram.
pub fn render_plan(plan: &Plan) -> String {
    let mut out = String::new();
    plan_section(&mut out, plan, &Options::default());
    out
}

fn summary(out: &mut String, report: &Report<'_>) {
    let s = report.summary();
    let verdict = if report.failed() {
        "❌ failed"
    } else {
        "✅ passed"
    };
    let _ = writeln!(out, "{MARKER}\n## meshplan check: {verdict}\n");
    let _ = writeln!(
        out,
        "**{} deny** · **{} warn** · **{} info** — fails on `{}` and above.\n",
        s.deny,
        s.warn,
        s.info,
        report.fail_on.max(Severity::Warn)
    );
}

fn warnings(out: &mut String, report: &Report<'_>, options: &Options<'_>) {
    if report.warnings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>{} loading warning(s)</summary>\n",
        report.warnings.len()
    );
    let limit = options.budget / 8;
    let start = out.len();
    for (i, w) in report.warnings.iter().enumerate() {
        let item = format!("- {}\n", md(w));
        if out.len() - start + item.len() > limit {
            let _ = writeln!(out, "- … {} more", report.warnings.len() - i);
            break;
        }
        out.push_str(&item);
    }
    out.push_str("\n</details>\n\n");
}

fn plan_section(out: &mut String, plan: &Plan, options: &Options<'_>) {
    let from = plan.from.as_deref().unwrap_or("nothing (new cluster)");
    let _ = writeln!(out, "### Plan: {} → {}\n", md(from), md(&plan.to));
    let done = plan.steps.iter().filter(|s| s.done).count();
    let hops: Vec<String> = plan.hops.iter().map(|h| md(h)).collect();
    let _ = write!(
        out,
        "Hops: {}. {} step(s), {} done",
        hops.join(" → "),
        plan.steps.len(),
        done
    );
    match plan.next_step() {
        Some(next) => {
            let _ = writeln!(out, "; next: **{}**.\n", md(&next.name));
        }
        None => out.push_str("; nothing left to do.\n\n"),
    }
    if !plan.problems.is_empty() {
        out.push_str("**The planner cannot honour the spec as written:**\n\n");
        for p in &plan.problems {
            let _ = writeln!(out, "- **{}**: {}", md(&p.rule), md(&p.message));
        }
        out.push('\n');
    }
    if plan.steps.is_empty() {
        return;
    }
    let next_index = plan.steps.iter().position(|s| !s.done);
    out.push_str("| # | step | hop | status | restarts | manual |\n");
    out.push_str("| ---: | --- | --- | --- | ---: | ---: |\n");
    // A plan has a handful of steps; the table is bounded by the budget all the same.
    let table_limit = options.budget / 4;
    let start = out.len();
    for (i, step) in plan.steps.iter().enumerate() {
        let status = if step.done {
            "done"
        } else if Some(i) == next_index {
            "**next**"
        } else {
            "pending"
        };
        let row = format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            i + 1,
            md(&step.name),
            md(&step.hop),
            status,
            step.restarts.len(),
            step.manual.len()
        );
        if out.len() - start + row.len() > table_limit {
            let _ = writeln!(out, "| | … {} more step(s) | | | | |", plan.steps.len() - i);
            break;
        }
        out.push_str(&row);
    }
    out.push('\n');
    if plan.steps.len() <= MERMAID_MAX_STEPS {
        mermaid(out, plan, next_index);
    }
    manual(out, plan, options);
}

/// A `flowchart LR` of the steps, one subgraph per hop, done steps marked.
fn mermaid(out: &mut String, plan: &Plan, next_index: Option<usize>) {
    out.push_str("```mermaid\nflowchart LR\n");
    let mut hop_index = 0;
    let mut current_hop: Option<&str> = None;
    for (i, step) in plan.steps.iter().enumerate() {
        if current_hop != Some(step.hop.as_str()) {
            if current_hop.is_some() {
                out.push_str("  end\n");
            }
            let _ = writeln!(
                out,
                "  subgraph hop{hop_index}[\"Istio {}\"]",
                mermaid_label(&step.hop)
            );
            hop_index += 1;
            current_hop = Some(step.hop.as_str());
        }
        let mut label = mermaid_label(&step.name);
        if step.done {
            label = format!("✓ {label}");
        }
        if !step.restarts.is_empty() {
            let _ = write!(label, "<br/>{} restart(s)", step.restarts.len());
        }
        if !step.manual.is_empty() {
            let _ = write!(label, "<br/>{} manual", step.manual.len());
        }
        let _ = writeln!(out, "    s{i}[\"{label}\"]");
    }
    if current_hop.is_some() {
        out.push_str("  end\n");
    }
    for i in 1..plan.steps.len() {
        let _ = writeln!(out, "  s{} --> s{i}", i - 1);
    }
    let done: Vec<String> = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.done)
        .map(|(i, _)| format!("s{i}"))
        .collect();
    if !done.is_empty() {
        let _ = writeln!(
            out,
            "  classDef done fill:#e6f4ea,stroke:#1a7f37\n  class {} done",
            done.join(",")
        );
    }
    if let Some(i) = next_index {
        let _ = writeln!(
            out,
            "  classDef next stroke:#0969da,stroke-width:3px\n  class s{i} next"
        );
    }
    out.push_str("```\n\n");
}

/// The workloads a person must restart, per step; long lists collapse and are capped.
fn manual(out: &mut String, plan: &Plan, options: &Options<'_>) {
    let total: usize = plan.steps.iter().map(|s| s.manual.len()).sum();
    if total == 0 {
        return;
    }
    let _ = writeln!(out, "**Workloads a person must restart** ({total}):\n");
    let collapsed = total > MANUAL_LISTED;
    if collapsed {
        out.push_str("<details><summary>Show the list</summary>\n\n");
    }
    let limit = options.budget / 4;
    let start = out.len();
    let mut shown = 0;
    'steps: for step in plan.steps.iter().filter(|s| !s.manual.is_empty()) {
        let _ = writeln!(out, "- {} ({}):", md(&step.name), md(&step.hop));
        for w in &step.manual {
            let item = format!("  - {}\n", code(w));
            if out.len() - start + item.len() > limit {
                break 'steps;
            }
            out.push_str(&item);
            shown += 1;
        }
    }
    if shown < total {
        let _ = writeln!(out, "- … {} more not shown", total - shown);
    }
    if collapsed {
        out.push_str("\n</details>\n");
    }
    out.push('\n');
}

fn findings(out: &mut String, report: &Report<'_>, options: &Options<'_>) {
    if report.diagnostics.is_empty() {
        out.push_str("No findings.\n");
        return;
    }
    out.push_str("### Findings\n\n");
    let mut open_left = OPEN_FINDINGS_BYTES;
    // Room promised to whoever rewrites the relative links (none when they are absolute).
    let mut reserved = 0;
    let allowance = if options.link_base.is_some() {
        0
    } else {
        LINK_ALLOWANCE
    };
    for severity in [Severity::Deny, Severity::Warn, Severity::Info] {
        let group: Vec<&Diagnostic> = report
            .diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        let icon = match severity {
            Severity::Deny => "❌",
            Severity::Warn => "⚠️",
            Severity::Info => "ℹ️",
        };
        let _ = writeln!(out, "#### {icon} {severity} ({})\n", group.len());
        let mut in_details = false;
        let mut shown = 0;
        for d in &group {
            let item = item(d, options);
            let extra = if d.file.as_deref().is_some_and(|f| f != "-") {
                allowance
            } else {
                0
            };
            if out.len() + reserved + item.len() + extra + RESERVE > options.budget {
                break;
            }
            reserved += extra;
            if !in_details && item.len() > open_left {
                let _ = writeln!(
                    out,
                    "<details><summary>{} more {severity} finding(s)</summary>\n",
                    group.len() - shown
                );
                in_details = true;
            }
            if !in_details {
                open_left -= item.len();
            }
            out.push_str(&item);
            shown += 1;
        }
        if shown < group.len() {
            let _ = writeln!(
                out,
                "\n_{} more {severity} finding(s) not shown: run `meshplan check --format json` \
                 or see the SARIF report._",
                group.len() - shown
            );
        }
        if in_details {
            out.push_str("\n</details>\n");
        }
        out.push('\n');
    }
}

/// One finding as a list item: code, name, message, object, location, step and hint.
fn item(d: &Diagnostic, options: &Options<'_>) -> String {
    let mut s = format!("- **{}** {}: {}", md(&d.rule), md(&d.name), md(&d.message));
    let mut context = Vec::new();
    if let Some(o) = &d.object {
        context.push(code(&o.key()));
    }
    if let Some(file) = &d.file {
        context.push(link(file, d.line, options.link_base));
    }
    if let Some(step) = &d.step {
        context.push(format!("step {}", code(step)));
    }
    if !context.is_empty() {
        let _ = write!(s, " — {}", context.join(", "));
    }
    if let Some(hint) = &d.hint {
        let _ = write!(s, "<br>_hint:_ {}", md(hint));
    }
    s.push('\n');
    s
}

/// `[file:line](file#Lline)`; `-` (standard input) has nothing to link to.
fn link(file: &str, line: Option<u32>, base: Option<&str>) -> String {
    let shown = match line {
        Some(l) => format!("{file}:{l}"),
        None => file.to_string(),
    };
    if file == "-" {
        return code(&shown);
    }
    let mut target = format!("{}{}", base.unwrap_or(""), url_path(file));
    if let Some(l) = line {
        let _ = write!(target, "#L{l}");
    }
    format!("[{}]({target})", md(&shown))
}

/// Percent-encodes what would end or break a Markdown link target.
fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            '\n' | '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// An inline code span, or escaped text when the value itself holds a backtick.
fn code(s: &str) -> String {
    if s.contains('`') || s.contains('\n') {
        md(s)
    } else {
        format!("`{s}`")
    }
}

/// Escapes text so that user-controlled strings cannot inject Markdown or HTML; newlines
/// become spaces so that an item stays one item.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Mermaid label inside double quotes: quotes and angle brackets as entity codes.
fn mermaid_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::diagnostic::ObjectRef;

    fn findings(n: usize, severity: Severity) -> Vec<Diagnostic> {
        (0..n)
            .map(|i| Diagnostic {
                rule: "MP303".to_string(),
                name: "missing-readiness-probe".to_string(),
                severity,
                message: format!("container app of workload {i} has no readiness probe"),
                object: Some(ObjectRef {
                    api_version: "apps/v1".to_string(),
                    kind: "Deployment".to_string(),
                    namespace: "shop".to_string(),
                    name: format!("w{i}"),
                }),
                file: Some(format!("apps/w{i}.yaml")),
                line: Some(1),
                hint: None,
                step: None,
            })
            .collect()
    }

    #[test]
    fn findings_past_the_first_screen_collapse_and_the_rest_is_counted() {
        let diagnostics = findings(400, Severity::Warn);
        let report = Report {
            diagnostics: &diagnostics,
            plan: None,
            warnings: &[],
            rules: &[],
            fail_on: Severity::Warn,
        };
        let options = Options {
            budget: 20_000,
            link_base: Some("https://example.test/"),
        };
        let md = render_with(&report, &options);
        assert!(md.len() <= options.budget, "{}", md.len());
        assert!(md.contains("## meshplan check: ❌ failed"));
        assert!(md.contains("**400 warn**"));
        let open = md.find("<details><summary>").expect("collapsed part");
        let listed = md.lines().filter(|l| l.starts_with("- **MP303**")).count();
        let shown_open = md[..open].lines().filter(|l| l.starts_with("- **")).count();
        assert!(shown_open > 0 && shown_open < listed);
        let note = format!("_{} more warn finding(s) not shown", 400 - listed);
        assert!(md.contains(&note), "{note}");
        assert!(md.trim_end().ends_with("</details>"));
    }

    #[test]
    fn links_point_at_the_line() {
        assert_eq!(
            link("apps/shop/cart.yaml", Some(12), None),
            "[apps/shop/cart.yaml:12](apps/shop/cart.yaml#L12)"
        );
        assert_eq!(
            link("my apps/a(1).yaml", None, Some("https://x/blob/abc/")),
            "[my apps/a(1).yaml](https://x/blob/abc/my%20apps/a%281%29.yaml)"
        );
        assert_eq!(link("-", Some(3), None), "`-:3`");
    }

    #[test]
    fn text_cannot_inject_markup() {
        assert_eq!(
            md("<img src=x> *b* [l](u)"),
            "\\<img src=x\\> \\*b\\* \\[l\\](u)"
        );
        assert_eq!(md("a\nb"), "a b");
        assert_eq!(code("Deployment/shop/cart"), "`Deployment/shop/cart`");
        assert_eq!(code("a`b"), "a\\`b");
        assert_eq!(
            mermaid_label("wave \"a\" <b>"),
            "wave #quot;a#quot; #lt;b#gt;"
        );
    }
}
