//! Which revision's injector would inject a pod, emulating Istio in two stages exactly as a
//! pod creation meets them:
//!
//! 1. **The webhooks** of the istiod chart (`mutatingwebhook.yaml`, `revision-tags.yaml`),
//!    which see labels only. Per revision or tag `R`: `rev.namespace` (namespace
//!    `istio.io/rev=R`, no `istio-injection`, pod `sidecar.istio.io/inject` not `false`) and
//!    `rev.object` (namespace has neither label, pod `istio.io/rev=R`, inject not `false`).
//!    The default revision (the `default` tag, or a revision installed without a name, kept
//!    in [`MeshView`] as revision `default`) also has `namespace` (namespace
//!    `istio-injection=enabled`, inject not `false`) and `object` (namespace has neither
//!    label, pod `sidecar.istio.io/inject=true` without `istio.io/rev`). So `istio-injection`
//!    beats `istio.io/rev`, and any value but `enabled` turns injection off.
//! 2. **The injector's own check** (`injectRequired` in `pkg/kube/inject`): `hostNetwork`
//!    pods and the namespaces `kube-system` and `kube-public` are never injected; then the
//!    pod's `sidecar.istio.io/inject` label, or when absent the annotation of that name, is
//!    read case-insensitively: `y`/`yes`/`true`/`on` inject, empty uses the policy
//!    (`enabled`, the chart default), anything else declines.
//!
//! Not emulated (they live in istiod's values, not in the [`MeshView`]): a non-default
//! injection `policy`, `neverInjectSelector`/`alwaysInjectSelector`, and
//! `enableNamespacesByDefault` (default off). The namespace's name is read from the
//! `kubernetes.io/metadata.name` label, which Kubernetes sets on every namespace.

use super::MeshView;
use crate::spec::NativeSidecars;
use std::collections::BTreeMap;

/// Namespace label turning on injection by the default revision.
pub const INJECTION_LABEL: &str = "istio-injection";
/// Namespace or pod label naming a revision or tag.
pub const REV_LABEL: &str = "istio.io/rev";
/// Pod label (and, for the injector only, annotation) opting in or out.
pub const INJECT_LABEL: &str = "sidecar.istio.io/inject";
/// Label Kubernetes puts on every namespace with its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Pod annotation overriding native sidecars.
pub const NATIVE_SIDECAR_ANNOTATION: &str = "sidecar.istio.io/nativeSidecar";

/// Namespaces the injector skips whatever the labels say.
const IGNORED_NAMESPACES: [&str; 2] = ["kube-system", "kube-public"];

/// The outcome of [`decide_injection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectionDecision {
    /// The revision whose injector injects the pod; None when none does.
    pub revision: Option<String>,
    /// Which label or rule decided, in words.
    pub reason: String,
}

impl InjectionDecision {
    fn none(reason: impl Into<String>) -> Self {
        InjectionDecision {
            revision: None,
            reason: reason.into(),
        }
    }
}

/// The revision serving `istio-injection=enabled`: the `default` tag's target, else a
/// revision installed without a name (called `default`).
pub fn default_revision(view: &MeshView) -> Option<String> {
    if let Some(target) = view.tags.get("default") {
        return Some(target.clone());
    }
    view.revisions
        .contains_key("default")
        .then(|| "default".to_string())
}

