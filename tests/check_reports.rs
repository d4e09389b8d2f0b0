//! `check --report FORMAT=FILE`, `--min-severity` and `--summary` from the command line: one
//! run prints the text report and saves the machine reports; a bad report writes nothing.

use crate::common::{TODAY, copy_tree, meshplan, root};
use std::path::Path;

/// A copy of `examples/workloads` (deny, warn and info findings on TODAY) to write reports
/// into.
fn workloads() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&root().join("examples/workloads"), dir.path());
    dir
}

/// The (deny, warn, info) counts of a full JSON run, which every other run is compared with.
fn counts(dir: &Path) -> (u64, u64, u64) {
    let (code, out, err) = check(dir, &["--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let n = |s: &str| json["summary"][s].as_u64().expect("count");
    let c = (n("deny"), n("warn"), n("info"));
    assert!(c.0 > 0 && c.1 > 3 && c.2 > 3, "{c:?}");
    c
}

fn check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = meshplan()
        .args(["check", "-C"])
        .arg(dir)
        .args(["--today", TODAY])
        .args(args)
        .output()
        .expect("meshplan runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn one_run_prints_text_and_writes_each_report() {
    let dir = workloads();
    let (code, stdout, stderr) = check(
        dir.path(),
        &[
            "--report",
            "sarif=meshplan.sarif",
            "--report",
            "junit=out/junit.xml",
            "--report",
            "json=meshplan.json",
        ],
    );
    // `out/` does not exist: nothing is written, exit 2, and no report is printed.
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("junit.xml"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!dir.path().join("meshplan.sarif").exists());
    assert!(!dir.path().join("meshplan.json").exists());

    std::fs::create_dir(dir.path().join("out")).expect("mkdir");
    let (code, stdout, stderr) = check(
        dir.path(),
        &[
            "--report",
            "sarif=meshplan.sarif",
            "--report",
            "junit=out/junit.xml",
            "--report",
            "json=meshplan.json",
        ],
    );
    assert_eq!(code, 1, "deny findings fail the run\n{stderr}");
    let (deny, warn, info) = counts(dir.path());
    assert!(
        stdout.ends_with(&format!("failed: {deny} deny, {warn} warn, {info} info\n")),
        "{stdout}"
    );
    assert!(stdout.contains("deny[MP301]"), "the text report: {stdout}");
    let sarif = std::fs::read_to_string(dir.path().join("meshplan.sarif")).expect("sarif");
    crate::report_formats::assert_valid_sarif(&sarif);
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("meshplan.json")).expect("json"),
    )
    .expect("the JSON report parses");
    assert_eq!(json["summary"]["deny"], deny);
    assert_eq!(json["summary"]["warn"], warn);
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).expect("junit");
    let failures: usize = crate::report_formats::junit_counts(&junit)
        .iter()
        .map(|(_, _, f)| f)
        .sum();
    assert_eq!(failures as u64, deny, "{junit}");
    // No temporary file is left next to the reports.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("readable")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn output_still_takes_the_format_report_and_reports_add_to_it() {
    let dir = workloads();
    let (code, stdout, stderr) = check(
        dir.path(),
        &[
            "--format",
            "markdown",
            "--output",
            "meshplan.md",
            "--report",
            "github=annotations.txt",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.is_empty(),
        "--output takes the printed report: {stdout}"
    );
    let md = std::fs::read_to_string(dir.path().join("meshplan.md")).expect("markdown");
    assert!(md.contains("MP301"), "{md}");
    let gh = std::fs::read_to_string(dir.path().join("annotations.txt")).expect("github");
    let (deny, _, _) = counts(dir.path());
    assert_eq!(
        gh.lines().filter(|l| l.starts_with("::error ")).count() as u64,
        deny,
        "{gh}"
    );
}

#[test]
fn bad_report_arguments_are_usage_errors_that_write_nothing() {
    let dir = workloads();
    for args in [
        &["--report", "pdf=meshplan.pdf"][..],
        &["--report", "meshplan.sarif"][..],
        &["--report", "sarif="][..],
        &["--report", "sarif=a.sarif", "--report", "json=a.sarif"][..],
        &["--report", "sarif=apps"][..],
        &["--format", "json", "--summary"][..],
        &["--fail-on", "warn", "--min-severity", "deny"][..],
    ] {
        let before = std::fs::read_dir(dir.path()).expect("readable").count();
        let (code, stdout, stderr) = check(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: stdout {stdout}\nstderr {stderr}");
        assert!(!stderr.is_empty(), "{args:?} says what is wrong");
        let after = std::fs::read_dir(dir.path()).expect("readable").count();
        assert_eq!(before, after, "{args:?} wrote nothing");
    }
    let (code, _, stderr) = check(dir.path(), &["--report", "pdf=meshplan.pdf"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown report format `pdf`"), "{stderr}");
}

#[test]
fn min_severity_trims_the_report_not_the_verdict() {
    let dir = workloads();
    let (deny, warn, _) = counts(dir.path());
    let (code, stdout, stderr) = check(dir.path(), &["--min-severity", "deny"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.ends_with(&format!("failed: {deny} deny, 0 warn, 0 info\n")),
        "{stdout}"
    );
    assert!(!stdout.contains("warn["), "{stdout}");
    let (code, stdout, stderr) = check(dir.path(), &["--min-severity", "warn", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(json["summary"]["info"], 0);
    assert_eq!(json["summary"]["warn"], warn);
    let infos = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "info")
        .count();
    assert_eq!(infos, 0);
}

#[test]
fn summary_is_one_line_per_rule_with_three_objects() {
    let dir = workloads();
    let (code, full, _) = check(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&full).expect("json");
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
    let mut per_rule = std::collections::BTreeMap::<String, usize>::new();
    for d in diagnostics {
        *per_rule
            .entry(d["rule"].as_str().expect("rule").to_string())
            .or_default() += 1;
    }
    let (code, stdout, stderr) = check(dir.path(), &["--summary"]);
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), per_rule.len() + 1, "{stdout}");
    let (deny, warn, info) = counts(dir.path());
    assert_eq!(
        lines[per_rule.len()],
        format!("failed: {deny} deny, {warn} warn, {info} info")
    );
    // Worst first: the deny rules lead.
    assert!(lines[0].starts_with("deny["), "{stdout}");
    for (rule, count) in &per_rule {
        let line = lines
            .iter()
            .find(|l| l.contains(&format!("[{rule}]")))
            .unwrap_or_else(|| panic!("no line for {rule}: {stdout}"));
        assert!(line.contains(&format!(": {count} (")), "{line}");
        assert!(line.ends_with(')'), "{line}");
        if *count > 3 {
            assert!(
                line.ends_with(&format!(" and {} more)", count - 3)),
                "{line}"
            );
        }
    }
}
