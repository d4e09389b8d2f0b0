//! The `--format github` report: GitHub Actions workflow commands, one per finding, which
//! the runner turns into annotations on the pull request's diff.
//!
//! `::error file=F,line=L,title=MP301::message` (deny→error, warn→warning, info→notice).
//! Escaping follows the runner's rules: in the message `%`, `\r` and `\n` are
//! percent-encoded; in property values `:` and `,` are as well, since they delimit
//! properties. Loader warnings become plain `::warning::` commands.

use super::Report;
use crate::diagnostic::{Diagnostic, Severity};

/// The workflow command of a severity: deny→error, warn→warning, info→notice.
pub fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Deny => "error",
        Severity::Warn => "warning",
        Severity::Info => "notice",
    }
}

/// Renders one workflow command per loader warning and per finding, in report order.
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for w in report.warnings {
        out.push_str("::warning title=meshplan::");
        out.push_str(&escape_data(w));
        out.push('\n');
    }
    for d in report.diagnostics {
        out.push_str(&annotation(d));
        out.push('\n');
    }
    out
}

/// One finding as a workflow command, without the trailing newline.
pub fn annotation(d: &Diagnostic) -> String {
    let mut props = Vec::new();
    if let Some(file) = &d.file {
        props.push(format!("file={}", escape_property(file)));
        if let Some(line) = d.line {
            props.push(format!("line={line}"));
        }
    }
    props.push(format!("title={}", escape_property(&d.rule)));
    // The annotation is all a reviewer sees: the message first, then what it is about and
    // what to do, on their own lines.
    let mut message = format!("{} ({})", d.message, d.name);
    if let Some(o) = &d.object {
        message.push_str(&format!("\nobject: {}", o.key()));
    }
    if let Some(step) = &d.step {
        message.push_str(&format!("\nstep: {step}"));
    }
    if let Some(hint) = &d.hint {
        message.push_str(&format!("\nhint: {hint}"));
    }
    format!(
        "::{} {}::{}",
        command(d.severity),
        props.join(","),
        escape_data(&message)
    )
}

/// Escapes a command's message: `%`, `\r`, `\n`.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value: as a message, plus `:` and `,` (which `escape_data` never
/// produces, so the order of the two passes does not matter).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::ObjectRef;

    fn finding(severity: Severity) -> Diagnostic {
        Diagnostic {
            rule: "MP301".to_string(),
            name: "missing-pdb".to_string(),
            severity,
            message: "deployment has 3 replicas and no pdb".to_string(),
            object: Some(ObjectRef {
                api_version: "apps/v1".to_string(),
                kind: "Deployment".to_string(),
                namespace: "shop".to_string(),
                name: "cart".to_string(),
            }),
            file: Some("apps/shop/cart.yaml".to_string()),
            line: Some(12),
            hint: None,
            step: None,
        }
    }

    #[test]
    fn message_escapes_percent_and_newlines_only() {
        assert_eq!(escape_data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
    }

    #[test]
    fn properties_also_escape_colon_and_comma() {
        assert_eq!(escape_property("C:\\x,y%\n"), "C%3A\\x%2Cy%25%0A");
    }

    #[test]
    fn severity_picks_the_command() {
        for (sev, cmd) in [
            (Severity::Deny, "::error "),
            (Severity::Warn, "::warning "),
            (Severity::Info, "::notice "),
        ] {
            assert!(annotation(&finding(sev)).starts_with(cmd), "{sev}");
        }
    }

    #[test]
    fn annotation_carries_file_line_and_title() {
        let mut d = finding(Severity::Deny);
        d.file = Some("apps/a,b:c.yaml".to_string());
        d.hint = Some("add a pdb: 50%".to_string());
        assert_eq!(
            annotation(&d),
            "::error file=apps/a%2Cb%3Ac.yaml,line=12,title=MP301::deployment has 3 replicas \
             and no pdb (missing-pdb)%0Aobject: Deployment/shop/cart%0Ahint: add a pdb: 50%25"
        );
    }

    #[test]
    fn no_file_means_no_file_or_line_property() {
        let mut d = finding(Severity::Warn);
        d.file = None;
        d.object = None;
        assert_eq!(
            annotation(&d),
            "::warning title=MP301::deployment has 3 replicas and no pdb (missing-pdb)"
        );
    }
}
