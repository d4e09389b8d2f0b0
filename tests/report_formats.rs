//! The CI report formats (SARIF, JUnit, GitHub, Markdown) over hand-built reports: SARIF
//! against the official OASIS schema, JUnit parsed back, GitHub commands unescaped back,
//! the Markdown comment's size limit, and snapshots of every format.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use meshplan::diagnostic::{Diagnostic, ObjectRef, Severity};
use meshplan::plan::{Plan, Step, StepKind};
use meshplan::report::{self, OutputFormat, Report, RuleInfo, markdown};
use serde_json::Value;
use std::path::Path;

const SARIF_SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/schemas/sarif/sarif-schema-2.1.0.json"
);

fn object(kind: &str, namespace: &str, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: if kind == "Namespace" { "v1" } else { "apps/v1" }.to_string(),
        kind: kind.to_string(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn diag(
    rule: &str,
    name: &str,
    severity: Severity,
    message: &str,
    object: Option<ObjectRef>,
    file: Option<&str>,
    line: Option<u32>,
    hint: Option<&str>,
    step: Option<&str>,
) -> Diagnostic {
    Diagnostic {
        rule: rule.to_string(),
        name: name.to_string(),
        severity,
        message: message.to_string(),
        object,
        file: file.map(str::to_string),
        line,
        hint: hint.map(str::to_string),
        step: step.map(str::to_string),
    }
}

fn rule(code: &str, name: &str, severity: Severity, title: &str) -> RuleInfo {
    RuleInfo {
        code: code.to_string(),
        name: name.to_string(),
        severity,
        title: title.to_string(),
        description: format!("{title}: checked on every step that moves workloads."),
        help: format!("Fix {name} before merging."),
    }
}

fn step(name: &str, hop: &str, done: bool, restarts: &[&str], manual: &[&str]) -> Step {
    Step {
        name: name.to_string(),
        hop: hop.to_string(),
        done,
        restarts: restarts.iter().map(|s| s.to_string()).collect(),
        manual: manual.iter().map(|s| s.to_string()).collect(),
        kind: StepKind::Wave,
        ..Step::default()
    }
}

/// A two-hop upgrade half done, with findings of every severity, one of them about no
/// object and no file, and text that needs escaping in every format.
fn upgrade_plan() -> Plan {
    Plan {
        from: Some("1.22.3".to_string()),
        to: "1.24.1".to_string(),
        hops: vec!["1.23.5".to_string(), "1.24.1".to_string()],
        steps: vec![
            step("install", "1.23.5", true, &[], &[]),
            step(
                "wave canary",
                "1.23.5",
                true,
                &["Deployment/shop/cart"],
                &[],
            ),
            step("install", "1.24.1", false, &[], &[]),
            step(
                "wave canary",
                "1.24.1",
                false,
                &["Deployment/shop/cart", "StatefulSet/shop/db"],
                &["Job/shop/migrate"],
            ),
            step("cleanup", "1.24.1", false, &[], &[]),
        ],
        ..Plan::default()
    }
}

/// Findings as the pipeline hands them over: normalized into report order.
fn failing_diagnostics() -> Vec<Diagnostic> {
    let mut out = failing_unsorted();
    meshplan::diagnostic::normalize(&mut out);
    out
}

fn failing_unsorted() -> Vec<Diagnostic> {
    let cart = object("Deployment", "shop", "cart");
    vec![
        diag(
            "MP301",
            "missing-pdb",
            Severity::Deny,
            "deployment has 3 replicas and no poddisruptionbudget",
            Some(cart.clone()),
            Some("apps/shop/cart.yaml"),
            Some(1),
            Some("add a PodDisruptionBudget with maxUnavailable: 1"),
            Some("wave canary"),
        ),
        diag(
            "MP103",
            "unsupported-kubernetes",
            Severity::Deny,
            "istio 1.24.1 supports kubernetes 1.28 to 1.31, the spec says 1.27",
            None,
            None,
            None,
            None,
            None,
        ),
        diag(
            "MP303",
            "missing-readiness-probe",
            Severity::Warn,
            "container \"app\" has no readiness probe: <none> & 100% ready, always",
            Some(cart),
            Some("apps/shop/cart.yaml"),
            Some(17),
            None,
            Some("wave canary"),
        ),
        diag(
            "MP204",
            "conflicting-injection-labels",
            Severity::Warn,
            "namespace has both istio-injection and istio.io/rev",
            Some(ObjectRef {
                api_version: "v1".to_string(),
                kind: "Namespace".to_string(),
                namespace: String::new(),
                name: "shop".to_string(),
            }),
            Some("apps/shop/namespace.yaml"),
            None,
            None,
            None,
        ),
        diag(
            "MP304",
            "manual-restart-required",
            Severity::Info,
            "job cannot be rolling-restarted",
            Some(object("Job", "shop", "migrate")),
            Some("apps/shop/migrate.yaml"),
            Some(3),
            Some("delete and re-create the job after the wave"),
            Some("wave canary"),
        ),
        diag(
            "ACME001",
            "team-label",
            Severity::Warn,
            "deployment has no team label",
            Some(object("Deployment", "shop", "db")),
            Some("apps/shop/db.yaml"),
            Some(5),
            None,
            None,
        ),
    ]
}

fn rules() -> Vec<RuleInfo> {
    vec![
        rule(
            "MP103",
            "unsupported-kubernetes",
            Severity::Deny,
            "Kubernetes version unsupported",
        ),
        rule(
            "MP204",
            "conflicting-injection-labels",
            Severity::Warn,
            "Conflicting injection labels",
        ),
        rule(
            "MP301",
            "missing-pdb",
            Severity::Deny,
            "Moving workload without a PodDisruptionBudget",
        ),
        rule(
            "MP303",
            "missing-readiness-probe",
            Severity::Warn,
            "Container without readiness probe",
        ),
        rule(
            "MP304",
            "manual-restart-required",
            Severity::Warn,
            "Workload needs a manual restart",
        ),
        rule(
            "MP402",
            "gateway-owns-loadbalancer",
            Severity::Deny,
            "Gateway owns its LoadBalancer",
        ),
    ]
}

fn passing_diagnostics() -> Vec<Diagnostic> {
    let mut out = passing_unsorted();
    meshplan::diagnostic::normalize(&mut out);
    out
}

fn passing_unsorted() -> Vec<Diagnostic> {
    vec![
        diag(
            "MP106",
            "in-place-upgrade",
            Severity::Warn,
            "the upgrade to 1.24.1 is in place",
            None,
            Some("meshplan.yaml"),
            Some(4),
            Some("use the revision strategy"),
            None,
        ),
        diag(
            "MP310",
            "vm-restart-required",
            Severity::Info,
            "workloadentry runs on the upgraded revision",
            Some(ObjectRef {
                api_version: "networking.istio.io/v1".to_string(),
                kind: "WorkloadEntry".to_string(),
                namespace: "legacy".to_string(),
                name: "vm-1".to_string(),
            }),
            Some("-"),
            Some(2),
            None,
            Some("install"),
        ),
    ]
}

fn new_cluster_plan() -> Plan {
    Plan {
        from: None,
        to: "1.24.1".to_string(),
        hops: vec!["1.24.1".to_string()],
        steps: vec![
            step("install", "1.24.1", false, &[], &[]),
            step("wave all", "1.24.1", false, &["Deployment/web/front"], &[]),
        ],
        ..Plan::default()
    }
}

fn render(report: &Report<'_>, format: OutputFormat) -> String {
    report::render(report, format, Path::new("."), false)
}

/// Validates a SARIF document against the official schema, loaded from disk (no network).
pub(crate) fn assert_valid_sarif(doc: &str) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(SARIF_SCHEMA).expect("the shared SARIF schema is present"),
    )
    .expect("the SARIF schema is JSON");
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    let instance: Value = serde_json::from_str(doc).expect("SARIF output is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}\n{doc}");
}

