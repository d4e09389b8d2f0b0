//! Unit tests of `set`.

use super::*;

fn user_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write policy");
    }
    dir
}

const GOOD: &str = "# What it does\n#   Flags everything.\npackage custom.everything\n\nmetadata := {\"code\": \"ORG001\", \"name\": \"everything\", \"severity\": \"warn\"}\n\nwarn contains {\"msg\": \"flagged\"} if input.version == 1\n";

#[test]
fn builtin_rules_load_sorted_with_prose() {
    let set = PolicySet::load(true, &[]).expect("built-ins compile");
    let codes: Vec<&str> = set.rules().iter().map(|r| r.code.as_str()).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted);
    assert!(codes.contains(&"MP301"));
    let text = set.explain("MP301").expect("MP301 explained");
    assert!(text.starts_with("MP301 missing-pdb (deny): "));
    assert!(text.contains("Why is this bad?"));
    assert_eq!(set.explain("MP999"), None);
    assert_eq!(set.explain("missing-pdb"), Some(text.clone()));
    assert_eq!(set.explain("mp301"), Some(text));
}

#[test]
fn user_policy_syntax_error_names_file_and_line() {
    let dir = user_dir(&[(
        "broken.rego",
        "package custom.broken\n\nmetadata := {\"code\": \"X1\", \"name\": \"x\", \"severity\": \"warn\"}\n\nwarn contains x if {{ x := \n",
    )]);
    let err = PolicySet::load(true, &[dir.path().to_path_buf()]).expect_err("must fail");
    match err {
        PolicyError::Compile { path, line, .. } => {
            assert!(path.ends_with("broken.rego"), "{path:?}");
            assert_eq!(line, 5);
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn user_policy_with_undefined_reference_is_a_compile_error() {
    let dir = user_dir(&[(
        "undef.rego",
        "package custom.undef\n\nmetadata := {\"code\": \"X1\", \"name\": \"x\", \"severity\": \"warn\"}\n\nwarn contains {\"msg\": \"m\"} if {\n\tnot_a_function(1)\n}\n",
    )]);
    let err = PolicySet::load(false, &[dir.path().to_path_buf()]).expect_err("must fail");
    assert!(
        matches!(err, PolicyError::Compile { line: 6, .. }),
        "{err:?}"
    );
    assert!(!err.is_internal());
}

#[test]
fn user_policy_without_metadata_fields_is_rejected() {
    let dir = user_dir(&[(
        "nometa.rego",
        "package custom.nometa\n\nmetadata := {\"code\": \"X1\"}\n\nwarn contains {\"msg\": \"m\"} if true\n",
    )]);
    let err = PolicySet::load(false, &[dir.path().to_path_buf()]).expect_err("must fail");
    assert!(
        matches!(&err, PolicyError::Contract { message, .. } if message.contains("name")),
        "{err:?}"
    );
    let dir = user_dir(&[(
        "bare.rego",
        "package custom.bare\n\nwarn contains {\"msg\": \"m\"} if true\n",
    )]);
    let err = PolicySet::load(false, &[dir.path().to_path_buf()]).expect_err("must fail");
    assert!(matches!(err, PolicyError::Contract { .. }), "{err:?}");
}

#[test]
fn user_policy_duplicate_code_is_rejected() {
    let dir = user_dir(&[(
        "dup.rego",
        "package custom.dup\n\nmetadata := {\"code\": \"MP301\", \"name\": \"x\", \"severity\": \"warn\"}\n",
    )]);
    let err = PolicySet::load(true, &[dir.path().to_path_buf()]).expect_err("must fail");
    assert!(
        matches!(&err, PolicyError::Contract { message, .. } if message.contains("MP301")),
        "{err:?}"
    );
}

#[test]
fn user_policy_runs_beside_builtins_and_skips_test_files() {
    let dir = user_dir(&[
        ("everything.rego", GOOD),
        (
            "everything_test.rego",
            "package custom.everything_test\n\ntest_x if { false }\n",
        ),
    ]);
    let twice = [dir.path().to_path_buf(), dir.path().to_path_buf()];
    let set = PolicySet::load(false, &twice).expect("loads");
    assert_eq!(set.rules().len(), 1);
    assert_eq!(set.rules()[0].explain, "What it does\n  Flags everything.");
    let findings = set
        .evaluate(&serde_json::json!({"version": 1}))
        .expect("evaluates");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, "ORG001");
    assert_eq!(findings[0].default_severity, Severity::Warn);
    assert!(
        set.evaluate(&serde_json::json!({"version": 2}))
            .expect("evaluates")
            .is_empty()
    );
}

#[test]
fn malformed_user_finding_is_a_contract_error() {
    let dir = user_dir(&[(
        "shape.rego",
        "package custom.shape\n\nmetadata := {\"code\": \"X1\", \"name\": \"x\", \"severity\": \"warn\"}\n\nwarn contains {\"message\": \"wrong key\"} if true\n",
    )]);
    let set = PolicySet::load(false, &[dir.path().to_path_buf()]).expect("loads");
    let err = set.evaluate(&serde_json::json!({})).expect_err("must fail");
    assert!(matches!(err, PolicyError::Contract { .. }), "{err:?}");
}

#[test]
fn missing_dir_is_a_read_error() {
    let err = PolicySet::load(false, &[PathBuf::from("/nonexistent/meshplan-policies")])
        .expect_err("must fail");
    assert!(matches!(err, PolicyError::Read { .. }), "{err:?}");
}

/// Shaped like the benchmark but not timed: 2,000 workloads through every rule, with
/// counts that only come out right if each workload is judged once.
#[test]
fn two_thousand_workloads_give_exact_counts() {
    let n = 2_000;
    let set = PolicySet::load(true, &[]).expect("built-ins compile");
    let findings = set
        .evaluate(&super::super::synthetic_input(n))
        .expect("evaluates");
    let counts = count_by_code(&findings);
    let expect = |f: fn(usize) -> bool| (0..n).filter(|&i| f(i)).count();
    let want = BTreeMap::from([
        ("MP301".to_string(), expect(|i| i % 2 == 0)),
        ("MP303".to_string(), expect(|i| i % 5 == 0)),
        ("MP313".to_string(), expect(|i| i % 7 == 0)),
    ]);
    assert_eq!(counts, want);
    assert!(
        findings
            .iter()
            .all(|f| f.step.as_deref() == Some("wave rest") && f.object.is_some())
    );
}
