//! The `--format sarif` report: SARIF 2.1.0 for code scanning (GitHub, GitLab, IDEs).
//!
//! Typed serde structs cover exactly the subset meshplan emits; the tests validate the
//! output against the official OASIS schema. One `rules[]` entry per code (every rule that
//! ran, plus any code a finding carries without metadata), sorted by code; results keep
//! the report order. Objects are logical locations (`Kind/namespace/name`), files and
//! lines physical ones. Nothing time- or machine-dependent is written.

use super::{Report, RuleInfo};
use crate::diagnostic::{Diagnostic, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where the schema lives: the `$schema` of the log.
const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The tool's home page when Cargo.toml names no `repository`, shown by code-scanning UIs.
const FALLBACK_INFORMATION_URI: &str = "https://github.com/meshplan/meshplan";
/// The key of the fingerprint that identifies a finding across line moves.
const FINGERPRINT_KEY: &str = "meshplan/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    invocations: Vec<Invocation<'a>>,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    information_uri: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Text<'a>,
    full_description: Text<'a>,
    help: Text<'a>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: Text<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location<'a>>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "ResultProperties::is_empty")]
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation<'a> {
    artifact_location: ArtifactLocation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation<'a> {
    uri: &'a str,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<&'a str>,
}

impl ResultProperties<'_> {
    fn is_empty(&self) -> bool {
        self.hint.is_none() && self.step.is_none()
    }
}

/// The SARIF level of a severity: deny→error, warn→warning, info→note.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Deny => "error",
        Severity::Warn => "warning",
        Severity::Info => "note",
    }
}

/// The repository from Cargo.toml, else the fallback (the schema wants a URI, not "").
fn information_uri() -> &'static str {
    match env!("CARGO_PKG_REPOSITORY") {
        "" => FALLBACK_INFORMATION_URI,
        repo => repo,
    }
}

/// The area tag of a rule code (`MP301` → `workloads`), for filtering in code-scanning UIs.
fn area_tag(code: &str) -> Option<&'static str> {
    super::junit::area(code).map(|a| a.tag)
}

/// Renders the SARIF log, pretty-printed, with a trailing newline.
pub fn render(report: &Report<'_>) -> String {
    let (rules, index) = rules(report);
    let results = report
        .diagnostics
        .iter()
        .map(|d| result(d, index.get(d.rule.as_str()).copied().unwrap_or(0)))
        .collect();
    let invocations = if report.warnings.is_empty() {
        Vec::new()
    } else {
        vec![Invocation {
            execution_successful: true,
            tool_execution_notifications: report
                .warnings
                .iter()
                .map(|w| Notification {
                    level: "warning",
                    message: Text { text: w },
                })
                .collect(),
        }]
    };
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "meshplan",
                    information_uri: information_uri(),
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            invocations,
            results,
        }],
    };
    // Serializing plain structs of strings, numbers, vectors and maps cannot fail.
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// One rule per code, sorted by code, and each code's index in that list. Codes found only
/// in diagnostics (user policies without metadata) get an entry built from the finding.
fn rules<'a>(report: &Report<'a>) -> (Vec<Rule<'a>>, BTreeMap<&'a str, usize>) {
    let mut by_code: BTreeMap<&'a str, Rule<'a>> = BTreeMap::new();
    for info in report.rules {
        by_code
            .entry(info.code.as_str())
            .or_insert_with(|| rule(info));
    }
    for d in report.diagnostics {
        by_code.entry(d.rule.as_str()).or_insert_with(|| Rule {
            id: &d.rule,
            name: &d.name,
            short_description: Text { text: &d.name },
            full_description: Text { text: &d.name },
            help: Text {
                text: d.hint.as_deref().unwrap_or(&d.name),
            },
            default_configuration: Configuration {
                level: level(d.severity),
            },
            properties: properties(&d.rule),
        });
    }
    let index = by_code.keys().enumerate().map(|(i, c)| (*c, i)).collect();
    (by_code.into_values().collect(), index)
}

fn rule(info: &RuleInfo) -> Rule<'_> {
    Rule {
        id: &info.code,
        name: &info.name,
        short_description: Text { text: &info.title },
        full_description: Text {
            text: &info.description,
        },
        help: Text { text: &info.help },
        default_configuration: Configuration {
            level: level(info.severity),
        },
        properties: properties(&info.code),
    }
}

