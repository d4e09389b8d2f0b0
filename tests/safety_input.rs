//! Issue #17, items 8–12: user input never reaches an internal error. Bad workload names
//! are refused at load with their file and line; the lock is validated as strictly as the
//! spec (names, versions, step order, integer limits, UTF-8, tabs), each problem exit 2 at
//! its 1-based line, in every command that reads it.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::run_in as run;
use crate::safety::sandbox;
use std::path::Path;

/// Every command, which must all agree: exit 2 with `needle` in the message, never 3.
fn assert_exit_2_everywhere(dir: &Path, needle: &str) {
    for args in [
        &["check"][..],
        &["plan"],
        &["facts"],
        &["render"],
        &["diff"],
        &["commit"],
    ] {
        let (code, out, err) = run(dir, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains(needle),
            "{args:?}: expected {needle:?} in {err}"
        );
        assert!(!err.contains("internal error"), "{args:?}: {err}");
    }
}

fn deployment(name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name:?}\n  namespace: bookinfo\nspec:\n  \
         selector:\n    matchLabels: {{app: x}}\n  template:\n    metadata:\n      labels: {{app: x}}\n    \
         spec:\n      containers: [{{name: x, image: x}}]\n"
    )
}

#[test]
fn item08_bad_workload_names_are_refused_at_their_line() {
    let long = "x".repeat(64);
    for name in ["UPPER", "a/b", "../x", long.as_str(), "café", "CON", "a_b"] {
        let s = sandbox("rendered");
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\n{}",
            deployment(name)
        );
        std::fs::write(s.repo.join("apps/bookinfo/bad.yaml"), text).unwrap();
        assert_exit_2_everywhere(&s.repo, "apps/bookinfo/bad.yaml:6:");
    }
    let s = sandbox("rendered");
    let text = deployment("ok").replace("namespace: bookinfo", "namespace: Bad_NS");
    std::fs::write(s.repo.join("apps/bookinfo/bad.yaml"), text).unwrap();
    assert_exit_2_everywhere(&s.repo, "not a valid namespace name");
}

/// A sandbox rendered `steps` (a `--step` value) deep, its lock text, and a writer for it.
fn rendered_lock(step: &str) -> (crate::safety::Sandbox, String) {
    let s = sandbox("rendered");
    let (code, out, err) = run(&s.repo, &["render", "--step", step, "--force"]);
    assert_eq!(code, 0, "{out}{err}");
    let lock = std::fs::read_to_string(s.repo.join("rendered/meshplan.lock")).unwrap();
    (s, lock)
}

fn write_lock(dir: &Path, text: &str) {
    std::fs::write(dir.join("rendered/meshplan.lock"), text).unwrap();
}

/// `meshplan.lock:N:` for the first line of `text` containing `needle`.
fn at(text: &str, needle: &str) -> String {
    let i = text.lines().position(|l| l.contains(needle)).unwrap();
    format!("rendered/meshplan.lock:{}:", i + 1)
}

#[test]
fn item09_lock_revision_and_namespace_names_are_validated() {
    let (s, lock) = rendered_lock("all");
    let bad = lock.replace("1-26-8", "UPPER");
    assert_ne!(bad, lock);
    write_lock(&s.repo, &bad);
    assert_exit_2_everywhere(&s.repo, &at(&bad, "UPPER"));
    let bad = lock.replacen("  bookinfo: ", "  Bad_NS: ", 1);
    assert_ne!(bad, lock);
    write_lock(&s.repo, &bad);
    assert_exit_2_everywhere(&s.repo, &at(&bad, "Bad_NS"));
}

#[test]
fn item10_lock_proxy_versions_are_validated() {
    let (s, lock) = rendered_lock("all");
    for proxy in ["\"1.x.3\"", ".nan", "\"\"", "1.26"] {
        let bad = lock.replacen("proxy: \"1.26.8\"", &format!("proxy: {proxy}"), 1);
        assert_ne!(bad, lock);
        write_lock(&s.repo, &bad);
        let (code, out, err) = run(&s.repo, &["check"]);
        assert_eq!(code, 2, "{proxy}: {out}{err}");
        assert!(err.contains("rendered/meshplan.lock:"), "{proxy}: {err}");
        assert!(!err.contains(":0:"), "{proxy}: {err}");
    }
}

#[test]
fn item11_lock_steps_are_done_in_order() {
    let (s, lock) = rendered_lock("1");
    // The first step is done and the second is not: swap them, out of order.
    let bad = lock
        .replace("done: true", "done: swapped")
        .replace("done: false", "done: true")
        .replace("done: swapped", "done: false");
    assert!(bad.find("done: false") < bad.find("done: true"), "{bad}");
    write_lock(&s.repo, &bad);
    assert_exit_2_everywhere(&s.repo, "steps are done in order");
}

#[test]
fn item12_lock_integers_utf8_and_tabs_are_located() {
    let (s, lock) = rendered_lock("all");
    let bad = lock.replacen("generation: 1", "generation: 18446744073709551615", 1);
    assert_ne!(bad, lock);
    write_lock(&s.repo, &bad);
    assert_exit_2_everywhere(&s.repo, "generation");
    let (code, _, err) = run(&s.repo, &["check"]);
    assert_eq!(code, 2);
    assert!(err.contains("is beyond"), "{err}");

    // Not UTF-8 on line 4: reported at line 4, 1-based.
    let mut bytes = lock.clone().into_bytes();
    let line4 = lock.match_indices('\n').nth(2).unwrap().0 + 1;
    bytes.insert(line4, 0xff);
    std::fs::write(s.repo.join("rendered/meshplan.lock"), &bytes).unwrap();
    assert_exit_2_everywhere(&s.repo, "rendered/meshplan.lock:4:");

    // A tab on line 5 is reported on line 5.
    let mut lines: Vec<&str> = lock.lines().collect();
    let tabbed = format!("\t{}", lines[4]);
    lines[4] = &tabbed;
    write_lock(&s.repo, &(lines.join("\n") + "\n"));
    let (code, _, err) = run(&s.repo, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rendered/meshplan.lock:5:"), "{err}");
}

#[test]
fn fuzz_finding_a_chart_repository_that_is_no_url_is_refused_at_its_line() {
    for repo in ["18446744073709551616", "ftp://x", "https://", "https://a b"] {
        let s = sandbox("rendered");
        let path = s.repo.join("meshplan.yaml");
        let spec = std::fs::read_to_string(&path).unwrap();
        let bad = spec.replace(
            "chartRepository: https://istio-release.storage.googleapis.com/charts",
            &format!("chartRepository: {repo:?}"),
        );
        assert_ne!(bad, spec);
        std::fs::write(&path, &bad).unwrap();
        let line = bad
            .lines()
            .position(|l| l.contains("chartRepository"))
            .unwrap()
            + 1;
        assert_exit_2_everywhere(&s.repo, &format!("meshplan.yaml:{line}:"));
    }
}
