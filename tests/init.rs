//! `meshplan init` in a real repository: the spec it writes names the namespaces and the
//! manifest directories it finds (not placeholders), stays a commented valid spec, and the
//! first `check` judges the real workloads.

use crate::common::{check_json, copy_tree, meshplan, shared_data};

#[test]
fn init_then_check_on_a_copy_of_the_argo_cd_corpus() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    copy_tree(&shared_data().join("corpus/argo-cd"), d);
    let out = meshplan()
        .arg("init")
        .arg("-C")
        .arg(d)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("found 2 namespace(s)"), "{stdout}");
    let spec = std::fs::read_to_string(d.join("meshplan.yaml")).expect("written");
    // The namespaces its manifests use (Argo CD's own, and the one of the e2e guestbook,
    // literally called `namespace`), and no placeholder.
    assert!(spec.contains("    - name: argocd\n"), "{spec}");
    assert!(spec.contains("    - name: namespace\n"), "{spec}");
    assert!(
        spec.contains("namespaces: [argocd]"),
        "the canary wave: {spec}"
    );
    assert!(!spec.contains("shop-canary"), "{spec}");
    // One glob per directory of plain manifests; Kustomize directories as suggestions.
    for glob in [
        "docs/operator-manual/*.yaml",
        "manifests/ha/*.yaml",
        "test/e2e/testdata/hook-and-deployment/*.yaml",
        "test/e2e/testdata/resource-actions/*.yaml",
    ] {
        assert!(
            spec.contains(&format!("    - \"{glob}\"\n")),
            "{glob}: {spec}"
        );
    }
    assert!(
        spec.contains("# - {kustomize: \"test/e2e/testdata/guestbook\"}"),
        "{spec}"
    );
    assert!(
        !spec.contains("\"test/e2e/testdata/guestbook/*.yaml\""),
        "{spec}"
    );
    // Still the commented starter.
    assert!(spec.contains("# per-rule overrides"), "{spec}");

    // The spec loads and check judges the corpus: the exit code is the report's verdict,
    // and every glob matched files (no "matches nothing" warning).
    let (_, report) = check_json(d);
    let out = meshplan()
        .args(["check", "--today", crate::common::TODAY, "-C"])
        .arg(d)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(i32::from(report["summary"]["deny"].as_u64() > Some(0))),
        "{text}"
    );
    assert!(!text.contains("matches nothing"), "{text}");
}
