//! The `--format junit` report: JUnit XML that CI systems (GitLab `artifacts:reports:junit`,
//! Jenkins, Azure Pipelines) show as test results.
//!
//! One `<testsuite>` per rule area (MP1xx … MP6xx, plus `other` for codes outside them),
//! one `<testcase>` per (rule, object); a rule that ran and found nothing is one passing
//! testcase, so the report shows what was checked. A testcase fails when one of its findings
//! fails the run (`deny`, and `warn` under `--fail-on warn`); other findings go to
//! `<system-out>`. The XML is written by hand: the format is five elements, and escaping is
//! the only subtle part.

use super::Report;
use crate::diagnostic::Diagnostic;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A rule area: the codes sharing a hundreds digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    /// The hundreds digit of the codes, e.g. `'3'` for MP3xx.
    pub digit: char,
    /// The testsuite name, e.g. `MP3xx workloads`.
    pub suite: &'static str,
    /// A short tag, e.g. `workloads`.
    pub tag: &'static str,
}

/// The rule areas of RULES.md, in order.
pub const AREAS: [Area; 6] = [
    Area {
        digit: '1',
        suite: "MP1xx upgrade path",
        tag: "upgrade-path",
    },
    Area {
        digit: '2',
        suite: "MP2xx revisions",
        tag: "revisions",
    },
    Area {
        digit: '3',
        suite: "MP3xx workloads",
        tag: "workloads",
    },
    Area {
        digit: '4',
        suite: "MP4xx gateways",
        tag: "gateways",
    },
    Area {
        digit: '5',
        suite: "MP5xx configuration",
        tag: "configuration",
    },
    Area {
        digit: '6',
        suite: "MP6xx ambient",
        tag: "ambient",
    },
];

/// The testsuite of codes outside the areas (user policies, internal codes).
const OTHER_SUITE: &str = "other";

/// The area of a rule code: `MP` followed by three digits, the first from 1 to 6.
pub fn area(code: &str) -> Option<&'static Area> {
    let digits = code.strip_prefix("MP")?;
    if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let first = digits.chars().next()?;
    AREAS.iter().find(|a| a.digit == first)
}

/// One testcase: a rule on one subject and the findings it produced there.
#[derive(Default)]
struct Case<'a> {
    rule_name: &'a str,
    findings: Vec<&'a Diagnostic>,
}

