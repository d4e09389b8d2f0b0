//! Meta-tests of the built-in policies, in the spirit of clippy's `missing-test-files` and
//! `lint_message_convention`: every rule of RULES.md this issue owns has a policy, tests
//! that fire and stay quiet, explain prose and matching metadata; every Rego test passes;
//! every finding the fixtures produce follows the message style.

use meshplan::diagnostic::Severity;
use meshplan::policy::testing::{self, Outcome, TestTarget};
use meshplan::policy::{PolicySet, count_by_code};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATE: &str = env!("CARGO_MANIFEST_DIR");

/// Every rule of RULES.md: the `check` issue's and the upgrade issue's.
const CODES: &[&str] = &[
    "MP101", "MP102", "MP103", "MP105", "MP106", "MP202", "MP203", "MP401", "MP402", "MP403",
    "MP404", "MP104", "MP107", "MP201", "MP204", "MP205", "MP206", "MP301", "MP302", "MP303",
    "MP304", "MP305", "MP306", "MP307", "MP308", "MP309", "MP310", "MP311", "MP312", "MP313",
    "MP501", "MP502", "MP503", "MP108", "MP110", "MP504", "MP505", "MP207", "MP208", "MP314",
    "MP209", "MP210", "MP211", "MP315", "MP603",
];

/// The findings a rule may report outside its own severity's set, each because RULES.md
/// says so: (code, severity, where RULES.md specifies it). Only findings without an object
/// (about the spec as a whole) may use one; every other finding must come from the set of
/// its rule's severity.
const SEVERITY_EXCEPTIONS: &[(&str, Severity, &str)] = &[(
    "MP505",
    Severity::Info,
    "MP505 row: with only globs in `spec.manifests`, one info at that field (the wiring is unchecked)",
)];

/// `code → (name, severity)` from the tables of the shared RULES.md.
fn catalogue() -> BTreeMap<String, (String, String)> {
    let path = Path::new(CRATE).join("../shared/RULES.md");
    let text = std::fs::read_to_string(&path).expect("RULES.md is readable");
    let mut rules = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| MP")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "", code, name, severity, fires when, ""
        assert!(cells.len() >= 5, "malformed RULES.md row: {line}");
        let previous = rules.insert(
            cells[1].to_string(),
            (cells[2].to_string(), cells[3].to_string()),
        );
        assert!(previous.is_none(), "code {} twice in RULES.md", cells[1]);
    }
    assert!(rules.len() >= CODES.len(), "RULES.md tables not found");
    rules
}

fn area(code: &str) -> &'static str {
    match code.get(..3) {
        Some("MP1") => "upgrade",
        Some("MP2") => "revisions",
        Some("MP3") => "workloads",
        Some("MP4") => "gateways",
        Some("MP5") => "config",
        Some("MP6") => "ambient",
        _ => panic!("code {code} has no area"),
    }
}

fn policy_path(code: &str, name: &str) -> String {
    format!("policies/{}/{}.rego", area(code), name.replace('-', "_"))
}

fn set() -> PolicySet {
    PolicySet::load(true, &[]).expect("built-in policies compile")
}

#[test]
fn every_rego_test_passes_and_all_are_run() {
    let report = testing::run(TestTarget::Builtin).expect("tests compile");
    let failures: Vec<String> = report
        .failures()
        .iter()
        .map(|r| format!("{}: {}: {:?}", r.file, r.name, r.outcome))
        .collect();
    assert!(
        failures.is_empty(),
        "failing Rego tests:\n{}",
        failures.join("\n")
    );
    // Count test rules on disk independently of the runner's discovery.
    let mut on_disk = BTreeSet::new();
    for entry in walkdir::WalkDir::new(Path::new(CRATE).join("policies")) {
        let entry = entry.expect("policies dir readable");
        let file = entry.path().to_string_lossy().into_owned();
        if !file.ends_with("_test.rego") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("test file readable");
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("test_") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                on_disk.insert((file.clone(), name));
            }
        }
    }
    assert!(!on_disk.is_empty());
    assert_eq!(report.results.len(), on_disk.len());
    assert!(report.passed());
}