/// Decides injection for a pod with these labels and annotations in a namespace with these
/// labels, as Istio's webhooks and injector would at `view`.
pub fn decide_injection(
    ns_labels: &BTreeMap<String, String>,
    pod_labels: &BTreeMap<String, String>,
    pod_annotations: &BTreeMap<String, String>,
    host_network: bool,
    view: &MeshView,
) -> InjectionDecision {
    let webhook = webhook_match(ns_labels, pod_labels, view);
    let Some(revision) = webhook.revision else {
        return webhook;
    };
    if host_network {
        return InjectionDecision::none("hostNetwork pods are never injected");
    }
    if let Some(ns) = ns_labels.get(NAMESPACE_NAME_LABEL)
        && IGNORED_NAMESPACES.contains(&ns.as_str())
    {
        return InjectionDecision::none(format!("the injector skips namespace {ns}"));
    }
    let (opt_in, from) = match pod_labels.get(INJECT_LABEL) {
        Some(v) => (v.as_str(), "label"),
        None => (
            pod_annotations
                .get(INJECT_LABEL)
                .map(String::as_str)
                .unwrap_or(""),
            "annotation",
        ),
    };
    match opt_in.to_ascii_lowercase().as_str() {
        "" | "y" | "yes" | "true" | "on" => InjectionDecision {
            revision: Some(revision),
            reason: webhook.reason,
        },
        _ => InjectionDecision::none(format!(
            "pod {from} {INJECT_LABEL}={opt_in} makes the injector decline"
        )),
    }
}

/// Stage 1: which revision's webhook matches, from labels alone.
fn webhook_match(
    ns_labels: &BTreeMap<String, String>,
    pod_labels: &BTreeMap<String, String>,
    view: &MeshView,
) -> InjectionDecision {
    let pod_opt_out = pod_labels.get(INJECT_LABEL).is_some_and(|v| v == "false");
    if let Some(value) = ns_labels.get(INJECTION_LABEL) {
        if value != "enabled" {
            return InjectionDecision::none(format!(
                "namespace label {INJECTION_LABEL}={value} disables injection"
            ));
        }
        if pod_opt_out {
            return InjectionDecision::none(format!("pod label {INJECT_LABEL}=false"));
        }
        return match default_revision(view) {
            Some(rev) => InjectionDecision {
                reason: format!(
                    "namespace label {INJECTION_LABEL}=enabled selects the default revision {rev}"
                ),
                revision: Some(rev),
            },
            None => InjectionDecision::none(format!(
                "namespace label {INJECTION_LABEL}=enabled but no revision is the default"
            )),
        };
    }
    if let Some(value) = ns_labels.get(REV_LABEL) {
        if pod_opt_out {
            return InjectionDecision::none(format!("pod label {INJECT_LABEL}=false"));
        }
        return resolve(value, &format!("namespace label {REV_LABEL}={value}"), view);
    }
    if let Some(value) = pod_labels.get(REV_LABEL) {
        if pod_opt_out {
            return InjectionDecision::none(format!("pod label {INJECT_LABEL}=false"));
        }
        return resolve(value, &format!("pod label {REV_LABEL}={value}"), view);
    }
    if pod_labels.get(INJECT_LABEL).is_some_and(|v| v == "true") {
        return match default_revision(view) {
            Some(rev) => InjectionDecision {
                reason: format!("pod label {INJECT_LABEL}=true selects the default revision {rev}"),
                revision: Some(rev),
            },
            None => InjectionDecision::none(format!(
                "pod label {INJECT_LABEL}=true but no revision is the default"
            )),
        };
    }
    InjectionDecision::none("no injection label on the namespace or the pod")
}

/// A revision or tag name, as an `istio.io/rev` value, to the revision that serves it.
fn resolve(name: &str, what: &str, view: &MeshView) -> InjectionDecision {
    if view.revisions.contains_key(name) {
        return InjectionDecision {
            revision: Some(name.to_string()),
            reason: format!("{what} selects revision {name}"),
        };
    }
    match view.tags.get(name) {
        Some(target) if view.revisions.contains_key(target) => InjectionDecision {
            revision: Some(target.clone()),
            reason: format!("{what} selects tag {name} → revision {target}"),
        },
        Some(target) => InjectionDecision::none(format!(
            "{what} selects tag {name}, whose revision {target} is not installed"
        )),
        None => InjectionDecision::none(format!("{what} names no installed revision or tag")),
    }
}