/// Renders the JUnit XML document, with a trailing newline.
pub fn render(report: &Report<'_>) -> String {
    // Suites keyed by area position (the `other` suite last), cases by (code, subject).
    let mut suites: BTreeMap<usize, BTreeMap<(&str, String), Case<'_>>> = BTreeMap::new();
    for i in 0..AREAS.len() {
        suites.insert(i, BTreeMap::new());
    }
    for info in report.rules {
        let case = suites
            .entry(suite_index(&info.code))
            .or_default()
            .entry((info.code.as_str(), String::new()))
            .or_default();
        case.rule_name = &info.name;
    }
    for d in report.diagnostics {
        let suite = suites.entry(suite_index(&d.rule)).or_default();
        // The finding replaces the rule's placeholder passing case.
        if suite
            .get(&(d.rule.as_str(), String::new()))
            .is_some_and(|c| c.findings.is_empty())
        {
            suite.remove(&(d.rule.as_str(), String::new()));
        }
        let case = suite.entry((d.rule.as_str(), subject(d))).or_default();
        case.rule_name = &d.name;
        case.findings.push(d);
    }

    let failing = |c: &Case<'_>| c.findings.iter().any(|d| report.fails(d.severity));
    let total: usize = suites.values().map(BTreeMap::len).sum();
    let failures: usize = suites
        .values()
        .map(|s| s.values().filter(|c| failing(c)).count())
        .sum();

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"meshplan\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\">"
    );
    for (index, cases) in &suites {
        let name = AREAS.get(*index).map_or(OTHER_SUITE, |a| a.suite);
        let suite_failures = cases.values().filter(|c| failing(c)).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failures}\" errors=\"0\" skipped=\"0\">",
            attr(name),
            cases.len()
        );
        for ((code, subject), case) in cases {
            write_case(&mut out, code, subject, case, report);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn suite_index(code: &str) -> usize {
    area(code)
        .and_then(|a| AREAS.iter().position(|x| x == a))
        .unwrap_or(AREAS.len())
}

/// What a finding is about: the object, else the file, else nothing (the rule as a whole).
fn subject(d: &Diagnostic) -> String {
    match (&d.object, &d.file) {
        (Some(o), _) => o.key(),
        (None, Some(f)) => f.clone(),
        (None, None) => String::new(),
    }
}

fn write_case(out: &mut String, code: &str, subject: &str, case: &Case<'_>, report: &Report<'_>) {
    let classname = if case.rule_name.is_empty() {
        code.to_string()
    } else {
        format!("{code} {}", case.rule_name)
    };
    let name = if subject.is_empty() {
        classname.clone()
    } else {
        subject.to_string()
    };
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        attr(&classname),
        attr(&name)
    );
    // The first finding with a file locates the testcase (GitLab shows the `file`); `-` is
    // standard input, not a file.
    let located = |d: &&&Diagnostic| d.file.as_deref().is_some_and(|f| f != "-");
    if let Some(d) = case.findings.iter().find(located) {
        if let Some(file) = &d.file {
            let _ = write!(out, " file=\"{}\"", attr(file));
        }
        if let Some(line) = d.line {
            let _ = write!(out, " line=\"{line}\"");
        }
    }
    if case.findings.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    let (failed, passed): (Vec<&Diagnostic>, Vec<&Diagnostic>) =
        case.findings.iter().partition(|d| report.fails(d.severity));
    if let Some(worst) = failed.iter().map(|d| d.severity).max() {
        let message = failed
            .iter()
            .map(|d| d.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let _ = writeln!(
            out,
            "      <failure type=\"{}\" message=\"{}\">{}</failure>",
            worst,
            attr(&message),
            text(&details(&failed))
        );
    }
    if !passed.is_empty() {
        let _ = writeln!(
            out,
            "      <system-out>{}</system-out>",
            text(&details(&passed))
        );
    }
    out.push_str("    </testcase>\n");
}

/// The full text of some findings: one block per finding, with location, step and hint.
fn details(findings: &[&Diagnostic]) -> String {
    let mut s = String::new();
    for d in findings {
        let _ = writeln!(s, "{} {} {}: {}", d.severity, d.rule, d.name, d.message);
        match (&d.file, d.line) {
            (Some(f), Some(l)) => {
                let _ = writeln!(s, "  at {f}:{l}");
            }
            (Some(f), None) => {
                let _ = writeln!(s, "  at {f}");
            }
            _ => {}
        }
        if let Some(o) = &d.object {
            let _ = writeln!(s, "  object: {}", o.key());
        }
        if let Some(step) = &d.step {
            let _ = writeln!(s, "  step: {step}");
        }
        if let Some(h) = &d.hint {
            let _ = writeln!(s, "  hint: {h}");
        }
    }
    s
}

/// Characters XML 1.0 cannot carry at all become U+FFFD rather than an invalid document.
fn valid_xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        c if (c as u32) < 0x20 => '\u{FFFD}',
        '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
        c => c,
    }
}

/// Escapes element text.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(valid_xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value; whitespace controls are kept as character references because
/// parsers normalise literal ones to spaces.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(valid_xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_follow_the_hundreds_digit() {
        assert_eq!(area("MP101").map(|a| a.tag), Some("upgrade-path"));
        assert_eq!(area("MP313").map(|a| a.suite), Some("MP3xx workloads"));
        assert_eq!(area("MP503").map(|a| a.tag), Some("configuration"));
        assert_eq!(area("MP603").map(|a| a.suite), Some("MP6xx ambient"));
        assert_eq!(area("MP701"), None);
        assert_eq!(area("MP31"), None);
        assert_eq!(area("ACME301"), None);
        assert_eq!(area("MP3x1"), None);
    }

    #[test]
    fn escaping_keeps_xml_well_formed() {
        assert_eq!(text("a < b && c > d"), "a &lt; b &amp;&amp; c &gt; d");
        assert_eq!(
            attr("say \"hi\"\n'x'"),
            "say &quot;hi&quot;&#10;&apos;x&apos;"
        );
        assert_eq!(text("bell\u{7}"), "bell\u{FFFD}");
    }
}
