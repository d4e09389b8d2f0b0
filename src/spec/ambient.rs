//! The ambient data plane of the spec: `spec.ambient` (the node agents `istio-cni` and
//! `ztunnel`, installed once per cluster) and each namespace's `dataplane`. Kept apart
//! from `model.rs` so that the sidecar model reads as it did; both are part of the
//! `meshplan.yaml` contract (DESIGN.md).
//!
//! meshplan does not render or plan the node agents yet (their releases, the per-hop `cni`
//! and `ztunnel` steps, MP601 and MP602 are still to come), so `spec.ambient.enabled: true`
//! is refused at its line rather than accepted and silently left out of the render.

use super::located::{Node, Seg};
use super::model::Spec;
use super::validate::Failure;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The namespace label that puts a namespace's pods in the ambient mesh.
pub const DATAPLANE_LABEL: &str = "istio.io/dataplane-mode";

/// `spec.namespaces[].dataplane`: how the namespace's pods join the mesh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Dataplane {
    /// Sidecars injected by the revision the namespace is labelled for.
    #[default]
    Sidecar,
    /// Ambient: ztunnel on each node, `istio.io/dataplane-mode=ambient` on the namespace.
    Ambient,
}

impl Dataplane {
    /// Whether this is the default (kept out of serialized specs, so that a spec without
    /// ambient serializes exactly as before).
    pub fn is_sidecar(&self) -> bool {
        *self == Dataplane::Sidecar
    }
}

/// `spec.ambient`: the ambient node agents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ambient {
    /// Whether meshplan installs `istio-cni` and `ztunnel` (chart values `profile: ambient`).
    #[serde(default)]
    pub enabled: bool,
    /// The `cni` chart.
    #[serde(default)]
    pub cni: AmbientComponent,
    /// The `ztunnel` chart.
    #[serde(default)]
    pub ztunnel: AmbientComponent,
}

/// `spec.ambient.cni` or `spec.ambient.ztunnel`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AmbientComponent {
    /// Extra Helm values, deep-merged over meshplan's.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// Refuses what meshplan cannot do yet: installing the node agents.
pub(super) fn check(spec: &Spec, tree: &Node) -> Result<(), Failure> {
    use Seg::Key as K;
    if spec.spec.ambient.as_ref().is_some_and(|a| a.enabled) {
        return Err((
            tree.pos(&[K("spec"), K("ambient"), K("enabled")]),
            "`spec.ambient.enabled: true` is not supported yet: meshplan does not render or upgrade the `cni` and `ztunnel` releases; install them apart and set `enabled: false` (ambient namespaces, the data-plane facts and the waypoint rules work without it)".to_string(),
        ));
    }
    Ok(())
}
