//! The ambient data plane of the spec: `spec.ambient` (the node agents `istio-cni` and
//! `ztunnel`, installed once per cluster) and each namespace's `dataplane`. Kept apart
//! from `model.rs` so that the sidecar model reads as it did; both are part of the
//! `meshplan.yaml` contract (DESIGN.md).

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
