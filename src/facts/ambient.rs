//! The ambient data plane as the manifests and the spec tell it: which data plane each
//! workload's pods join (`ambient`, `sidecar`, `none`), and the waypoint proxies (Gateway
//! API `Gateway`s of class `istio-waypoint`) with the revision or tag that programs them.
//!
//! Istio decides the data plane per pod (istio `pkg/kube/util` `PodRedirectionEnabled` and
//! the CNI plugin's checks): a pod with a sidecar is never captured by ztunnel, even in an
//! ambient namespace; the pod label `istio.io/dataplane-mode` (`ambient` or `none`) beats
//! the namespace's; `hostNetwork` pods and `kube-system` (istio-cni's default
//! `excludeNamespaces`) are never captured.

use super::injection::REV_LABEL;
use super::{MeshView, default_revision};
use crate::diagnostic::ObjectRef;
use crate::inventory::Inventory;
use crate::spec::{DATAPLANE_LABEL, Dataplane, NamespaceEntry};
use serde::Serialize;
use std::collections::BTreeMap;

/// The Gateway class Istio's waypoint proxies use.
pub const WAYPOINT_CLASS: &str = "istio-waypoint";

/// A namespace's labels as the spec asks for them: its `labels`, plus
/// `istio.io/dataplane-mode=ambient` for `dataplane: ambient` (which wins over a label of
/// that name, so the two cannot disagree).
pub fn spec_namespace_labels(entry: &NamespaceEntry) -> BTreeMap<String, String> {
    let mut labels = entry.labels.clone();
    if entry.dataplane == Dataplane::Ambient {
        labels.insert(DATAPLANE_LABEL.to_string(), "ambient".to_string());
    }
    labels
}

/// The data plane of one workload's pods: `sidecar` when a sidecar runs in them (injected
/// or committed), else the pod's `istio.io/dataplane-mode`, else its namespace's.
pub fn dataplane(
    has_sidecar: bool,
    host_network: bool,
    namespace: &str,
    namespace_labels: &BTreeMap<String, String>,
    pod_labels: &BTreeMap<String, String>,
) -> &'static str {
    if has_sidecar {
        return "sidecar";
    }
    if host_network || namespace == "kube-system" {
        return "none";
    }
    let mode = pod_labels
        .get(DATAPLANE_LABEL)
        .or_else(|| namespace_labels.get(DATAPLANE_LABEL));
    match mode.map(String::as_str) {
        Some("ambient") => "ambient",
        _ => "none",
    }
}

/// Whether an object is a waypoint: a Gateway API `Gateway` of class `istio-waypoint`.
fn is_waypoint(id: &ObjectRef, body: &serde_json::Value) -> bool {
    id.kind == "Gateway"
        && id.api_version.starts_with("gateway.networking.k8s.io/")
        && body
            .pointer("/spec/gatewayClassName")
            .and_then(|v| v.as_str())
            == Some(WAYPOINT_CLASS)
}

/// One waypoint proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaypointFacts {
    /// The `Gateway` object.
    pub object: ObjectRef,
    /// `Gateway/namespace/name`.
    pub key: String,
    /// Source file.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// Its `istio.io/rev` label: the revision or tag whose istiod programs it (null: the
    /// default revision's).
    pub rev_label: Option<String>,
    /// The revision or tag it uses: its label, else `default`.
    pub uses: String,
    /// The installed revision that programs it at this point of the plan (a tag resolved;
    /// null when neither the revision nor the tag is installed).
    pub revision: Option<String>,
}

/// The waypoints of the inventory, in inventory order, as of no particular view
/// (`revision` unset: see [`waypoints_at`]).
pub fn find_waypoints(inventory: &Inventory) -> Vec<WaypointFacts> {
    inventory
        .objects
        .iter()
        .filter(|o| is_waypoint(&o.id, &o.body))
        .map(|o| {
            let rev_label = o
                .body
                .pointer("/metadata/labels")
                .and_then(|l| l.get(REV_LABEL))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            WaypointFacts {
                object: o.id.clone(),
                key: o.id.key(),
                file: o.file.clone(),
                line: o.line,
                uses: rev_label.clone().unwrap_or_else(|| "default".to_string()),
                rev_label,
                revision: None,
            }
        })
        .collect()
}

/// The waypoints with the revision that programs each at `view`: a tag resolved to its
/// revision, no label meaning the default revision, as istiod's revision filter reads it.
pub fn waypoints_at(waypoints: &[WaypointFacts], view: &MeshView) -> Vec<WaypointFacts> {
    waypoints
        .iter()
        .map(|w| {
            let mut w = w.clone();
            w.revision = match &w.rev_label {
                None => default_revision(view).filter(|r| view.revisions.contains_key(r)),
                Some(label) => view
                    .tags
                    .get(label)
                    .or(Some(label))
                    .filter(|r| view.revisions.contains_key(*r))
                    .cloned(),
            };
            w
        })
        .collect()
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

    #[test]
    fn dataplane_follows_pod_then_namespace_and_a_sidecar_wins() {
        let ambient_ns = labels(&[(DATAPLANE_LABEL, "ambient")]);
        let none = labels(&[]);
        assert_eq!(
            dataplane(false, false, "shop", &ambient_ns, &none),
            "ambient"
        );
        // A sidecar-injected pod in an ambient namespace stays a sidecar pod.
        assert_eq!(
            dataplane(true, false, "shop", &ambient_ns, &none),
            "sidecar"
        );
        let opt_out = labels(&[(DATAPLANE_LABEL, "none")]);
        assert_eq!(
            dataplane(false, false, "shop", &ambient_ns, &opt_out),
            "none"
        );
        let opt_in = labels(&[(DATAPLANE_LABEL, "ambient")]);
        assert_eq!(dataplane(false, false, "shop", &none, &opt_in), "ambient");
        assert_eq!(dataplane(false, true, "shop", &ambient_ns, &none), "none");
        assert_eq!(
            dataplane(false, false, "kube-system", &ambient_ns, &none),
            "none"
        );
        assert_eq!(dataplane(false, false, "shop", &none, &none), "none");
    }

    #[test]
    fn a_waypoint_resolves_its_tag_or_the_default_revision() {
        let w = |label: Option<&str>| WaypointFacts {
            object: ObjectRef {
                api_version: "gateway.networking.k8s.io/v1".into(),
                kind: "Gateway".into(),
                namespace: "shop".into(),
                name: "waypoint".into(),
            },
            key: "Gateway/shop/waypoint".into(),
            file: "w.yaml".into(),
            line: 1,
            rev_label: label.map(str::to_string),
            uses: label.unwrap_or("default").to_string(),
            revision: None,
        };
        let view = MeshView {
            revisions: [("1-26-8".to_string(), "1.26.8".to_string())].into(),
            tags: [
                ("default".to_string(), "1-26-8".to_string()),
                ("gone".to_string(), "1-24-6".to_string()),
            ]
            .into(),
            managed_namespaces: BTreeMap::new(),
        };
        let all = [
            w(None),
            w(Some("1-26-8")),
            w(Some("default")),
            w(Some("gone")),
            w(Some("1-24-6")),
        ];
        let got: Vec<Option<String>> = waypoints_at(&all, &view)
            .into_iter()
            .map(|w| w.revision)
            .collect();
        let r = Some("1-26-8".to_string());
        assert_eq!(got, vec![r.clone(), r.clone(), r, None, None]);
    }
}