#[test]
fn every_rule_of_this_issue_is_complete_and_matches_rules_md() {
    let catalogue = catalogue();
    let set = set();
    for code in CODES {
        let (name, severity) = catalogue
            .get(*code)
            .unwrap_or_else(|| panic!("{code} is not in RULES.md"));
        let rule = set
            .rule(code)
            .unwrap_or_else(|| panic!("{code} has no policy"));
        assert_eq!(&rule.name, name, "{code}: name differs from RULES.md");
        assert_eq!(rule.severity.as_str(), severity, "{code}: severity differs");
        let file = policy_path(code, name);
        assert_eq!(rule.file, file, "{code}: policy file");
        assert_eq!(
            rule.package,
            format!("data.meshplan.{}.{}", area(code), name.replace('-', "_"))
        );
        assert!(
            !rule.title.is_empty() && !rule.description.is_empty() && !rule.remediation.is_empty(),
            "{code}: metadata prose"
        );
        let explain = set.explain(code).expect("explain text");
        for heading in ["What it does", "Why is this bad?", "Example", "Fix"] {
            assert!(
                explain.contains(heading),
                "{code}: explain lacks {heading:?}"
            );
        }
        let test_file = Path::new(CRATE).join(file.replace(".rego", "_test.rego"));
        let text = std::fs::read_to_string(&test_file)
            .unwrap_or_else(|e| panic!("{code}: {}: {e}", test_file.display()));
        for prefix in ["test_fires", "test_ok", "fixture_fires", "fixture_ok"] {
            assert!(
                text.lines().any(|l| l.starts_with(prefix)),
                "{code}: {} has no {prefix}* rule",
                test_file.display()
            );
        }
    }
}

/// Each severity exception is one RULES.md itself specifies, in the rule's row: the
/// exception cannot outlive the contract that allows it.
#[test]
fn severity_exceptions_are_specified_in_rules_md() {
    let text = std::fs::read_to_string(Path::new(CRATE).join("../shared/RULES.md"))
        .expect("RULES.md is readable");
    for (code, severity, _) in SEVERITY_EXCEPTIONS {
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| {code} |")))
            .unwrap_or_else(|| panic!("{code} is not in RULES.md"));
        assert!(
            row.contains(&format!("one {severity}")),
            "{code}: RULES.md does not specify a {severity} finding: {row}"
        );
    }
}

#[test]
fn codes_are_unique_and_all_in_rules_md() {
    let catalogue = catalogue();
    let set = set();
    let codes: Vec<&str> = set.rules().iter().map(|r| r.code.as_str()).collect();
    let unique: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len());
    for code in codes {
        assert!(catalogue.contains_key(code), "{code} is not in RULES.md");
    }
}

