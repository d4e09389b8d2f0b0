//! Parallel parsing (issue #16): files and the documents of a large file are parsed across
//! cores, and nothing a user sees may depend on it. Reports are byte-identical with 1 and 4
//! threads, and the bad-input guarantees (alias budget, depth, file:line) hold for a bad
//! document deep inside a file large enough to be cut into runs.

use crate::common::{TODAY, meshplan};
use std::fmt::Write as _;
use std::path::Path;

/// A Deployment, its Service and (for two in three) a PDB, in namespace `ns-<i % 7>`.
fn group(i: usize) -> String {
    let ns = i % 7;
    let mut out = format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: ns-{ns}}}\n\
         spec:\n  replicas: {r}\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    \
         metadata:\n      labels: {{app: app-{i}}}\n    spec:\n      containers:\n        - name: main\n          \
         image: example/app:{i}\n          command: [sh, -c]\n          args:\n            - |\n              \
         echo start\n              ---\n              echo {i}\n---\napiVersion: v1\nkind: Service\n\
         metadata: {{name: app-{i}, namespace: ns-{ns}}}\nspec:\n  selector: {{app: app-{i}}}\n  ports:\n    \
         - {{name: http, port: 80}}\n",
        r = 1 + i % 3
    );
    if !i.is_multiple_of(3) {
        let _ = write!(
            out,
            "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: app-{i}, namespace: ns-{ns}}}\n\
             spec:\n  minAvailable: 1\n  selector:\n    matchLabels: {{app: app-{i}}}\n"
        );
    }
    out
}

/// A repository: one large file (~1.6 MB, cut into runs) and 40 small ones.
fn repository(dir: &Path) {
    let mut spec = String::from(
        "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: threads\nspec:\n  \
         kubernetesVersion: \"1.30\"\n  istio:\n    version: 1.26.8\n  namespaces:\n",
    );
    for ns in 0..7 {
        let _ = writeln!(spec, "    - name: ns-{ns}");
    }
    spec.push_str("  manifests:\n    - \"apps/*.yaml\"\n");
    std::fs::create_dir_all(dir.join("apps")).expect("mkdir");
    std::fs::write(dir.join("meshplan.yaml"), spec).expect("spec written");
    let big: String = (0..2_500).map(group).collect();
    assert!(big.len() > 1_000_000, "{} bytes", big.len());
    std::fs::write(dir.join("apps/big.yaml"), big).expect("written");
    for f in 0..40 {
        let text: String = (0..10).map(|j| group(100_000 + f * 10 + j)).collect();
        std::fs::write(dir.join(format!("apps/small-{f:02}.yaml")), text).expect("written");
    }
}

/// Runs meshplan with `threads` parser threads: exit code and stdout.
fn run(threads: &str, args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = meshplan()
        .env("RAYON_NUM_THREADS", threads)
        .args(args)
        .output()
        .expect("meshplan runs");
    let code = out.status.code().expect("exit code");
    (
        code,
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn reports_are_byte_identical_with_one_and_four_threads() {
    let tmp = tempfile::tempdir().expect("tempdir");
    repository(tmp.path());
    let dir = tmp.path().to_str().expect("utf-8 path");
    let commands: [&[&str]; 4] = [
        &["debug", "load", "-C", dir],
        &["check", "-C", dir, "--today", TODAY, "--format", "json"],
        &["plan", "-C", dir, "--today", TODAY, "--format", "json"],
        &["facts", "-C", dir, "--today", TODAY, "--format", "json"],
    ];
    for args in commands {
        let one = run("1", args);
        let four = run("4", args);
        assert!(
            one.0 == 0 || one.0 == 1,
            "{args:?}: exit {}: {}",
            one.0,
            one.2
        );
        assert_eq!(one.0, four.0, "{args:?}: exit codes");
        assert!(
            one.1 == four.1,
            "{args:?}: output differs between 1 and 4 threads"
        );
    }
    let (_, load, _) = run("4", &["debug", "load", "-C", dir]);
    // 2,500 + 400 groups of a Deployment, a Service and two PDBs in three.
    let groups = 2_500 + 400;
    let pdbs = (0..2_500).filter(|i| i % 3 != 0).count()
        + (100_000..100_400).filter(|i| i % 3 != 0).count();
    assert_eq!(
        String::from_utf8_lossy(&load),
        format!("{} objects\n", groups * 2 + pdbs)
    );
}

/// The large file with `bad` replacing group `at`: (exit code, stderr) of `debug load`.
fn load_with_bad_document(bad: &str, at: usize, threads: &str) -> (i32, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    repository(tmp.path());
    let mut big = String::new();
    for i in 0..2_500 {
        if i == at {
            big.push_str(bad);
        } else {
            big.push_str(&group(i));
        }
    }
    std::fs::write(tmp.path().join("apps/big.yaml"), big).expect("written");
    let dir = tmp.path().to_str().expect("utf-8 path");
    let (code, _, stderr) = run(threads, &["debug", "load", "-C", dir]);
    (code, stderr)
}

/// Line of the first line of group `at` in the large file.
fn line_of_group(at: usize) -> usize {
    (0..at).map(|i| group(i).lines().count()).sum::<usize>() + 1
}

#[test]
fn an_alias_bomb_deep_in_a_large_file_is_refused_at_its_line_whatever_the_threads() {
    let mut bomb = String::from(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol, namespace: ns-0}\ndata:\n  \
         a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        let _ = writeln!(bomb, "  {n}: &{n} [{refs}]", n = pair[1]);
    }
    let at = 2_000;
    let start = line_of_group(at);
    for threads in ["1", "2"] {
        let (code, stderr) = load_with_bad_document(&bomb, at, threads);
        assert_eq!(code, 2, "{stderr}");
        let line: usize = stderr
            .split("apps/big.yaml:")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("no file:line in {stderr}"));
        assert!(
            line > start && line < start + 14,
            "line {line}, bomb at {start}: {stderr}"
        );
        assert!(stderr.contains("safety limits"), "{stderr}");
    }
}