/// `native` or `legacy` for a pod the revision `revision` injects: the pod annotation
/// `sidecar.istio.io/nativeSidecar` wins, then `setting` (`auto`: Istio >= 1.27 on
/// Kubernetes >= 1.33; an unparsable version counts as too old).
pub fn sidecar_mode(
    setting: NativeSidecars,
    istio_version: Option<&str>,
    kubernetes_version: &str,
    pod_annotations: &BTreeMap<String, String>,
) -> &'static str {
    let native = match pod_annotations
        .get(NATIVE_SIDECAR_ANNOTATION)
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        Some("true") => true,
        Some("false") => false,
        _ => match setting {
            NativeSidecars::Enabled => true,
            NativeSidecars::Disabled => false,
            NativeSidecars::Auto => {
                istio_version
                    .and_then(minor_of)
                    .is_some_and(|v| v >= (1, 27))
                    && minor_of(kubernetes_version).is_some_and(|v| v >= (1, 33))
            }
        },
    };
    if native { "native" } else { "legacy" }
}

/// `(major, minor)` of `1.27`, `1.27.3`, `v1.33.0`.
fn minor_of(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.split('-').next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Two revisions, `1-24-6` (tag `default`) and `1-26-8` (tag `canary`).
    fn view() -> MeshView {
        MeshView {
            revisions: [("1-24-6", "1.24.6"), ("1-26-8", "1.26.8")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            tags: [("default", "1-24-6"), ("canary", "1-26-8")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            managed_namespaces: BTreeMap::new(),
        }
    }

    fn rev(ns: &[(&str, &str)], pod: &[(&str, &str)]) -> Option<String> {
        decide_injection(&labels(ns), &labels(pod), &BTreeMap::new(), false, &view()).revision
    }

    #[test]
    fn istio_injection_label_beats_istio_io_rev() {
        let both = [("istio-injection", "enabled"), ("istio.io/rev", "1-26-8")];
        assert_eq!(rev(&both, &[]).as_deref(), Some("1-24-6"));
        let disabled = [("istio-injection", "disabled"), ("istio.io/rev", "1-26-8")];
        assert_eq!(rev(&disabled, &[]), None);
        assert_eq!(
            rev(&[("istio-injection", "true")], &[]),
            None,
            "only 'enabled' enables"
        );
        assert_eq!(
            rev(
                &[("istio-injection", "disabled")],
                &[("sidecar.istio.io/inject", "true")]
            ),
            None
        );
    }

    #[test]
    fn namespace_revision_and_tags_resolve() {
        assert_eq!(
            rev(&[("istio.io/rev", "1-26-8")], &[]).as_deref(),
            Some("1-26-8")
        );
        assert_eq!(
            rev(&[("istio.io/rev", "canary")], &[]).as_deref(),
            Some("1-26-8")
        );
        assert_eq!(
            rev(&[("istio.io/rev", "default")], &[]).as_deref(),
            Some("1-24-6")
        );
        let unknown = decide_injection(
            &labels(&[("istio.io/rev", "1-20-0")]),
            &BTreeMap::new(),
            &BTreeMap::new(),
            false,
            &view(),
        );
        assert_eq!(unknown.revision, None);
        assert!(
            unknown.reason.contains("names no installed revision"),
            "{}",
            unknown.reason
        );
        // The namespace label wins over the pod's own revision label.
        assert_eq!(
            rev(&[("istio.io/rev", "canary")], &[("istio.io/rev", "1-24-6")]).as_deref(),
            Some("1-26-8")
        );
    }

    #[test]
    fn pod_labels_select_when_namespace_is_unlabelled() {
        assert_eq!(
            rev(&[], &[("istio.io/rev", "canary")]).as_deref(),
            Some("1-26-8")
        );
        assert_eq!(
            rev(&[], &[("sidecar.istio.io/inject", "true")]).as_deref(),
            Some("1-24-6")
        );
        assert_eq!(
            rev(
                &[],
                &[
                    ("sidecar.istio.io/inject", "true"),
                    ("istio.io/rev", "1-26-8")
                ]
            )
            .as_deref(),
            Some("1-26-8")
        );
        assert_eq!(rev(&[], &[]), None);
        assert_eq!(
            rev(
                &[],
                &[
                    ("istio.io/rev", "canary"),
                    ("sidecar.istio.io/inject", "false")
                ]
            ),
            None
        );
    }

    #[test]
    fn injector_checks_after_the_webhook() {
        let ns = labels(&[
            ("istio-injection", "enabled"),
            ("kubernetes.io/metadata.name", "shop"),
        ]);
        let none = BTreeMap::new();
        let v = view();
        assert_eq!(
            decide_injection(&ns, &none, &none, true, &v).revision,
            None,
            "hostNetwork"
        );
        let off = labels(&[("sidecar.istio.io/inject", "false")]);
        assert_eq!(
            decide_injection(&ns, &none, &off, false, &v).revision,
            None,
            "annotation false"
        );
        let odd = labels(&[("sidecar.istio.io/inject", "No")]);
        assert_eq!(
            decide_injection(&ns, &odd, &none, false, &v).revision,
            None,
            "label No"
        );
        // The label wins over the annotation.
        let on = labels(&[("sidecar.istio.io/inject", "true")]);
        assert_eq!(
            decide_injection(&ns, &on, &off, false, &v)
                .revision
                .as_deref(),
            Some("1-24-6")
        );
        // An annotation alone cannot make a webhook match: only labels reach the selectors.
        let bare = labels(&[("kubernetes.io/metadata.name", "shop")]);
        let ann_on = labels(&[("sidecar.istio.io/inject", "true")]);
        assert_eq!(
            decide_injection(&bare, &none, &ann_on, false, &v).revision,
            None
        );
        let system = labels(&[
            ("istio-injection", "enabled"),
            ("kubernetes.io/metadata.name", "kube-system"),
        ]);
        assert_eq!(
            decide_injection(&system, &none, &none, false, &v).revision,
            None
        );
    }

    #[test]
    fn default_revision_needs_a_tag_or_an_unnamed_install() {
        let mut v = view();
        v.tags.remove("default");
        assert_eq!(default_revision(&v), None);
        let d = decide_injection(
            &labels(&[("istio-injection", "enabled")]),
            &BTreeMap::new(),
            &BTreeMap::new(),
            false,
            &v,
        );
        assert_eq!(d.revision, None);
        assert!(d.reason.contains("no revision is the default"));
        v.revisions.insert("default".into(), "1.22.8".into());
        assert_eq!(default_revision(&v).as_deref(), Some("default"));
        // A tag pointing at a removed revision injects nothing (the webhook would fail).
        v.tags.insert("canary".into(), "1-99-0".into());
        assert_eq!(
            decide_injection(
                &labels(&[("istio.io/rev", "canary")]),
                &BTreeMap::new(),
                &BTreeMap::new(),
                false,
                &v
            )
            .revision,
            None
        );
    }

    #[test]
    fn native_sidecar_decision() {
        let none = BTreeMap::new();
        assert_eq!(
            sidecar_mode(NativeSidecars::Auto, Some("1.27.0"), "1.33", &none),
            "native"
        );
        assert_eq!(
            sidecar_mode(NativeSidecars::Auto, Some("1.27.0"), "1.32", &none),
            "legacy"
        );
        assert_eq!(
            sidecar_mode(NativeSidecars::Auto, Some("1.26.8"), "1.34", &none),
            "legacy"
        );
        assert_eq!(
            sidecar_mode(NativeSidecars::Auto, None, "1.34", &none),
            "legacy"
        );
        assert_eq!(
            sidecar_mode(NativeSidecars::Enabled, Some("1.22.8"), "1.28", &none),
            "native"
        );
        assert_eq!(
            sidecar_mode(NativeSidecars::Disabled, Some("1.28.1"), "1.34", &none),
            "legacy"
        );
        let off = labels(&[("sidecar.istio.io/nativeSidecar", "false")]);
        assert_eq!(
            sidecar_mode(NativeSidecars::Enabled, Some("1.28.1"), "1.34", &off),
            "legacy"
        );
        let on = labels(&[("sidecar.istio.io/nativeSidecar", "true")]);
        assert_eq!(
            sidecar_mode(NativeSidecars::Disabled, Some("1.22.8"), "1.28", &on),
            "native"
        );
    }
}
