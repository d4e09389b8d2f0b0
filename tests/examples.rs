//! Acceptance tests over the bundled examples: each example's `expected.yaml` grid of
//! (rule, object) pairs that must fire or must stay quiet, its exit code, and a snapshot of
//! its text and JSON reports (reviewed like code).

use crate::common::{TODAY, meshplan, root};
use serde_json::Value;
use std::path::Path;

/// Every example folder that has an `expected.yaml`, relative to the crate root.
fn example_dirs() -> Vec<String> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root().join("examples"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_name() == "expected.yaml" {
            let dir = entry.path().parent().expect("a file has a parent");
            let rel = dir.strip_prefix(root()).expect("below the root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    assert!(
        out.len() >= 6,
        "expected the bundled examples, found {out:?}"
    );
    out
}

fn run_json(dir: &str) -> (i32, Value) {
    let out = meshplan()
        .args(["check", "-C", dir, "--today", TODAY, "--format", "json"])
        .output()
        .expect("meshplan runs");
    let code = out.status.code().expect("exit code");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{dir}: not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    // The exit code is the report's own verdict (examples run with the default --fail-on deny).
    let deny = report["summary"]["deny"].as_u64().expect("summary.deny");
    assert_eq!(code, i32::from(deny > 0), "{dir}: exit code vs {report}");
    (code, report)
}

fn object_key(d: &Value) -> Option<String> {
    let o = d.get("object")?;
    let kind = o["kind"].as_str()?;
    let ns = o["namespace"].as_str().unwrap_or("");
    let name = o["name"].as_str()?;
    Some(if ns.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}/{ns}/{name}")
    })
}

fn matches(d: &Value, want: &Value) -> bool {
    if d["rule"] != want["rule"] {
        return false;
    }
    let object_ok = want
        .get("object")
        .and_then(Value::as_str)
        .is_none_or(|obj| object_key(d).as_deref() == Some(obj));
    let severity_ok = want.get("severity").is_none_or(|sev| &d["severity"] == sev);
    object_ok && severity_ok
}

