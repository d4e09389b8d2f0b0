//! `meshplan init` in a real repository: the spec it writes names the namespaces and the
//! manifest directories it finds (not placeholders), stays a commented valid spec, and the
//! first `check` judges the real workloads.

use crate::common::{TODAY, check_json, copy_tree, findings, meshplan, shared_data, tool};

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

/// The Argo CD HA install in the mesh: unnamed ports and long grace periods on every
/// component. MP311 is one finding per Service (naming each port) and the text report shows
/// a rule's first three findings in full and the rest one line each, so the report stays
/// readable (it was 457 lines) while every finding is still listed.
#[test]
fn the_argo_cd_install_gives_a_readable_text_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    copy_tree(
        &shared_data().join("corpus/argo-cd/manifests"),
        &d.join("manifests"),
    );
    let spec = "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata: {name: prod}\nspec:\n  \
                kubernetesVersion: \"1.30\"\n  istio: {version: 1.26.8}\n  namespaces:\n    - name: argocd\n  \
                manifests:\n    - {path: \"manifests/ha/*.yaml\", namespace: argocd}\n";
    std::fs::write(d.join("meshplan.yaml"), spec).expect("spec");
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "missing PDBs are deny: {report}");
    let mp311 = crate::common::findings(&report, "MP311");
    let services: std::collections::BTreeSet<String> = mp311
        .iter()
        .map(|f| f["object"]["name"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(services.len(), mp311.len(), "one MP311 per Service");
    assert!(
        mp311.iter().any(|f| f["message"].as_str().is_some_and(
            |m| m.starts_with("ports 7000 (name \"webhook\"), 8080 (name \"metrics\")")
        )),
        "{mp311:?}"
    );
    let total = report["diagnostics"].as_array().expect("diagnostics").len();
    let out = meshplan()
        .args(["check", "--today", crate::common::TODAY, "-C"])
        .arg(d)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = text.lines().count();
    assert!(
        lines < 10 * total,
        "{lines} lines for {total} findings:\n{text}"
    );
    assert!(
        text.contains("info[MP313]: 5 more drain-shorter-than-grace findings\n"),
        "{text}"
    );
    // Every finding is still named: the collapsed ones one line each.
    for f in report["diagnostics"].as_array().expect("diagnostics") {
        let message = f["message"].as_str().expect("message");
        assert!(
            text.contains(message),
            "{message} is missing from the text report"
        );
    }
}

/// On a real Flux monorepo `init` reads the first cluster through its Flux entry point (the
/// globs would load both clusters' copies and a hidden `.fluxschema.yml`) and names the mesh
/// after it; the first `check` lists the remote charts as MP504 and the unwired namespaces
/// Component as MP505.
#[test]
fn init_then_check_on_a_copy_of_the_flux_monorepo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    copy_tree(
        &shared_data().join("gitops-repos/flux2-kustomize-helm-example"),
        d,
    );
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
    let spec = std::fs::read_to_string(d.join("meshplan.yaml")).expect("written");
    assert!(spec.contains("  name: production "), "{spec}");
    assert!(
        spec.contains("    - {flux: \"clusters/production\"}"),
        "{spec}"
    );
    assert!(spec.contains("# - {flux: \"clusters/staging\"}"), "{spec}");
    assert!(
        !spec.contains("\"*.yml\""),
        "a hidden file made a glob: {spec}"
    );

    let out = meshplan()
        .arg("check")
        .arg("-C")
        .arg(d)
        .args(["--format", "json", "--today", TODAY, "--kustomize"])
        .arg(tool("kubectl"))
        .arg("--helm")
        .arg(tool("helm"))
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        findings(&report, "MP504").len(),
        3,
        "podinfo, cert-manager and envoy-gateway come from remote charts: {report}"
    );
    // The repository's Flux Kustomizations do not include meshplan's namespaces Component
    // yet, so the waves' relabels would never reach the three Namespaces: MP505, exit 1,
    // each at the Namespace's own file and line, until the user wires it (docs/render.md).
    let unwired: Vec<(&str, &str)> = findings(&report, "MP505")
        .iter()
        .map(|d| {
            (
                d["object"]["name"].as_str().expect("name"),
                d["file"].as_str().expect("file"),
            )
        })
        .collect();
    assert_eq!(
        unwired,
        [
            ("podinfo", "apps/base/podinfo/namespace.yaml"),
            (
                "cert-manager",
                "infrastructure/controllers/cert-manager.yaml"
            ),
            (
                "envoy-gateway-system",
                "infrastructure/controllers/envoy-gateway.yaml"
            ),
        ],
        "{report}"
    );
    assert_eq!(report["summary"]["deny"], 3, "{report}");
    assert_eq!(out.status.code(), Some(1), "{report}");
}