/// Every fixture of a rule's test file is run through all rules: `fixture_fires*` must make
/// the rule fire and `fixture_ok*` must not; every finding must follow the house style and
/// come from the set named after the rule's default severity.
#[test]
fn fixtures_fire_as_named_and_messages_follow_the_style() {
    let set = set();
    let fixtures = testing::fixtures(TestTarget::Builtin).expect("fixtures evaluate");
    assert!(fixtures.len() >= 2 * CODES.len());
    let mut checked = 0;
    for fixture in &fixtures {
        let rule_file = fixture.file.replace("_test.rego", ".rego");
        let rule = set
            .rules()
            .iter()
            .find(|r| r.file == rule_file)
            .unwrap_or_else(|| panic!("{}: no rule file {rule_file}", fixture.file));
        let findings = set
            .evaluate(&fixture.input)
            .unwrap_or_else(|e| panic!("{} {}: {e}", fixture.file, fixture.name));
        let fired = count_by_code(&findings)
            .get(&rule.code)
            .copied()
            .unwrap_or(0);
        if fixture.name.starts_with("fixture_fires") {
            assert!(
                fired > 0,
                "{} {}: {} did not fire",
                fixture.file,
                fixture.name,
                rule.code
            );
        } else if fixture.name.starts_with("fixture_ok") {
            assert_eq!(
                fired, 0,
                "{} {}: {} fired",
                fixture.file, fixture.name, rule.code
            );
        }
        for f in &findings {
            let first = f.message.chars().next();
            assert!(
                first.is_some_and(|c| !c.is_uppercase()),
                "{}: message must start lowercase: {:?}",
                f.code,
                f.message
            );
            assert!(
                !f.message.ends_with('.'),
                "{}: trailing period: {:?}",
                f.code,
                f.message
            );
            assert!(!f.message.contains('\n'), "{}: multi-line message", f.code);
            if let Some(hint) = &f.hint {
                assert!(!hint.ends_with('.'), "{}: hint ends with a period", f.code);
            }
            let rule = set.rule(&f.code).expect("finding of a known rule");
            if f.default_severity != rule.severity {
                let excepted = SEVERITY_EXCEPTIONS
                    .iter()
                    .any(|(code, severity, _)| *code == f.code && *severity == f.default_severity);
                assert!(
                    excepted && f.object.is_none(),
                    "{}: set {} differs from metadata {} (and is no object-less exception of \
                     SEVERITY_EXCEPTIONS): {:?}",
                    f.code,
                    f.default_severity,
                    rule.severity,
                    f.message
                );
            }
            if f.object.is_some() || f.code == "MP309" {
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
}

#[test]
fn severities_of_this_issue_cover_all_three_sets() {
    let set = set();
    let seen: BTreeSet<Severity> = set.rules().iter().map(|r| r.severity).collect();
    assert_eq!(seen.len(), 3);
}

#[test]
fn rules_doc_is_up_to_date() {
    let path = PathBuf::from(CRATE).join("docs/rules.md");
    let want = set().rules_markdown();
    if std::env::var_os("MESHPLAN_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write docs/rules.md");
    }
    let have = std::fs::read_to_string(&path).expect("the file is readable");
    assert!(
        have == want,
        "docs/rules.md is stale: run `MESHPLAN_BLESS=1 cargo test --test tests rules_doc`"
    );
}

#[test]
fn policy_test_command_on_a_user_dir_reports_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("mine.rego"),
        "package org.mine\n\nimport data.meshplan.lib.util\n\nmetadata := {\"code\": \"ORG1\", \"name\": \"mine\", \"severity\": \"warn\"}\n\nwarn contains util.workload_finding(w, \"moving\", \"\") if {\n\tsome w in input.facts.workloads\n\tw.moving\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("mine_test.rego"),
        "package org.mine_test\n\nimport data.org.mine\n\nw := {\"object\": {\"kind\": \"Pod\", \"namespace\": \"a\", \"name\": \"b\"}, \"moving\": true}\n\ntest_fires if {\n\tcount(mine.warn) == 1 with input as {\"facts\": {\"workloads\": [w]}}\n}\n\ntest_wrong if {\n\tcount(mine.warn) == 0 with input as {\"facts\": {\"workloads\": [w]}}\n}\n",
    )
    .expect("write");
    let report = testing::run(TestTarget::Dir(dir.path())).expect("compiles");
    let outcomes: Vec<(&str, &Outcome)> = report
        .results
        .iter()
        .map(|r| (r.name.as_str(), &r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("test_fires", &Outcome::Pass),
            ("test_wrong", &Outcome::Fail)
        ]
    );
}

#[test]
fn policy_test_on_the_source_dir_matches_the_embedded_run() {
    let embedded = testing::run(TestTarget::Builtin).expect("embedded tests compile");
    let dir = Path::new(CRATE).join("policies");
    let from_dir = testing::run(TestTarget::Dir(&dir)).expect("policies/ compiles");
    assert!(from_dir.passed(), "{}", from_dir.to_text());
    let names = |r: &testing::TestReport| -> BTreeSet<String> {
        r.results.iter().map(|t| t.name.clone()).collect()
    };
    assert_eq!(from_dir.results.len(), embedded.results.len());
    assert_eq!(names(&from_dir), names(&embedded));
}

#[test]
fn explain_text_snapshot() {
    insta::assert_snapshot!(set().explain("MP301").expect("MP301 explained"));
}

/// regorus does not index comprehensions, so two loops over the inventory in one rule body
/// are quadratic (seconds at 10k objects). Each top-level block of a rule file may iterate
/// `input.facts` collections at most once; other lookups must be by key.
#[test]
fn no_rule_body_loops_over_facts_twice() {
    for entry in walkdir::WalkDir::new(Path::new(CRATE).join("policies")) {
        let entry = entry.expect("policies dir readable");
        let file = entry.path().to_string_lossy().into_owned();
        if !file.ends_with(".rego") || file.ends_with("_test.rego") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("policy readable");
        for block in text.split("\n\n") {
            let loops = block.matches(" in input.facts.").count();
            assert!(
                loops <= 1,
                "{file}: a block loops over facts {loops} times:\n{block}"
            );
        }
    }
}