#[test]
fn every_example_meets_its_expected_grid() {
    let mut failures = Vec::new();
    for dir in example_dirs() {
        let text = std::fs::read_to_string(Path::new(&root()).join(&dir).join("expected.yaml"))
            .expect("readable expected.yaml");
        let expected: Value = serde_saphyr::from_str(&text).expect("valid expected.yaml");
        let (code, report) = run_json(&dir);
        let diags = report["diagnostics"]
            .as_array()
            .cloned()
            .expect("the report has a diagnostics array");
        if let Some(want) = expected.get("exitCode").and_then(Value::as_i64)
            && i64::from(code) != want
        {
            failures.push(format!("{dir}: exit code {code}, expected {want}"));
        }
        for want in expected["fires"].as_array().into_iter().flatten() {
            if !diags.iter().any(|d| matches(d, want)) {
                failures.push(format!("{dir}: expected {want} to fire"));
            }
        }
        for quiet in expected["quiet"].as_array().into_iter().flatten() {
            if let Some(d) = diags.iter().find(|d| matches(d, quiet)) {
                failures.push(format!("{dir}: expected {quiet} to stay quiet, got {d}"));
            }
        }
        // Every diagnostic says where to look: the object's manifest, or the spec.
        for d in &diags {
            if d.get("file").is_none() || d.get("line").is_none() {
                failures.push(format!("{dir}: diagnostic without file/line: {d}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn example_reports_are_pinned() {
    for dir in example_dirs() {
        let out = meshplan()
            .args(["check", "-C", &dir, "--today", TODAY])
            .output()
            .expect("meshplan runs");
        let text = String::from_utf8(out.stdout).expect("utf-8 output");
        let name = dir.replace('/', "__");
        insta::assert_snapshot!(format!("text__{name}"), text);
        let (code, json) = run_json(&dir);
        assert_eq!(out.status.code(), Some(code), "{dir}: text and JSON agree");
        insta::assert_json_snapshot!(format!("json__{name}"), json);
    }
}

#[test]
fn example_plans_are_pinned() {
    for dir in ["examples/bookinfo", "examples/workloads"] {
        let out = meshplan()
            .args(["plan", "-C", dir, "--format", "json"])
            .output()
            .expect("meshplan runs");
        assert_eq!(out.status.code(), Some(0), "{dir}");
        let plan: Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
        insta::assert_json_snapshot!(format!("plan__{}", dir.replace('/', "__")), plan);
    }
}

/// The output blocks in the examples' READMEs (`<!-- output: `CMD` -->`) must show what the
/// command prints today; `scripts/update-example-readmes.py` refreshes them.
#[test]
fn example_readmes_show_current_output() {
    let block = regex_lite_block();
    let mut stale = Vec::new();
    let mut seen = 0;
    for entry in walkdir::WalkDir::new(root().join("examples"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "README.md")
    {
        let text = std::fs::read_to_string(entry.path()).expect("readable README");
        for (cmd, shown) in block(&text) {
            seen += 1;
            let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
            let out = meshplan().args(&args).output().expect("meshplan runs");
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let expected = format!(
                "$ {cmd}\n{}\n(exit code {})",
                printed.trim_end(),
                out.status.code().unwrap_or(-1)
            );
            if shown.trim_end() != expected {
                stale.push(entry.path().display().to_string());
            }
        }
    }
    assert!(
        seen >= 8,
        "expected output blocks in the example READMEs, found {seen}"
    );
    assert!(
        stale.is_empty(),
        "stale README output (run scripts/update-example-readmes.py): {stale:?}"
    );
}

/// Finds `<!-- output: `CMD` -->` + fenced block pairs: (command, block body).
fn regex_lite_block() -> impl Fn(&str) -> Vec<(String, String)> {
    |text: &str| {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("<!-- output: `") {
            rest = &rest[start + "<!-- output: `".len()..];
            let Some(end_cmd) = rest.find('`') else { break };
            let cmd = rest[..end_cmd].to_string();
            let Some(open) = rest.find("```console\n") else {
                break;
            };
            let body_start = open + "```console\n".len();
            let Some(close) = rest[body_start..].find("\n```\n<!-- /output -->") else {
                break;
            };
            out.push((cmd, rest[body_start..body_start + close].to_string()));
            rest = &rest[body_start + close..];
        }
        out
    }
}

fn run_format(dir: &str, format: &str) -> (i32, String) {
    let out = meshplan()
        .args(["check", "-C", dir, "--today", TODAY, "--format", format])
        .output()
        .expect("meshplan runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8 output"),
    )
}

/// Every example's SARIF validates against the official SARIF 2.1.0 schema, has one rule
/// per code it reports, and a location for every result; its JUnit report has consistent
/// counts with one failure per deny finding.
#[test]
fn every_example_gives_valid_sarif_and_junit() {
    for dir in example_dirs() {
        let (code, json) = run_json(&dir);
        let diags = json["diagnostics"]
            .as_array()
            .cloned()
            .expect("the report has a diagnostics array");
        let (sarif_code, sarif) = run_format(&dir, "sarif");
        assert_eq!(sarif_code, code, "{dir}");
        crate::report_formats::assert_valid_sarif(&sarif);
        let sarif: Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
        let results = sarif["runs"][0]["results"]
            .as_array()
            .cloned()
            .expect("the SARIF run has results");
        assert_eq!(results.len(), diags.len(), "{dir}: one result per finding");
        assert!(
            results
                .iter()
                .all(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64()),
            "{dir}: every SARIF result is located"
        );
        let (junit_code, junit) = run_format(&dir, "junit");
        assert_eq!(junit_code, code, "{dir}");
        let suites = crate::report_formats::junit_counts(&junit);
        let failures: usize = suites.iter().map(|(_, _, f)| f).sum();
        let denies = diags.iter().filter(|d| d["severity"] == "deny").count();
        assert_eq!(
            failures, denies,
            "{dir}: JUnit failures are the deny findings"
        );
    }
}

/// Every output format of two examples, pinned.
#[test]
fn every_format_of_two_examples_is_pinned() {
    for dir in ["examples/bookinfo", "examples/workloads"] {
        let (code, _) = run_json(dir);
        for format in ["sarif", "junit", "github", "markdown"] {
            let (format_code, text) = run_format(dir, format);
            assert_eq!(format_code, code, "{dir} --format {format}");
            // The crate version appears in SARIF; mask it so releases do not churn snapshots.
            let text = text.replace(env!("CARGO_PKG_VERSION"), "[version]");
            insta::assert_snapshot!(format!("{format}__{}", dir.replace('/', "__")), text);
        }
    }
}