#[test]
fn sarif_schema_check_rejects_a_broken_log() {
    // Guards the validation above against passing vacuously.
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(SARIF_SCHEMA).unwrap()).unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    let diagnostics = failing_diagnostics();
    let report = Report {
        diagnostics: &diagnostics,
        plan: None,
        warnings: &[],
        rules: &[],
        fail_on: Severity::Deny,
    };
    let mut doc: Value = serde_json::from_str(&render(&report, OutputFormat::Sarif)).unwrap();
    assert!(validator.is_valid(&doc));
    doc["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&doc));
}

#[test]
fn sarif_is_valid_for_every_shape_of_report() {
    let failing = failing_diagnostics();
    let passing = passing_diagnostics();
    let rules = rules();
    let plan = upgrade_plan();
    let warnings = vec!["glob \"apps/**/*.yml\" matched nothing".to_string()];
    let reports = [
        Report {
            diagnostics: &failing,
            plan: Some(&plan),
            warnings: &warnings,
            rules: &rules,
            fail_on: Severity::Deny,
        },
        Report {
            diagnostics: &passing,
            plan: None,
            warnings: &[],
            rules: &[],
            fail_on: Severity::Warn,
        },
        Report {
            diagnostics: &[],
            plan: None,
            warnings: &[],
            rules: &[],
            fail_on: Severity::Deny,
        },
    ];
    for r in &reports {
        assert_valid_sarif(&render(r, OutputFormat::Sarif));
    }
}