#[test]
fn deep_nesting_deep_in_a_large_file_is_refused_at_its_line_whatever_the_threads() {
    let deep = format!(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep, namespace: ns-0}}\ndata:\n  x: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let at = 1_500;
    let want = format!("apps/big.yaml:{}:", line_of_group(at) + 5);
    for threads in ["1", "2"] {
        let (code, stderr) = load_with_bad_document(&deep, at, threads);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(&want), "expected {want} in {stderr}");
    }
}

#[test]
fn anchors_beyond_a_runs_share_of_the_alias_budget_still_load() {
    // 60,000 alias replays in one document: over the share a ~40 KB run gets of the file's
    // 200,000, within the budget of the whole file, so the file must load as it did before
    // parsing was cut into runs.
    let mut doc = String::from(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: anchors, namespace: ns-0}\ndata:\n  \
         base: &base {a: \"1\", b: \"2\", c: \"3\", d: \"4\", e: \"5\"}\n  list:\n",
    );
    for _ in 0..6_000 {
        doc.push_str("    - *base\n");
    }
    let (code, stderr) = load_with_bad_document(&doc, 1_000, "2");
    assert_eq!(code, 0, "{stderr}");
}

/// `debug load` of a repository of 40 small files where files `bad` hold a broken document.
fn first_error_with(bad: &[usize], threads: &str) -> (i32, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    repository(tmp.path());
    std::fs::remove_file(tmp.path().join("apps/big.yaml")).expect("removed");
    for &f in bad {
        let mut text: String = (0..10).map(|j| group(100_000 + f * 10 + j)).collect();
        text.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n");
        std::fs::write(tmp.path().join(format!("apps/small-{f:02}.yaml")), text).expect("written");
    }
    let dir = tmp.path().to_str().expect("utf-8 path");
    let (code, _, stderr) = run(threads, &["debug", "load", "-C", dir]);
    (code, stderr)
}

#[test]
fn the_first_bad_file_in_source_order_is_reported_whatever_the_threads() {
    for threads in ["1", "4"] {
        let (code, stderr) = first_error_with(&[31, 7, 19], threads);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("apps/small-07.yaml:"),
            "{threads}: {stderr}"
        );
        assert!(
            !stderr.contains("small-19") && !stderr.contains("small-31"),
            "{stderr}"
        );
    }
}

#[test]
fn a_bad_file_before_an_unresolvable_glob_is_reported_first() {
    use meshplan::inventory::{Limits, Source, load};
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("a.yaml"), "apiVersion: v1\nkind: [\n").expect("written");
    let sources = |second: &str| {
        vec![
            Source::Glob {
                pattern: "*.yaml".to_string(),
                namespace: None,
            },
            Source::Glob {
                pattern: second.to_string(),
                namespace: None,
            },
        ]
    };
    let err =
        load(tmp.path(), &sources("../*.yaml"), &Limits::default()).expect_err("a.yaml is broken");
    assert_eq!(err.path, Path::new("a.yaml"), "{err}");
    // With the first file fixed, the glob is what is reported.
    std::fs::write(
        tmp.path().join("a.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    )
    .expect("written");
    let err = load(tmp.path(), &sources("../*.yaml"), &Limits::default())
        .expect_err("the glob leaves the directory");
    assert!(err.to_string().contains(".."), "{err}");
}
