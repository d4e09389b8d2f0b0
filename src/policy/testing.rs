//! `meshplan policy test`: regorus has no `opa test`, so this finds every `test_*` rule in
//! the `*_test.rego` files and evaluates it; a test passes only when it is exactly `true`
//! (undefined, `false` or an error fail, as in OPA). `cargo test` runs the same runner over
//! the built-in policies.
//!
//! Test files may also declare `fixture_*` values: whole input documents. [`fixtures`]
//! returns them so meta-tests can run every rule over them and check what fires.

use super::PolicyError;
use super::set::{Source, builtin_sources, compile, read_dir_sources};
use std::fmt::Write as _;
use std::path::Path;

/// Which policies to test.
#[derive(Debug, Clone, Copy)]
pub enum TestTarget<'a> {
    /// The embedded built-in policies and their tests.
    Builtin,
    /// Every `*.rego` under a directory; the built-in `lib` helpers are added unless the
    /// directory has a `lib/` of its own.
    Dir(&'a Path),
}

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Evaluated to `true`.
    Pass,
    /// Undefined or anything but `true`.
    Fail,
    /// Evaluation raised an error.
    Error(String),
}

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The test file.
    pub file: String,
    /// The rule name, e.g. `test_fires_without_pdb`.
    pub name: String,
    /// Pass, fail or error.
    pub outcome: Outcome,
}

/// All results, in file then declaration order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestReport {
    /// One entry per `test_*` rule.
    pub results: Vec<TestResult>,
}

impl TestReport {
    /// Whether every test passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.results.is_empty() && self.results.iter().all(|r| r.outcome == Outcome::Pass)
    }

    /// The tests that did not pass.
    pub fn failures(&self) -> Vec<&TestResult> {
        self.results
            .iter()
            .filter(|r| r.outcome != Outcome::Pass)
            .collect()
    }

    /// Human-readable report: one line per test, then a summary line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for r in &self.results {
            let status = match &r.outcome {
                Outcome::Pass => "PASS".to_string(),
                Outcome::Fail => "FAIL".to_string(),
                Outcome::Error(e) => format!("ERROR: {e}"),
            };
            // Writing to a String cannot fail.
            let _ = writeln!(out, "{}: {}: {status}", r.file, r.name);
        }
        let failed = self.failures().len();
        let _ = writeln!(
            out,
            "{} passed, {} failed, {} total",
            self.results.len() - failed,
            failed,
            self.results.len()
        );
        out
    }
}

/// One `fixture_*` value of a test file: an input document.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// The test file.
    pub file: String,
    /// The rule name, e.g. `fixture_fires`.
    pub name: String,
    /// Its value.
    pub input: serde_json::Value,
}

/// Runs every `test_*` rule of the target's `*_test.rego` files.
pub fn run(target: TestTarget<'_>) -> Result<TestReport, PolicyError> {
    let (mut engine, files) = load(target)?;
    let mut report = TestReport::default();
    for (source, package) in &files {
        for name in declared(&source.text, "test_") {
            let outcome = match engine.eval_rule(format!("{package}.{name}")) {
                Ok(regorus::Value::Bool(true)) => Outcome::Pass,
                Ok(_) => Outcome::Fail,
                Err(e) => Outcome::Error(e.to_string()),
            };
            report.results.push(TestResult {
                file: source.path.to_string_lossy().replace('\\', "/"),
                name,
                outcome,
            });
        }
    }
    Ok(report)
}

/// Every `fixture_*` value of the target's test files.
pub fn fixtures(target: TestTarget<'_>) -> Result<Vec<Fixture>, PolicyError> {
    let (mut engine, files) = load(target)?;
    let mut out = Vec::new();
    for (source, package) in &files {
        for name in declared(&source.text, "fixture_") {
            let value = engine
                .eval_rule(format!("{package}.{name}"))
                .map_err(|e| PolicyError::Eval(format!("{}: {name}: {e}", source.label)))?;
            let input = serde_json::to_value(&value)
                .map_err(|e| PolicyError::Eval(format!("{}: {name}: {e}", source.label)))?;
            out.push(Fixture {
                file: source.path.to_string_lossy().replace('\\', "/"),
                name,
                input,
            });
        }
    }
    Ok(out)
}

/// The test files and their packages, from one engine holding policies and tests.
fn load(target: TestTarget<'_>) -> Result<(regorus::Engine, Vec<(Source, String)>), PolicyError> {
    let sources = match target {
        TestTarget::Builtin => builtin_sources(true, true),
        TestTarget::Dir(dir) => {
            let mut sources = Vec::new();
            if !dir.join("lib").is_dir() {
                sources.extend(builtin_sources(false, false));
            }
            sources.extend(read_dir_sources(dir, true)?);
            sources
        }
    };
    let (engine, packages) = compile(&sources)?;
    let files = sources
        .into_iter()
        .zip(packages)
        .filter(|(s, _)| s.label.ends_with("_test.rego"))
        .collect();
    Ok((engine, files))
}

/// Names of the top-level rules starting with `prefix`, in order of first declaration.
/// Rule heads start at column 0 in formatted Rego (`opa fmt`, `regal`), which the
/// built-in files follow; a test indented by hand would be missed, so keep them flush.
pub(crate) fn declared(text: &str, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in text.lines() {
        if !line.starts_with(prefix) {
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_finds_flush_rule_heads_once() {
        let text = "package x\ntest_a if { true }\n# test_comment\ntest_a if { false }\n  test_indented if { true }\ntest_b := true\n";
        assert_eq!(declared(text, "test_"), vec!["test_a", "test_b"]);
    }

    #[test]
    fn undefined_and_false_tests_fail_true_passes() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("x_test.rego"),
            "package x_test\n\ntest_true if { 1 == 1 }\n\ntest_false := false\n\ntest_undefined if { input.nothing == 1 }\n",
        )
        .expect("write");
        let report = run(TestTarget::Dir(dir.path())).expect("runs");
        let outcomes: Vec<(&str, &Outcome)> = report
            .results
            .iter()
            .map(|r| (r.name.as_str(), &r.outcome))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                ("test_true", &Outcome::Pass),
                ("test_false", &Outcome::Fail),
                ("test_undefined", &Outcome::Fail)
            ]
        );
        assert!(!report.passed());
        assert!(report.to_text().contains("1 passed, 2 failed, 3 total"));
    }
}