#[test]
fn sarif_lists_one_rule_per_code_and_locates_results() {
    let diagnostics = failing_diagnostics();
    let rules = rules();
    let report = Report {
        diagnostics: &diagnostics,
        plan: None,
        warnings: &[],
        rules: &rules,
        fail_on: Severity::Deny,
    };
    let doc: Value = serde_json::from_str(&render(&report, OutputFormat::Sarif)).unwrap();
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "meshplan");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let ids: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // Every rule that ran plus the user policy that has no metadata, each once, sorted.
    assert_eq!(
        ids,
        [
            "ACME001", "MP103", "MP204", "MP301", "MP303", "MP304", "MP402"
        ]
    );
    let mp304 = &driver["rules"][5];
    assert_eq!(mp304["name"], "manual-restart-required");
    assert_eq!(
        mp304["shortDescription"]["text"],
        "Workload needs a manual restart"
    );
    assert_eq!(
        mp304["help"]["text"],
        "Fix manual-restart-required before merging."
    );
    // The rule's default level comes from its default severity, the result's from the
    // effective one (MP304 was lowered to info).
    assert_eq!(mp304["defaultConfiguration"]["level"], "warning");
    assert_eq!(driver["rules"][1]["defaultConfiguration"]["level"], "error");

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), diagnostics.len());
    for (r, d) in results.iter().zip(&diagnostics) {
        assert_eq!(r["ruleId"], d.rule.as_str());
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[index], d.rule);
        let level = match d.severity {
            Severity::Deny => "error",
            Severity::Warn => "warning",
            Severity::Info => "note",
        };
        assert_eq!(r["level"], level);
        let location = &r["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"].as_str(),
            d.file.as_deref()
        );
        assert_eq!(
            location["physicalLocation"]["region"]["startLine"].as_u64(),
            d.line.map(u64::from)
        );
        let fqn = location["logicalLocations"][0]["fullyQualifiedName"].as_str();
        assert_eq!(fqn.map(str::to_string), d.object.as_ref().map(|o| o.key()));
        if d.object.is_some() {
            assert_eq!(location["logicalLocations"][0]["kind"], "resource");
        }
    }
    // The finding with neither object nor file has no location at all.
    let mp103 = results.iter().find(|r| r["ruleId"] == "MP103").unwrap();
    assert!(mp103.get("locations").is_none());
}

