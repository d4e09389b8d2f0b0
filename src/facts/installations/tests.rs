//! Recognition of installations in small inline manifests, one per delivery.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::inventory::{Limits, Source, load_with_stdin};
use std::io::Cursor;
use std::path::Path;

fn inventory(text: &str) -> Inventory {
    load_with_stdin(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[Source::Stdin],
        &Limits::default(),
        &mut Cursor::new(text.as_bytes().to_vec()),
    )
    .expect("test manifests load")
}

const FLUX: &str = r#"
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: istiod, namespace: istio-system}
spec:
  chart:
    spec: {chart: istiod, version: "${version}", sourceRef: {kind: HelmRepository, name: istio}}
  values: {revisionTags: [stable]}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: istio-base, namespace: istio-system}
spec:
  chart:
    spec: {chart: base, version: 1.19.3, sourceRef: {kind: HelmRepository, name: istio}}
  values: {defaultRevision: default}
"#;

const KUSTOMIZATION: &str = r#"
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: infra, namespace: flux-system}
spec:
  postBuild:
    substituteFrom: [{kind: ConfigMap, name: istio-version}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-version, namespace: flux-system}
data: {version: 1.19.3}
"#;

#[test]
fn flux_releases_with_a_resolved_substitution() {
    let inv = inventory(&format!("{FLUX}{KUSTOMIZATION}"));
    let found = find(&inv);
    assert_eq!(found.len(), 2);
    let istiod = found.iter().find(|i| i.component == "istiod").unwrap();
    assert_eq!(istiod.version.as_deref(), Some("1.19.3"));
    assert_eq!(istiod.revision, "default");
    assert_eq!(istiod.tags, vec!["stable".to_string()]);
    assert_eq!(istiod.delivery, "flux-helm");
    assert!(!istiod.managed);
    assert!(
        istiod
            .version_source
            .contains("`${version}` from ConfigMap flux-system/istio-version"),
        "{}",
        istiod.version_source
    );
    let base = found.iter().find(|i| i.component == "base").unwrap();
    assert_eq!(base.version.as_deref(), Some("1.19.3"));
    assert_eq!(base.default_revision.as_deref(), Some("default"));
}

#[test]
fn an_unresolved_substitution_is_unknown_with_its_raw_text() {
    let found = find(&inventory(FLUX));
    let istiod = found.iter().find(|i| i.component == "istiod").unwrap();
    assert_eq!(istiod.version, None);
    assert!(istiod.version_source.contains("`${version}`"));
    assert!(istiod.version_source.contains("unknown"));
}

#[test]
fn argocd_operator_sail_and_rendered_output() {
    let text = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: istiod, namespace: argocd}
spec:
  source:
    chart: istiod
    repoURL: https://istio-release.storage.googleapis.com/charts
    targetRevision: 1.22.8
    helm:
      values: |
        revision: 1-22-8
      parameters: [{name: defaultRevision, value: 1-22-8}]
---
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: control-plane, namespace: istio-system}
spec: {revision: canary, tag: 1.22.8-distroless}
---
apiVersion: sailoperator.io/v1
kind: Istio
metadata: {name: default}
spec: {version: v1.24.3, updateStrategy: {type: RevisionBased}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system, labels: {istio.io/rev: default}}
spec:
  template:
    spec:
      containers: [{name: discovery, image: docker.io/istio/pilot:1.24.6}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector, labels: {istio.io/rev: default}}
webhooks: []
"#;
    let found = find(&inventory(text));
    let summary: Vec<(&str, &str, &str, Option<&str>)> = found
        .iter()
        .map(|i| {
            (
                i.delivery.as_str(),
                i.component.as_str(),
                i.revision.as_str(),
                i.version.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("argocd-helm", "istiod", "1-22-8", Some("1.22.8")),
            ("istio-operator", "istiod", "canary", Some("1.22.8")),
            ("sail", "istiod", "default-v1-24-3", Some("1.24.3")),
            ("rendered", "istiod", "default", Some("1.24.6")),
            ("rendered", "injector", "default", None),
        ]
    );
    assert_eq!(found[0].default_revision.as_deref(), Some("1-22-8"));
}

#[test]
fn meshplan_renders_are_managed_and_other_charts_ignored() {
    let text = r#"
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: istiod-1-24-6
  namespace: istio-system
  labels: {app.kubernetes.io/managed-by: meshplan}
spec:
  chart: {spec: {chart: istiod, version: 1.24.6}}
  values: {revision: 1-24-6}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: apps}
spec:
  chart: {spec: {chart: podinfo, version: 6.14.1}}
"#;
    let found = find(&inventory(text));
    assert_eq!(found.len(), 1);
    assert!(found[0].managed);
    assert_eq!(found[0].revision, "1-24-6");
}

#[test]
fn images_split_into_name_and_tag() {
    assert_eq!(image_name("docker.io/istio/proxyv2:1.18.5"), "proxyv2");
    assert_eq!(image_tag("docker.io/istio/proxyv2:1.18.5"), Some("1.18.5"));
    assert_eq!(image_tag("localhost:5000/istio/proxyv2"), None);
    assert_eq!(image_name("gcr.io/istio-release/pilot@sha256:ab"), "pilot");
}
