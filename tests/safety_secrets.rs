//! Issue #17, items 5–7: a Secret value never reaches a report, whatever the format, the
//! command, or the shape of the document holding it (a one-line JSON `List`, a one-line JSON
//! Secret under `spec.output`, kubectl's last-applied annotation). One set of secret-bearing
//! inputs is fed to every command and format; the outputs are searched for the values.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::run_in as run;
use crate::safety::{git, render_next, sandbox};
use std::path::Path;

/// The values that must never be printed.
const VALUES: &[&str] = &[
    "hunter2-list-secret",
    "aHVudGVyMi1kYXRh",
    "annotation-secret-value",
    "rendered-json-secret",
    "rendered-yaml-secret",
    "rendered-annotation-secret",
];

/// A one-line JSON List: a Deployment (so findings point at line 1) and a Secret.
const LIST: &str = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"vault-agent","namespace":"bookinfo"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"vault-agent"}},"template":{"metadata":{"labels":{"app":"vault-agent"}},"spec":{"containers":[{"name":"agent","image":"hashicorp/vault:1.15"}]}}}},{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"bookinfo"},"stringData":{"password":"hunter2-list-secret"}}]}"#;

/// A Secret whose last-applied annotation repeats its data.
const SECRET: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: api
  namespace: bookinfo
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1","kind":"Secret","stringData":{"token":"annotation-secret-value"}}
data:
  token: aHVudGVyMi1kYXRh
"#;

const RENDERED_JSON: &str = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"bookinfo"},"stringData":{"password":"rendered-json-secret"}}"#;

const RENDERED_YAML: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: cache
  namespace: bookinfo
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"kind":"Secret","stringData":{"p":"rendered-annotation-secret"}}'
stringData:
  p: rendered-yaml-secret
"#;

fn assert_clean(what: &str, out: &str, err: &str) {
    for v in VALUES {
        assert!(
            !out.contains(v) && !err.contains(v),
            "{what} printed {v}:\n{out}\n{err}"
        );
    }
}

/// The sandbox with every secret-bearing input, rendered once and committed.
fn secrets_repo() -> crate::safety::Sandbox {
    let s = sandbox("rendered");
    std::fs::write(s.repo.join("apps/bookinfo/list.json"), format!("{LIST}\n")).unwrap();
    std::fs::write(s.repo.join("apps/bookinfo/secret.yaml"), SECRET).unwrap();
    let spec = std::fs::read_to_string(s.repo.join("meshplan.yaml")).unwrap();
    let spec = spec.replace(
        "{path: \"apps/bookinfo/*.yaml\", namespace: bookinfo}",
        "{path: \"apps/bookinfo/*.yaml\", namespace: bookinfo}\n    - {path: \"apps/bookinfo/*.json\", namespace: bookinfo}",
    );
    assert!(spec.contains("*.json"));
    std::fs::write(s.repo.join("meshplan.yaml"), spec).unwrap();
    render_next(&s.repo);
    std::fs::write(
        s.repo.join("rendered/db.json"),
        format!("{RENDERED_JSON}\n"),
    )
    .unwrap();
    std::fs::write(s.repo.join("rendered/cache.yaml"), RENDERED_YAML).unwrap();
    git(&s.repo, &["add", "-A"]);
    git(&s.repo, &["commit", "-q", "-m", "secrets"]);
    s
}

#[test]
fn item05_to_07_no_command_or_format_prints_a_secret() {
    let s = secrets_repo();
    let d: &Path = &s.repo;
    let (code, out, err) = run(d, &["check", "--format", "text"]);
    assert_eq!(code, 1, "{out}{err}");
    // The findings are there, at the files holding the secrets: only their snippets go.
    assert!(out.contains("apps/bookinfo/list.json:1"), "{out}");
    assert!(out.contains("rendered/db.json"), "{out}");
    assert!(out.contains("rendered/cache.yaml"), "{out}");
    assert_clean("check --format text", &out, &err);
    for format in ["json", "sarif", "junit", "github", "markdown"] {
        let (code, out, err) = run(d, &["check", "--format", format]);
        assert_eq!(code, 1, "{format}: {err}");
        assert_clean(format, &out, &err);
    }
    for args in [
        &["plan"][..],
        &["plan", "--format", "json"],
        &["plan", "--format", "markdown"],
        &["facts"],
        &["facts", "--format", "json"],
        &["diff"],
        &["diff", "--stat"],
        &["diff", "--against", "HEAD"],
        &["diff", "--against", "HEAD~1"],
        &["render", "--step", "all", "--force"],
    ] {
        let (code, out, err) = run(d, args);
        assert!(code == 0 || code == 1, "{args:?}: {code}: {out}{err}");
        assert_clean(&format!("{args:?}"), &out, &err);
    }
}

#[test]
fn item06_last_applied_annotation_is_redacted_in_diffs() {
    let s = secrets_repo();
    for args in [&["diff"][..], &["diff", "--against", "HEAD"]] {
        let (code, out, err) = run(&s.repo, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("rendered/cache.yaml"), "{args:?}: {out}");
        assert!(
            out.contains("last-applied-configuration: <redacted>"),
            "{args:?}: {out}"
        );
        assert_clean(&format!("{args:?}"), &out, &err);
    }
}