/// Parses a JUnit document and checks that every count agrees with the elements;
/// returns (suite name, tests, failures) per suite.
pub(crate) fn junit_counts(xml: &str) -> Vec<(String, usize, usize)> {
    let doc = roxmltree::Document::parse(xml).expect("JUnit output is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let attr = |n: roxmltree::Node<'_, '_>, a: &str| -> usize {
        n.attribute(a)
            .and_then(|v| v.parse().ok())
            .unwrap_or(usize::MAX)
    };
    let mut out = Vec::new();
    let (mut tests, mut failures) = (0, 0);
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert!(cases.iter().all(|c| c.tag_name().name() == "testcase"));
        let failed = cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count();
        assert_eq!(
            attr(suite, "tests"),
            cases.len(),
            "tests of {:?}",
            suite.attribute("name")
        );
        assert_eq!(attr(suite, "failures"), failed);
        tests += cases.len();
        failures += failed;
        out.push((
            suite.attribute("name").unwrap_or("").to_string(),
            cases.len(),
            failed,
        ));
    }
    assert_eq!(attr(root, "tests"), tests);
    assert_eq!(attr(root, "failures"), failures);
    out
}

#[test]
fn junit_has_one_suite_per_area_and_consistent_counts() {
    let diagnostics = failing_diagnostics();
    let rules = rules();
    let mut report = Report {
        diagnostics: &diagnostics,
        plan: None,
        warnings: &[],
        rules: &rules,
        fail_on: Severity::Deny,
    };
    let suites = junit_counts(&render(&report, OutputFormat::Junit));
    let names: Vec<&str> = suites.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "MP1xx upgrade path",
            "MP2xx revisions",
            "MP3xx workloads",
            "MP4xx gateways",
            "MP5xx configuration",
            "MP6xx ambient",
            "other"
        ]
    );
    // MP3xx: MP301 and MP303 on the cart, MP304 on the job; only MP301 is deny.
    assert_eq!(suites[2], ("MP3xx workloads".to_string(), 3, 1));
    // MP402 ran and found nothing: one passing testcase.
    assert_eq!(suites[3], ("MP4xx gateways".to_string(), 1, 0));
    assert_eq!(suites[4], ("MP5xx configuration".to_string(), 0, 0));

    // Under --fail-on warn the warn findings fail too; info never does.
    report.fail_on = Severity::Warn;
    let strict = junit_counts(&render(&report, OutputFormat::Junit));
    let failures = |s: &[(String, usize, usize)]| s.iter().map(|x| x.2).sum::<usize>();
    assert_eq!(failures(&suites), 2);
    assert_eq!(failures(&strict), 5);
}

#[test]
fn junit_text_survives_escaping() {
    let diagnostics = failing_diagnostics();
    let report = Report {
        diagnostics: &diagnostics,
        plan: None,
        warnings: &[],
        rules: &[],
        fail_on: Severity::Warn,
    };
    let xml = render(&report, OutputFormat::Junit);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failure = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("failure")
                && n.attribute("message")
                    .is_some_and(|m| m.contains("readiness"))
        })
        .expect("the MP303 failure is there");
    assert_eq!(
        failure.attribute("message"),
        Some("container \"app\" has no readiness probe: <none> & 100% ready, always")
    );
    assert_eq!(failure.attribute("type"), Some("warn"));
    assert!(
        failure
            .text()
            .unwrap_or("")
            .contains("at apps/shop/cart.yaml:17")
    );
}

/// Undoes GitHub's escaping of a command's message.
fn unescape(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

#[test]
fn github_emits_one_command_per_finding_and_round_trips() {
    let diagnostics = failing_diagnostics();
    let warnings = vec!["100% of globs,\nmatched: none".to_string()];
    let report = Report {
        diagnostics: &diagnostics,
        plan: None,
        warnings: &warnings,
        rules: &[],
        fail_on: Severity::Deny,
    };
    let out = render(&report, OutputFormat::Github);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), warnings.len() + diagnostics.len());
    assert_eq!(
        unescape(lines[0].split_once("title=meshplan::").map_or("", |x| x.1)),
        warnings[0]
    );
    for (line, d) in lines[1..].iter().zip(&diagnostics) {
        let (command, message) = line[2..]
            .split_once("::")
            .expect("::command props::message");
        assert!(!message.contains('\n') && !message.contains('\r'));
        assert!(unescape(message).starts_with(&d.message), "{line}");
        assert!(command.ends_with(&format!("title={}", d.rule)), "{line}");
        match (&d.file, d.line) {
            (Some(f), Some(l)) => assert!(command.contains(&format!(" file={f},line={l},"))),
            (Some(f), None) => assert!(command.contains(&format!(" file={f},title"))),
            _ => assert!(!command.contains("file=")),
        }
    }
}

