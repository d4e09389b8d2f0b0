//! The hand-over from an adopted install to meshplan's revision (`tests/fixtures/adopt/flux`):
//! the wave moves an `istio-injection=enabled` namespace to `istio.io/rev` by removing that
//! label in the same rendered change, checked with the real `kubectl kustomize`.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::{copy_tree, root, run_in as run, tool};
use serde_json::Value;
use std::path::Path;

/// A copy of the adopt fixture, adopted, in a fresh temporary directory.
fn adopted() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/adopt/flux"), dir.path());
    let (code, out, err) = run(dir.path(), &["adopt"]);
    assert_eq!(code, 0, "{out}{err}");
    dir
}

/// `kubectl kustomize` of the user's Namespace with meshplan's `namespaces` Component.
fn built_namespace(d: &Path) -> Value {
    let build = d.join("build");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::copy(
        d.join("apps/shop/namespace.yaml"),
        build.join("namespace.yaml"),
    )
    .unwrap();
    std::fs::write(
        build.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [namespace.yaml]\ncomponents: [../rendered/namespaces]\n",
    )
    .unwrap();
    let out = std::process::Command::new(tool("kubectl"))
        .arg("kustomize")
        .arg(&build)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl kustomize: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_saphyr::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap()
}

#[test]
fn the_wave_moves_an_injection_enabled_namespace_to_the_new_revision() {
    let dir = adopted();
    let d = dir.path();
    // Before the wave, the facts of its step put `shop` on the new revision, with no
    // MP204: the label patch removes `istio-injection` in the same change.
    let (code, out, err) = run(d, &["facts", "--format", "json", "--step", "final"]);
    assert_eq!(code, 0, "{err}");
    let facts: Value = serde_json::from_str(&out).unwrap();
    let shop = facts["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "shop")
        .unwrap();
    assert_eq!(shop["revision"], "1-26-8", "{shop}");
    let (_, out, _) = run(d, &["check", "--format", "json"]);
    assert!(!out.contains("\"MP204\""), "{out}");

    // install, then the wave.
    for _ in 0..2 {
        let (code, out, err) = run(d, &["render", "--force"]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let lock: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(d.join("rendered/meshplan.lock")).unwrap())
            .unwrap();
    assert_eq!(lock["namespaces"]["shop"], "1-26-8", "{lock}");
    let component =
        std::fs::read_to_string(d.join("rendered/namespaces/kustomization.yaml")).unwrap();
    assert!(
        component.contains("/metadata/labels/istio-injection"),
        "{component}"
    );
    let ns = built_namespace(d);
    let labels = &ns["metadata"]["labels"];
    assert_eq!(labels["istio.io/rev"], "1-26-8", "{ns}");
    assert!(labels.get("istio-injection").is_none(), "{ns}");
    // The restart follows: the namespace's webhook now injects the new revision.
    assert!(
        d.join("rendered/restarts/shop/deployment-web.yaml")
            .is_file(),
        "the wave restarts web"
    );
    let (_, out, _) = run(d, &["check", "--format", "json"]);
    assert!(!out.contains("\"MP204\""), "{out}");
}

#[test]
fn a_namespace_the_user_disabled_keeps_its_label() {
    let dir = adopted();
    let d = dir.path();
    // `disabled` is the user's decision, not a leftover: meshplan removes only `enabled`.
    let path = d.join("apps/shop/namespace.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("istio-injection: enabled", "istio-injection: disabled"),
    )
    .unwrap();
    for _ in 0..2 {
        let (code, out, err) = run(d, &["render", "--force"]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let component =
        std::fs::read_to_string(d.join("rendered/namespaces/kustomization.yaml")).unwrap();
    assert!(!component.contains("istio-injection"), "{component}");
    let ns = built_namespace(d);
    assert_eq!(
        ns["metadata"]["labels"]["istio-injection"], "disabled",
        "{ns}"
    );
}
