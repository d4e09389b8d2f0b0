//! CLI contract tests: exit codes, the bad-input table (exit 2 naming file and line, nothing
//! written, no panic), and the small commands.

use crate::common::{TODAY, meshplan, root};
use meshplan::plan::LockTransition;
use std::path::Path;

const MINIMAL_SPEC: &str = "apiVersion: meshplan.dev/v1alpha1
kind: Mesh
metadata:
  name: test
spec:
  kubernetesVersion: \"1.30\"
  istio:
    version: 1.26.8
  namespaces:
    - name: shop
  manifests:
    - \"apps/*.yaml\"
";

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels: {app: cart}
  template:
    metadata:
      labels: {app: cart}
    spec:
      containers:
        - name: cart
          image: example/cart:1
";

/// A throwaway GitOps repository with a spec and the given manifest files under `apps/`.
fn repo(spec: &str, files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("meshplan.yaml"), spec).expect("write spec");
    std::fs::create_dir_all(dir.path().join("apps")).expect("mkdir");
    for (name, body) in files {
        std::fs::write(dir.path().join("apps").join(name), body).expect("write manifest");
    }
    dir
}

/// Runs `check` with `--output` into the repo and asserts the bad-input contract: exit 2,
/// the message names `needle` (file and line), no report file written.
fn assert_input_error(dir: &Path, needle: &str) -> String {
    let report = dir.join("report.json");
    let out = meshplan()
        .args(["check", "--today", TODAY, "--format", "json", "--output"])
        .arg(&report)
        .arg("-C")
        .arg(dir)
        .output()
        .expect("meshplan runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!report.exists(), "nothing may be written on exit 2");
    stderr
}

#[test]
fn malformed_yaml_in_a_manifest_is_exit_2_with_file_and_line() {
    let dir = repo(
        MINIMAL_SPEC,
        &[(
            "bad.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n",
        )],
    );
    assert_input_error(dir.path(), "apps/bad.yaml:");
}

#[test]
fn unknown_spec_field_is_exit_2_with_line_and_suggestion() {
    let spec = MINIMAL_SPEC.replace("  namespaces:", "  namespace:");
    let dir = repo(&spec, &[]);
    let err = assert_input_error(dir.path(), "meshplan.yaml:");
    assert!(err.contains("namespaces"), "did-you-mean missing: {err}");
}

#[test]
fn wrong_type_in_spec_is_exit_2() {
    let spec = MINIMAL_SPEC.replace("    version: 1.26.8", "    version: [1, 26]");
    let dir = repo(&spec, &[]);
    assert_input_error(dir.path(), "meshplan.yaml:");
}

#[test]
fn duplicate_objects_name_both_places() {
    let dir = repo(
        MINIMAL_SPEC,
        &[
            ("a.yaml", DEPLOYMENT.as_bytes()),
            ("b.yaml", DEPLOYMENT.as_bytes()),
        ],
    );
    let err = assert_input_error(dir.path(), "apps/a.yaml");
    assert!(err.contains("apps/b.yaml"), "{err}");
}

#[test]
fn helm_template_is_refused() {
    let tpl = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n";
    let dir = repo(MINIMAL_SPEC, &[("tpl.yaml", tpl)]);
    assert_input_error(dir.path(), "apps/tpl.yaml");
}

#[test]
fn alias_bomb_is_refused() {
    let mut bomb = String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for (i, prev) in ["a", "b", "c", "d", "e", "f", "g", "h"].iter().enumerate() {
        let name = ["b", "c", "d", "e", "f", "g", "h", "i"][i];
        bomb.push_str(&format!(
            "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    let doc = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  {}",
        bomb.replace('\n', "\n  ")
    );
    let dir = repo(MINIMAL_SPEC, &[("bomb.yaml", doc.as_bytes())]);
    assert_input_error(dir.path(), "apps/bomb.yaml");
}

#[test]
fn nesting_ten_thousand_deep_is_refused() {
    let deep = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  x: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let dir = repo(MINIMAL_SPEC, &[("deep.yaml", deep.as_bytes())]);
    assert_input_error(dir.path(), "apps/deep.yaml");
}

#[test]
fn non_utf8_bytes_are_refused() {
    let dir = repo(
        MINIMAL_SPEC,
        &[(
            "latin1.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
        )],
    );
    assert_input_error(dir.path(), "apps/latin1.yaml");
}

#[cfg(unix)]
#[test]
fn symlink_loop_under_a_glob_is_refused() {
    let spec = MINIMAL_SPEC.replace("\"apps/*.yaml\"", "\"apps/**/*.yaml\"");
    let dir = repo(&spec, &[("ok.yaml", DEPLOYMENT.as_bytes())]);
    std::os::unix::fs::symlink(dir.path().join("apps"), dir.path().join("apps/loop"))
        .expect("symlink");
    assert_input_error(dir.path(), "apps/loop");
}

#[test]
fn oversized_manifest_names_the_limit_and_the_flag() {
    let dir = repo(MINIMAL_SPEC, &[("big.yaml", DEPLOYMENT.as_bytes())]);
    let out = meshplan()
        .args(["check", "--max-manifest-bytes", "100", "-C"])
        .arg(dir.path())
        .output()
        .expect("meshplan runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--max-manifest-bytes"), "{stderr}");
    assert!(stderr.contains("apps/big.yaml"), "{stderr}");
}

#[test]
fn a_glob_matching_nothing_is_a_warning() {
    let spec = MINIMAL_SPEC.replace("\"apps/*.yaml\"", "\"nowhere/*.yaml\"");
    let dir = repo(&spec, &[]);
    let out = meshplan()
        .args(["check", "--today", TODAY, "-C"])
        .arg(dir.path())
        .output()
        .expect("meshplan runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("nowhere/*.yaml"), "{stdout}");
}

#[test]
fn missing_spec_is_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = meshplan()
        .arg("check")
        .arg("-C")
        .arg(dir.path())
        .output()
        .expect("meshplan runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("meshplan.yaml"));
}

#[test]
fn findings_exit_1_and_fail_on_warn_tightens() {
    let dir = repo(MINIMAL_SPEC, &[("cart.yaml", DEPLOYMENT.as_bytes())]);
    // 3 replicas, injected, moving, no PDB: MP301 (deny).
    let out = meshplan()
        .args(["check", "--today", TODAY, "--format", "json", "-C"])
        .arg(dir.path())
        .output()
        .expect("meshplan runs");
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["rule"] == "MP301")
        .expect("MP301 fires");
    assert_eq!(d["name"], "missing-pdb");
    assert_eq!(d["severity"], "deny");
    assert_eq!(d["file"], "apps/cart.yaml");
    assert_eq!(d["line"], 1);
    assert_eq!(d["object"]["apiVersion"], "apps/v1");
    assert_eq!(d["object"]["namespace"], "shop");
    assert_eq!(d["step"], "wave all");
    assert_eq!(report["version"], 1);
    assert!(report["summary"]["deny"].as_u64().expect("count") >= 1);

    // Turning MP301 off leaves only warnings: exit 0, but 1 with --fail-on warn.
    let spec = format!("{MINIMAL_SPEC}  rules:\n    MP301: \"off\"\n");
    std::fs::write(dir.path().join("meshplan.yaml"), spec).expect("write spec");
    let code = |extra: &[&str]| {
        meshplan()
            .args(["check", "--today", TODAY, "-C"])
            .arg(dir.path())
            .args(extra)
            .output()
            .expect("meshplan runs")
            .status
            .code()
    };
    assert_eq!(code(&[]), Some(0));
    assert_eq!(code(&["--fail-on", "warn"]), Some(1));
}

#[test]
fn stdin_manifests_are_read_with_dash() {
    let spec = MINIMAL_SPEC.replace("  manifests:\n    - \"apps/*.yaml\"\n", "");
    let dir = repo(&spec, &[]);
    let out = meshplan()
        .args([
            "check", "--today", TODAY, "--format", "json", "-f", "-", "-C",
        ])
        .arg(dir.path())
        .write_stdin(DEPLOYMENT)
        .output()
        .expect("meshplan runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["rule"] == "MP301")
        .expect("MP301 fires on the stdin Deployment");
    assert_eq!(d["file"], "-");
}

#[test]
fn secret_data_never_reaches_a_report() {
    let secret = b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: shop\nstringData:\n  password: hunter2-very-secret\ndata:\n  token: aHVudGVyMi10b2tlbg==\n";
    let dir = repo(
        MINIMAL_SPEC,
        &[
            ("secret.yaml", secret),
            ("cart.yaml", DEPLOYMENT.as_bytes()),
        ],
    );
    let (_, diags) = check_json(dir.path());
    let verdict = i32::from(diags.iter().any(|d| d["severity"] == "deny"));
    for args in [
        vec!["check", "--format", "json"],
        vec!["check"],
        vec!["facts", "--format", "json"],
        vec!["facts"],
    ] {
        let out = meshplan()
            .args(&args)
            .args(["--today", TODAY, "-C"])
            .arg(dir.path())
            .output()
            .expect("meshplan runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // A crash or an input error would print nothing secret either: the run must succeed,
        // `facts` with 0 and `check` with its report's verdict.
        let expected = if args[0] == "facts" { 0 } else { verdict };
        assert_eq!(out.status.code(), Some(expected), "{args:?}: {all}");
        assert!(!all.contains("hunter2"), "{args:?} leaked secret data");
        assert!(
            !all.contains("aHVudGVyMi10b2tlbg"),
            "{args:?} leaked secret data"
        );
    }
}

#[test]
fn facts_json_has_the_contract_fields() {
    let out = meshplan()
        .args([
            "facts",
            "-C",
            "examples/bookinfo",
            "--format",
            "json",
            "--today",
            TODAY,
        ])
        .output()
        .expect("meshplan runs");
    assert_eq!(out.status.code(), Some(0));
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(facts["version"], 1);
    let ns = facts["namespaces"]
        .as_array()
        .expect("namespaces")
        .iter()
        .find(|n| n["name"] == "bookinfo")
        .expect("bookinfo namespace");
    assert_eq!(ns["injected"], true);
    assert_eq!(ns["revision"], "1-26-8");
    let w = facts["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .find(|w| w["object"]["name"] == "productpage-v1")
        .expect("productpage");
    for field in [
        "object",
        "file",
        "line",
        "injected",
        "revision",
        "sidecar",
        "restartable",
        "pdbs",
        "disruptionAllowed",
    ] {
        assert!(w.get(field).is_some(), "workload fact {field} missing: {w}");
    }
    assert_eq!(w["revision"], "1-26-8");
    assert_eq!(w["sidecar"], "legacy");
    assert_eq!(w["restartable"], true);

    // Before the plan runs nothing is installed, so nothing is injected.
    let out = meshplan()
        .args([
            "facts",
            "-C",
            "examples/bookinfo",
            "--format",
            "json",
            "--step",
            "current",
        ])
        .output()
        .expect("meshplan runs");
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        facts["workloads"]
            .as_array()
            .expect("workloads")
            .iter()
            .all(|w| w["injected"] == false)
    );
}

#[test]
fn explain_prints_a_rule_and_refuses_unknown_codes() {
    let out = meshplan()
        .args(["explain", "MP301"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("MP301") && text.contains("missing-pdb"),
        "{text}"
    );
    let out = meshplan()
        .args(["explain", "MP999"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_is_json_and_validates_the_examples_shape() {
    let out = meshplan().arg("schema").output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json schema");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let spec_text =
        std::fs::read_to_string(root().join("examples/bookinfo/meshplan.yaml")).expect("spec");
    let spec: serde_json::Value = serde_saphyr::from_str(&spec_text).expect("yaml");
    assert!(validator.is_valid(&spec));
}

#[test]
fn init_writes_a_spec_that_checks_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = meshplan()
        .arg("init")
        .arg("-C")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let written = std::fs::read_to_string(dir.path().join("meshplan.yaml")).expect("written");
    assert!(written.contains("apiVersion: meshplan.dev/v1alpha1"));
    let again = meshplan()
        .arg("init")
        .arg("-C")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(2));
    let checked = meshplan()
        .args(["check", "--today", TODAY, "-C"])
        .arg(dir.path())
        .output()
        .expect("runs");
    // The starter names globs that match nothing yet: a warning, not an error; the example
    // values pass (an end-of-life warning at most).
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn policy_test_runs_the_builtin_rego_tests() {
    let out = meshplan().args(["policy", "test"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("passed"), "{text}");
}

#[test]
fn user_policy_that_does_not_compile_is_exit_2_with_file_and_line() {
    let dir = repo(MINIMAL_SPEC, &[("cart.yaml", DEPLOYMENT.as_bytes())]);
    let pol = dir.path().join("policies");
    std::fs::create_dir_all(&pol).expect("mkdir");
    std::fs::write(
        pol.join("broken.rego"),
        "package acme.broken\n\nimport rego.v1\n\ndeny contains x if {\n  x := \n}\n",
    )
    .expect("write");
    let out = meshplan()
        .args(["check", "--policies", "policies", "-C"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("broken.rego:"), "{stderr}");
}

/// Files of the corpus that are mutually exclusive alternatives of one another: Istio's
/// tracing addons each define `Service/istio-system/tracing`, so no cluster applies them
/// together and loading them together is (rightly) a duplicate-object error.
const CORPUS_ALTERNATIVES: &[&str] =
    &["addons/extras/skywalking.yaml", "addons/extras/zipkin.yaml"];

#[test]
fn every_corpus_folder_checks_without_input_or_internal_errors() {
    let corpus = crate::common::shared_data().join("corpus");
    let mut sources: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.path())
        .collect();
    sources.sort();
    assert!(sources.len() >= 8);
    for src in sources {
        let name = src
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_lowercase();
        let dir = tempfile::tempdir().expect("temp dir");
        crate::common::copy_tree(&src, &dir.path().join("corpus"));
        // One manifest entry per file, each deployed to its own namespace (objects that name
        // their namespace keep it), as the samples are separate applications.
        let mut entries = String::new();
        let mut files: Vec<_> = walkdir::WalkDir::new(dir.path().join("corpus"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(dir.path())
                    .expect("below")
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .filter(|p| p.ends_with(".yaml") || p.ends_with(".yml") || p.ends_with(".json"))
            .filter(|p| !CORPUS_ALTERNATIVES.iter().any(|alt| p.ends_with(alt)))
            .collect();
        files.sort();
        for (i, f) in files.iter().enumerate() {
            entries.push_str(&format!("    - {{path: \"{f}\", namespace: app-{i}}}\n"));
        }
        let spec = format!(
            "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: corpus-{name}\nspec:\n  kubernetesVersion: \"1.30\"\n  istio:\n    version: 1.26.8\n  manifests:\n{entries}"
        );
        std::fs::write(dir.path().join("meshplan.yaml"), spec).expect("write");
        let out = meshplan()
            .args(["check", "--today", TODAY, "--format", "json", "-C"])
            .arg(dir.path())
            .output()
            .expect("runs");
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(1),
            "{name}: exit {code:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
        assert_eq!(report["version"], 1, "{name}");
    }
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = meshplan()
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("check") && text.contains("fail-on"),
            "{shell}: {text}"
        );
    }
}

#[test]
fn a_100_mb_manifest_is_refused_by_default_without_being_read() {
    let dir = repo(MINIMAL_SPEC, &[]);
    // A sparse 100 MB file: instant to make, and it takes no disk space.
    let big = std::fs::File::create(dir.path().join("apps/huge.yaml")).expect("create");
    big.set_len(100 * 1024 * 1024).expect("set_len");
    let err = assert_input_error(dir.path(), "apps/huge.yaml");
    assert!(err.contains("--max-manifest-bytes"), "{err}");
    assert!(
        err.contains("67108864") || err.contains("64 MiB"),
        "the limit is named: {err}"
    );
}

/// Writes the lock a finished install of `version` leaves behind, as a previous run of
/// meshplan would have: the new-cluster plan for that version, every step applied.
fn write_installed_lock(dir: &Path, version: &str) {
    let text = std::fs::read_to_string(dir.join("meshplan.yaml")).expect("spec");
    let spec = text.replace("version: 1.26.8", &format!("version: {version}"));
    let spec = meshplan::spec::parse(Path::new("meshplan.yaml"), &spec).expect("spec parses");
    let catalog = meshplan::catalog::Catalog::builtin();
    let plan = meshplan::plan::plan(&spec, None, &catalog);
    let mut lock = meshplan::state::Lock::empty(&spec.metadata.name);
    for step in &plan.steps {
        lock = lock.apply(&plan, step);
    }
    let path = meshplan::state::lock_path(dir, &spec.spec.output);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, lock.to_yaml()).expect("write lock");
}

#[test]
fn an_installed_lock_plans_the_upgrade_in_hops_and_refuses_a_downgrade() {
    let spec = MINIMAL_SPEC.replace(
        "  namespaces:",
        "  upgrade:\n    maxMinorSkip: 2\n  namespaces:",
    );
    let dir = repo(&spec, &[("cart.yaml", DEPLOYMENT.as_bytes())]);
    write_installed_lock(dir.path(), "1.22.8");
    let out = meshplan()
        .args(["plan", "--format", "json", "-C"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(plan["from"], "1.22.8");
    assert_eq!(plan["to"], "1.26.8");
    let hops: Vec<&str> = plan["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .filter_map(|h| h.as_str())
        .collect();
    assert_eq!(hops.last(), Some(&"1.26.8"));
    assert!(
        hops.len() >= 2,
        "1.22 -> 1.26 needs an intermediate hop: {hops:?}"
    );

    // The lock says 1.26.8 is installed; asking for 1.24.6 is a downgrade: MP102, exit 1.
    write_installed_lock(dir.path(), "1.26.8");
    std::fs::write(
        dir.path().join("meshplan.yaml"),
        spec.replace("version: 1.26.8", "version: 1.24.6"),
    )
    .expect("spec");
    let out = meshplan()
        .args(["check", "--format", "json", "--today", TODAY, "-C"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        report["diagnostics"]
            .as_array()
            .expect("diags")
            .iter()
            .any(|d| d["rule"] == "MP102")
    );
}

#[test]
fn a_malformed_lock_is_exit_2_and_left_alone() {
    let dir = repo(MINIMAL_SPEC, &[("cart.yaml", DEPLOYMENT.as_bytes())]);
    let lock = dir.path().join("rendered/meshplan.lock");
    std::fs::create_dir_all(lock.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &lock,
        "apiVersion: meshplan.dev/v1alpha1\nkind: Lock\ncluster: [\n",
    )
    .expect("write");
    assert_input_error(dir.path(), "meshplan.lock:");
    assert_eq!(
        std::fs::read_to_string(&lock).expect("still there"),
        "apiVersion: meshplan.dev/v1alpha1\nkind: Lock\ncluster: [\n"
    );
}

/// Runs `check` in JSON and returns (exit code, diagnostics).
fn check_json(dir: &Path) -> (Option<i32>, Vec<serde_json::Value>) {
    let out = meshplan()
        .args(["check", "--format", "json", "--today", TODAY, "-C"])
        .arg(dir)
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let deny = report["summary"]["deny"].as_u64().expect("summary.deny");
    assert_eq!(
        out.status.code(),
        Some(i32::from(deny > 0)),
        "exit code vs {report}"
    );
    (
        out.status.code(),
        report["diagnostics"]
            .as_array()
            .cloned()
            .expect("the report has a diagnostics array"),
    )
}

#[test]
fn step_transitions_are_judged_too_many_revisions_and_in_place_minor() {
    // A canary upgrade installs a second revision: with maxRevisions 1 that is MP203 (warn)
    // on the install step.
    let spec = MINIMAL_SPEC.replace(
        "  namespaces:",
        "  upgrade:\n    maxRevisions: 1\n  namespaces:",
    );
    let dir = repo(&spec, &[("cart.yaml", DEPLOYMENT.as_bytes())]);
    write_installed_lock(dir.path(), "1.25.5");
    let (_, diags) = check_json(dir.path());
    let d = diags
        .iter()
        .find(|d| d["rule"] == "MP203")
        .expect("MP203 fires");
    assert_eq!(d["severity"], "warn");
    assert_eq!(d["step"], "install");
    assert!(
        diags.iter().all(|d| d["rule"] != "MP106"),
        "canary is not in place"
    );

    // The same minor upgrade in place: MP106 (warn) on the upgrade step, no MP203.
    let spec = MINIMAL_SPEC.replace(
        "  namespaces:",
        "  upgrade:\n    strategy: in-place\n  namespaces:",
    );
    std::fs::write(dir.path().join("meshplan.yaml"), &spec).expect("spec");
    write_installed_lock(dir.path(), "1.25.5");
    let (_, diags) = check_json(dir.path());
    assert!(diags.iter().any(|d| d["rule"] == "MP106"), "{diags:#?}");
    assert!(diags.iter().all(|d| d["rule"] != "MP203"));
}