/// Many findings with long messages, for the comment size limit.
fn many_findings(n: usize) -> Vec<Diagnostic> {
    let severities = [Severity::Deny, Severity::Warn, Severity::Info];
    let mut out: Vec<Diagnostic> = (0..n)
        .map(|i| {
            diag(
                &format!("MP3{:02}", i % 13 + 1),
                "missing-pdb",
                severities[i % 3],
                &format!("deployment number {i} has 3 replicas and no poddisruptionbudget selecting its pods"),
                Some(object("Deployment", &format!("team-{}", i % 97), &format!("service-{i}"))),
                Some(&format!("apps/team-{}/service-{i}.yaml", i % 97)),
                Some((i % 400) as u32 + 1),
                Some("add a PodDisruptionBudget with maxUnavailable: 1"),
                Some("wave canary"),
            )
        })
        .collect();
    meshplan::diagnostic::normalize(&mut out);
    out
}

/// The number after `label` in `text`, e.g. `**1667 deny**`.
fn count_before(text: &str, suffix: &str) -> usize {
    let end = text.find(suffix).expect("count present");
    let digits: String = text[..end]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().expect("a count")
}

#[test]
fn markdown_with_5000_findings_fits_a_github_comment() {
    let diagnostics = many_findings(5000);
    let manual: Vec<String> = (0..3000).map(|i| format!("Job/batch/job-{i}")).collect();
    let manual_refs: Vec<&str> = manual.iter().map(String::as_str).collect();
    let mut plan = upgrade_plan();
    plan.steps
        .push(step("wave batch", "1.24.1", false, &[], &manual_refs));
    let report = Report {
        diagnostics: &diagnostics,
        plan: Some(&plan),
        warnings: &[],
        rules: &[],
        fail_on: Severity::Deny,
    };
    let md = render(&report, OutputFormat::Markdown);
    assert!(md.len() < markdown::COMMENT_LIMIT, "{} bytes", md.len());
    assert!(md.chars().count() < markdown::COMMENT_LIMIT);
    // Still under the limit once the Action makes every file link absolute.
    let links = md.matches("](").count();
    assert!(links > 0);
    assert!(md.len() + links * markdown::LINK_ALLOWANCE < markdown::COMMENT_LIMIT);
    assert!(md.starts_with(markdown::MARKER));

    let s = report.summary();
    assert_eq!((s.deny, s.warn, s.info), (1667, 1667, 1666));
    assert_eq!(count_before(&md, " deny**"), s.deny);
    assert_eq!(count_before(&md, " warn**"), s.warn);
    assert_eq!(count_before(&md, " info**"), s.info);
    assert!(md.contains("## meshplan check: ❌ failed"));

    // Every finding is either listed or counted as not shown.
    for (severity, total) in [("deny", s.deny), ("warn", s.warn), ("info", s.info)] {
        let heading = format!(
            "#### {} {severity} ({total})",
            match severity {
                "deny" => "❌",
                "warn" => "⚠️",
                _ => "ℹ️",
            }
        );
        let start = md.find(&heading).expect("a heading per severity");
        let section = &md[start..];
        let end = section[heading.len()..]
            .find("#### ")
            .map_or(section.len(), |e| e + heading.len());
        let section = &section[..end];
        let listed = section.lines().filter(|l| l.starts_with("- **MP")).count();
        let hidden = section
            .find(&format!(" more {severity} finding(s) not shown"))
            .map_or(0, |_| {
                count_before(section, &format!(" more {severity} finding(s) not shown"))
            });
        assert_eq!(listed + hidden, total, "{severity}");
    }
    // The long manual list is capped and counted too.
    assert!(md.contains("**Workloads a person must restart** (3001)"));
    assert!(md.contains("more not shown"));
}

