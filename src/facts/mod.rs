//! Facts: derived once from spec and inventory with indexes (never a scan per pair), then
//! evaluated cheaply at any point of the plan. [`FactsBase::new`] does the expensive work
//! (pod templates, PDB and Service selection, probes, protocols); [`FactsBase::at`] applies
//! a [`MeshView`] (installed revisions, tags, namespace labels) to decide injection exactly
//! as Istio's injector webhooks do.

pub mod model;

pub use model::*;

use std::collections::BTreeMap;

/// The mesh as it stands at one point of the plan: what the webhooks see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeshView {
    /// Installed revisions: name → Istio version.
    pub revisions: BTreeMap<String, String>,
    /// Revision tags: tag → revision name.
    pub tags: BTreeMap<String, String>,
    /// For each namespace in `spec.namespaces`: the `istio.io/rev` value meshplan has
    /// written there at this point (None: not labelled yet).
    pub managed_namespaces: BTreeMap<String, Option<String>>,
}