fn properties(code: &str) -> RuleProperties {
    let mut tags = vec!["meshplan".to_string()];
    tags.extend(area_tag(code).map(str::to_string));
    RuleProperties { tags }
}

fn result(d: &Diagnostic, rule_index: usize) -> SarifResult<'_> {
    // `-` is standard input: there is no artifact to point at.
    let physical_location = d
        .file
        .as_deref()
        .filter(|f| *f != "-")
        .map(|file| PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: file,
                uri_base_id: "%SRCROOT%",
            },
            region: d
                .line
                .filter(|l| *l > 0)
                .map(|start_line| Region { start_line }),
        });
    let logical_locations: Vec<LogicalLocation> = d
        .object
        .iter()
        .map(|o| LogicalLocation {
            name: o.name.clone(),
            fully_qualified_name: o.key(),
            kind: "resource",
        })
        .collect();
    let locations = if physical_location.is_none() && logical_locations.is_empty() {
        Vec::new()
    } else {
        vec![Location {
            physical_location,
            logical_locations,
        }]
    };
    // The object, not the line, identifies a finding: a PR that moves a manifest's lines
    // does not reopen its alerts.
    let subject = match (&d.object, &d.file) {
        (Some(o), _) => o.key(),
        (None, Some(f)) => f.clone(),
        (None, None) => String::new(),
    };
    let mut partial_fingerprints = BTreeMap::new();
    partial_fingerprints.insert(
        FINGERPRINT_KEY,
        format!("{}:{subject}:{}", d.rule, d.message),
    );
    SarifResult {
        rule_id: &d.rule,
        rule_index,
        level: level(d.severity),
        message: Text { text: &d.message },
        locations,
        partial_fingerprints,
        properties: ResultProperties {
            hint: d.hint.as_deref(),
            step: d.step.as_deref(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::ObjectRef;

    fn finding(file: Option<&str>, line: Option<u32>) -> Diagnostic {
        Diagnostic {
            rule: "MP301".to_string(),
            name: "missing-pdb".to_string(),
            severity: Severity::Deny,
            message: "deployment has 3 replicas and no pdb".to_string(),
            object: Some(ObjectRef {
                api_version: "apps/v1".to_string(),
                kind: "Deployment".to_string(),
                namespace: "shop".to_string(),
                name: "cart".to_string(),
            }),
            file: file.map(str::to_string),
            line,
            hint: None,
            step: None,
        }
    }

    fn json(d: &Diagnostic) -> serde_json::Value {
        serde_json::to_value(result(d, 0)).expect("serializes to JSON")
    }

    #[test]
    fn levels_follow_severity() {
        assert_eq!(level(Severity::Deny), "error");
        assert_eq!(level(Severity::Warn), "warning");
        assert_eq!(level(Severity::Info), "note");
    }

    #[test]
    fn fingerprint_ignores_the_line() {
        let a = json(&finding(Some("apps/cart.yaml"), Some(3)));
        let b = json(&finding(Some("apps/cart.yaml"), Some(40)));
        assert_eq!(a["partialFingerprints"], b["partialFingerprints"]);
        assert_ne!(
            a["locations"][0]["physicalLocation"],
            b["locations"][0]["physicalLocation"]
        );
    }

    #[test]
    fn standard_input_is_no_physical_location() {
        let r = json(&finding(Some("-"), Some(3)));
        let location = &r["locations"][0];
        assert!(location.get("physicalLocation").is_none());
        assert_eq!(
            location["logicalLocations"][0]["fullyQualifiedName"],
            "Deployment/shop/cart"
        );
    }

    #[test]
    fn rules_cover_codes_without_metadata_once() {
        let diagnostics = vec![
            finding(Some("a.yaml"), Some(1)),
            finding(Some("b.yaml"), Some(2)),
        ];
        let report = Report {
            diagnostics: &diagnostics,
            plan: None,
            warnings: &[],
            rules: &[],
            fail_on: Severity::Deny,
        };
        let (rules, index) = rules(&report);
        assert_eq!(rules.len(), 1);
        assert_eq!(index.get("MP301"), Some(&0));
    }
}