#[test]
fn markdown_shows_plan_table_and_mermaid_and_links() {
    let diagnostics = failing_diagnostics();
    let plan = upgrade_plan();
    let report = Report {
        diagnostics: &diagnostics,
        plan: Some(&plan),
        warnings: &[],
        rules: &[],
        fail_on: Severity::Deny,
    };
    let md = render(&report, OutputFormat::Markdown);
    assert!(
        md.contains("| 3 | install | 1.24.1 | **next** | 0 | 0 |"),
        "{md}"
    );
    assert!(
        md.contains("| 4 | wave canary | 1.24.1 | pending | 2 | 1 |"),
        "{md}"
    );
    assert!(
        md.contains("- wave canary (1.24.1):\n  - `Job/shop/migrate`"),
        "{md}"
    );
    assert!(md.contains("```mermaid\nflowchart LR\n"));
    assert_eq!(md.matches("subgraph hop").count(), 2);
    assert!(md.contains("[apps/shop/cart.yaml:1](apps/shop/cart.yaml#L1)"));
    assert!(md.contains("`Job/shop/migrate`"));
    // A small report is shown in full, nothing collapsed.
    assert!(!md.contains("<details>"));
}

#[test]
fn markdown_plan_alone_matches_the_plan_of_the_comment() {
    let plan = upgrade_plan();
    let alone = markdown::render_plan(&plan);
    assert!(alone.starts_with("### Plan: 1.22.3 → 1.24.1"));
    let report = Report {
        diagnostics: &[],
        plan: Some(&plan),
        warnings: &[],
        rules: &[],
        fail_on: Severity::Deny,
    };
    let comment = render(&report, OutputFormat::Markdown);
    assert!(comment.contains(&alone));
    assert!(comment.contains("## meshplan check: ✅ passed"));
    assert!(comment.trim_end().ends_with("No findings."));
}

/// The report with a plan, warnings, rules and findings of every kind.
fn snapshot_failing(format: OutputFormat) -> String {
    let diagnostics = failing_diagnostics();
    let rules = rules();
    let plan = upgrade_plan();
    let warnings = vec!["glob \"apps/**/*.yml\" matched nothing".to_string()];
    let report = Report {
        diagnostics: &diagnostics,
        plan: Some(&plan),
        warnings: &warnings,
        rules: &rules,
        fail_on: Severity::Deny,
    };
    without_version(render(&report, format))
}

/// A passing new-cluster report without rule metadata.
fn snapshot_passing(format: OutputFormat) -> String {
    let diagnostics = passing_diagnostics();
    let plan = new_cluster_plan();
    let report = Report {
        diagnostics: &diagnostics,
        plan: Some(&plan),
        warnings: &[],
        rules: &[],
        fail_on: Severity::Deny,
    };
    without_version(render(&report, format))
}

/// The crate version would churn the SARIF snapshots on every release.
fn without_version(s: String) -> String {
    s.replace(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[version]\"",
    )
}

#[test]
fn snapshots_of_every_format() {
    for (name, format) in [
        ("sarif", OutputFormat::Sarif),
        ("junit", OutputFormat::Junit),
        ("github", OutputFormat::Github),
        ("markdown", OutputFormat::Markdown),
    ] {
        insta::with_settings!({prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("report_formats__failing_{name}"), snapshot_failing(format));
            insta::assert_snapshot!(format!("report_formats__passing_{name}"), snapshot_passing(format));
        });
    }
}

#[test]
fn markdown_plan_lists_the_planners_problems() {
    let plan = Plan {
        problems: vec![meshplan::plan::PlanProblem {
            rule: "MP102".to_string(),
            kind: meshplan::plan::ProblemKind::Downgrade,
            message: "istio 1.24.6 is older than the installed 1.26.8".to_string(),
            hop: None,
            kubernetes: Vec::new(),
            step: None,
            last_supported: None,
        }],
        ..upgrade_plan()
    };
    let md = meshplan::report::markdown::render_plan(&plan);
    assert!(
        md.contains("**MP102**: istio 1.24.6 is older than the installed 1.26.8"),
        "{md}"
    );
}
