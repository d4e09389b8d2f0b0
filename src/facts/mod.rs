//! Facts: derived once from spec and inventory with indexes (never a scan per pair), then
//! evaluated cheaply at any point of the plan. [`FactsBase::new`] does the expensive work
//! (pod templates, PDB and Service selection, probes, protocols); [`FactsBase::at`] applies
//! a [`MeshView`] (installed revisions, tags, namespace labels) to decide injection exactly
//! as Istio's injector webhooks do.
//!
//! Complexity (W workloads, S Services, P PDBs, L labels per pod): Services are indexed by
//! namespace and by one `key=value` pair of their selector, PDBs likewise by one
//! `matchLabels` pair (PDBs with only `matchExpressions` or an empty selector sit in a
//! per-namespace list). Each workload looks up its own L pairs, so `new` costs
//! O(W·L·c + S + P) where c is the number of candidates sharing a pair, not O(W·S).
//! `at` is O(W + S + P + namespaces).

pub mod ambient;
pub mod committed;
pub mod injection;
pub mod installations;
pub mod model;
pub mod pdb;
pub mod protocol;
pub mod sail;
pub mod selector;
mod services;
pub mod tenancy;
mod text;
mod workload;

pub use ambient::{WaypointFacts, spec_namespace_labels};
pub use injection::{InjectionDecision, decide_injection, default_revision, sidecar_mode};
pub use model::*;
pub use text::render_text;

use crate::inventory::{Inventory, Object};
use crate::spec::{NativeSidecars, Spec};
pub use injection::INJECTION_LABEL;
use injection::{NAMESPACE_NAME_LABEL, REV_LABEL};
use pdb::IntOrPercent;
use selector::{Selector, scalar_string};
use serde_json::Value;
use services::*;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use workload::WorkloadBase;

/// The mesh as it stands at one point of the plan: what the webhooks see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeshView {
    /// Installed revisions: name → Istio version. A revision installed without a revision
    /// name is called `default` here (its webhooks select `istio.io/rev=default`).
    pub revisions: BTreeMap<String, String>,
    /// Revision tags: tag → revision name.
    pub tags: BTreeMap<String, String>,
    /// For each namespace in `spec.namespaces`, and each the lock still labels: the
    /// `istio.io/rev` value meshplan has written there at this point (None: not labelled
    /// yet).
    pub managed_namespaces: BTreeMap<String, Option<String>>,
}

impl MeshView {
    /// The mesh as `lock` records it, for [`FactsBase::at`]. Only namespaces meshplan has
    /// labelled appear; the planner adds the unlabelled ones.
    pub fn of_lock(lock: &crate::state::Lock) -> MeshView {
        MeshView {
            revisions: lock
                .revisions
                .iter()
                .map(|r| (r.name.clone(), r.version.clone()))
                .collect(),
            tags: lock.tags.clone(),
            managed_namespaces: lock
                .namespaces
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
        }
    }
}

/// One namespace as spec and inventory describe it, before any revision label.
#[derive(Debug, Clone, Default)]
struct NamespaceBase {
    object_labels: BTreeMap<String, String>,
    spec_labels: BTreeMap<String, String>,
    managed: bool,
    /// `dataplane: ambient` in the spec: meshplan writes no `istio.io/rev` on it, which
    /// would make that revision's webhook inject sidecars into its pods.
    ambient: bool,
    wave: Option<String>,
    file: Option<String>,
    line: Option<u32>,
}

/// Whether the user's Namespace object `body` carries `istio-injection=enabled`, which
/// meshplan removes when it labels the namespace `istio.io/rev`: Istio's webhooks prefer
/// `istio-injection`, so keeping it would leave the namespace on the default revision.
pub fn injection_label_moves(body: &Value) -> bool {
    body.pointer("/metadata/labels")
        .and_then(|l| l.get(INJECTION_LABEL))
        .and_then(Value::as_str)
        == Some("enabled")
}

/// Everything derived once from spec and inventory; [`FactsBase::at`] turns it into
/// [`Facts`] for one [`MeshView`].
#[derive(Debug, Clone)]
pub struct FactsBase {
    namespaces: BTreeMap<String, NamespaceBase>,
    workloads: Vec<WorkloadBase>,
    services: Vec<ServiceFacts>,
    /// For each service, positions in `workloads` of what it selects.
    service_workloads: Vec<Vec<usize>>,
    pdbs: Vec<PdbFacts>,
    kubernetes_version: String,
    native_sidecars: NativeSidecars,
    /// Istio installations found in the manifests.
    installations: Vec<installations::Installation>,
    /// Waypoint proxies found in the manifests, as of no view.
    waypoints: Vec<WaypointFacts>,
    /// Whether anything is ambient (the spec, a label, a waypoint): only then do the facts
    /// carry `dataplane` and `waypoints`, so a sidecar-only mesh's facts are unchanged.
    ambient: bool,
    /// Inputs that were malformed and how they were read, as `file:line: object: problem`.
    pub warnings: Vec<String>,
}

impl NamespaceBase {
    /// The namespace's labels at `view` (its object's, plus for managed namespaces the
    /// spec's, plus meshplan's revision label where the view has one), and the same with the
    /// `kubernetes.io/metadata.name` label the API server adds, which webhooks see.
    fn labels_at(
        &self,
        name: &str,
        view: &MeshView,
    ) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let mut labels = self.object_labels.clone();
        if self.managed {
            labels.extend(self.spec_labels.clone());
        }
        // Also for a namespace the spec dropped: the lock's label stays rendered, and so in
        // force, until a `release` step takes it away.
        if let Some(Some(rev)) = view.managed_namespaces.get(name).filter(|_| !self.ambient) {
            labels.insert(REV_LABEL.to_string(), rev.clone());
            // The render's label patch removes it in the same change (see
            // [`injection_label_moves`]); other values are the user's choice and stay.
            let spec_sets = self.managed && self.spec_labels.contains_key(INJECTION_LABEL);
            if !spec_sets
                && self
                    .object_labels
                    .get(INJECTION_LABEL)
                    .is_some_and(|v| v == "enabled")
            {
                labels.remove(INJECTION_LABEL);
            }
        }
        let mut seen = labels.clone();
        seen.insert(NAMESPACE_NAME_LABEL.to_string(), name.to_string());
        (labels, seen)
    }
}

/// A PDB's parsed selector and budget, kept while matching.
struct PdbBase {
    selector: Option<Selector>,
    min_available: Option<IntOrPercent>,
    max_unavailable: Option<IntOrPercent>,
}

impl FactsBase {
    /// Derives the mesh-independent facts: one pass over the inventory, then one lookup
    /// per workload label into the Service and PDB indexes.
    pub fn new(spec: &Spec, inventory: &Inventory) -> FactsBase {
        let mut warnings = Vec::new();
        let mut workloads = Vec::new();
        let mut services = Vec::new();
        let mut pdb_list: Vec<(PdbFacts, PdbBase)> = Vec::new();
        let mut namespaces: BTreeMap<String, NamespaceBase> = BTreeMap::new();
        for obj in &inventory.objects {
            if !obj.id.namespace.is_empty() {
                namespaces.entry(obj.id.namespace.clone()).or_default();
            }
            match obj.id.kind.as_str() {
                "Namespace" => {
                    let ns = namespaces.entry(obj.id.name.clone()).or_default();
                    ns.object_labels = label_map(
                        obj,
                        obj.body.pointer("/metadata/labels"),
                        "metadata.labels",
                        &mut warnings,
                    );
                    ns.file = Some(obj.file.clone());
                    ns.line = Some(obj.line);
                }
                "Service" => services.push(service_facts(obj, &mut warnings)),
                "PodDisruptionBudget" => pdb_list.push(pdb_facts(obj, &mut warnings)),
                _ => {
                    if let Some(w) = workload::extract(obj, &mut warnings) {
                        workloads.push(w);
                    }
                }
            }
        }
        let wave_by_namespace: BTreeMap<String, String> = spec
            .waves()
            .into_iter()
            .flat_map(|(wave, members)| members.into_iter().map(move |ns| (ns, wave.clone())))
            .collect();
        for entry in &spec.spec.namespaces {
            let ns = namespaces.entry(entry.name.clone()).or_default();
            ns.managed = true;
            ns.spec_labels = spec_namespace_labels(entry);
            ns.ambient = entry.dataplane == crate::spec::Dataplane::Ambient;
            ns.wave = wave_by_namespace.get(&entry.name).cloned();
        }
        workloads.sort_by(|a, b| ref_order(&a.facts.object, &b.facts.object));
        services.sort_by(|a, b| ref_order(&a.object, &b.object));
        pdb_list.sort_by(|a, b| ref_order(&a.0.object, &b.0.object));

        let service_workloads = match_services(&mut workloads, &mut services);
        let pdbs = match_pdbs(&mut workloads, pdb_list);
        let waypoints = ambient::find_waypoints(inventory);
        let has_mode = |l: &BTreeMap<String, String>| l.contains_key(crate::spec::DATAPLANE_LABEL);
        let ambient = spec.spec.ambient.is_some()
            || !waypoints.is_empty()
            || namespaces
                .values()
                .any(|n| has_mode(&n.object_labels) || has_mode(&n.spec_labels))
            || workloads.iter().any(|w| has_mode(&w.facts.pod_labels));
        FactsBase {
            namespaces,
            workloads,
            services,
            service_workloads,
            pdbs,
            kubernetes_version: spec.spec.kubernetes_version.clone(),
            native_sidecars: spec.spec.istio.config.native_sidecars,
            installations: installations::find(inventory),
            waypoints,
            ambient,
            warnings,
        }
    }

    /// The facts at one point of the plan: namespace labels and injection per `view`.
    /// For every workload (in a fixed order, the same at every view): its key, whether a
    /// restart bump restarts it, and the revision that would inject it at `view`. The
    /// planner calls this once per step, so it clones nothing per workload.
    pub fn revisions_at(&self, view: &MeshView) -> Vec<(&str, bool, Option<String>)> {
        let seen: BTreeMap<&str, BTreeMap<String, String>> = self
            .namespaces
            .iter()
            .map(|(name, base)| (name.as_str(), base.labels_at(name, view).1))
            .collect();
        let no_labels = BTreeMap::new();
        self.workloads
            .iter()
            .map(|w| {
                let f = &w.facts;
                let ns = seen.get(f.object.namespace.as_str()).unwrap_or(&no_labels);
                // A committed sidecar is not the webhook's: no relabel or restart moves it.
                if w.manual.is_some() {
                    return (f.key.as_str(), f.restartable, None);
                }
                let decision =
                    decide_injection(ns, &f.pod_labels, &f.pod_annotations, w.host_network, view);
                (f.key.as_str(), f.restartable, decision.revision)
            })
            .collect()
    }

    /// Derives the facts at one point of the plan.
    pub fn at(&self, view: &MeshView) -> Facts {
        let mut ns_effective: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
        let mut namespaces = Vec::with_capacity(self.namespaces.len());
        for (name, base) in &self.namespaces {
            let (labels, seen) = base.labels_at(name, view);
            let empty = BTreeMap::new();
            let decision = decide_injection(&seen, &empty, &empty, false, view);
            namespaces.push(NamespaceFacts {
                name: name.clone(),
                injected: decision.revision.is_some(),
                revision: decision.revision,
                managed: base.managed,
                wave: base.wave.clone(),
                injection_label: labels.get(INJECTION_LABEL).cloned(),
                rev_label: labels.get(REV_LABEL).cloned(),
                labels,
                file: base.file.clone(),
                line: base.line,
                reason: decision.reason,
                mesh: None,
                mesh_reason: None,
            });
            ns_effective.insert(name.as_str(), seen);
        }
        let workloads: Vec<WorkloadFacts> = self
            .workloads
            .iter()
            .map(|w| self.workload_at(w, &ns_effective, view))
            .collect();
        let services = self
            .services
            .iter()
            .zip(&self.service_workloads)
            .map(|(s, selected)| {
                let mut s = s.clone();
                s.selects_injected = selected
                    .iter()
                    .any(|&i| workloads.get(i).is_some_and(|w| w.injected));
                s
            })
            .collect();
        let mut revisions: BTreeMap<String, RevisionFacts> = view
            .revisions
            .iter()
            .map(|(name, version)| {
                let facts = RevisionFacts {
                    name: name.clone(),
                    version: version.clone(),
                    tags: Vec::new(),
                };
                (name.clone(), facts)
            })
            .collect();
        for (tag, target) in &view.tags {
            if let Some(r) = revisions.get_mut(target) {
                r.tags.push(tag.clone());
            }
        }
        Facts {
            version: 1,
            namespaces,
            workloads,
            services,
            pdbs: self.pdbs.clone(),
            revisions,
            tags: view.tags.clone(),
            default_revision: default_revision(view),
            versions: VersionFacts {
                kubernetes: self.kubernetes_version.clone(),
                ..VersionFacts::default()
            },
            config_hash: None,
            gateways: Vec::new(),
            installations: self.installations.clone(),
            waypoints: if self.ambient {
                ambient::waypoints_at(&self.waypoints, view)
            } else {
                Vec::new()
            },
        }
    }

    /// The waypoints of the manifests (their `revision` unset: [`Facts::waypoints`] has it
    /// at a view).
    pub fn waypoints(&self) -> &[WaypointFacts] {
        &self.waypoints
    }

    /// One workload's facts at `view`, its namespace's labels as they are then
    /// (`ns_effective`): what injects it, in which sidecar mode, and why.
    fn workload_at(
        &self,
        w: &WorkloadBase,
        ns_effective: &BTreeMap<&str, BTreeMap<String, String>>,
        view: &MeshView,
    ) -> WorkloadFacts {
        let no_labels = BTreeMap::new();
        let mut f = w.facts.clone();
        let ns = ns_effective
            .get(f.object.namespace.as_str())
            .unwrap_or(&no_labels);
        let decision =
            decide_injection(ns, &f.pod_labels, &f.pod_annotations, w.host_network, view);
        f.injected = decision.revision.is_some();
        f.sidecar = match &decision.revision {
            None => "none".to_string(),
            Some(_) if w.is_vm => "legacy".to_string(),
            Some(rev) => sidecar_mode(
                self.native_sidecars,
                view.revisions.get(rev).map(String::as_str),
                &self.kubernetes_version,
                &f.pod_annotations,
            )
            .to_string(),
        };
        f.revision = decision.revision;
        if let Some(pinned) = &w.manual {
            f.injected = true;
            f.sidecar = "manual".to_string();
            f.revision = None;
            f.proxy = pinned.clone();
            f.dataplane = self.ambient.then(|| "sidecar".to_string());
            f.reason = format!(
                "committed sidecar (istioctl kube-inject output) pinned to {}; \
                 the webhooks leave it as it is",
                pinned.as_deref().unwrap_or("an unknown version")
            );
            return f;
        }
        if self.ambient {
            let mode = ambient::dataplane(
                f.injected,
                w.host_network || w.is_vm,
                &f.object.namespace,
                ns,
                &f.pod_labels,
            );
            f.dataplane = Some(mode.to_string());
        }
        f.reason = if w.is_vm {
            format!(
                "WorkloadEntry (VM proxy, restarted by hand): {}",
                decision.reason
            )
        } else {
            decision.reason
        };
        f
    }
}

impl Facts {
    /// The workload with key `Kind/namespace/name`.
    pub fn workload(&self, key: &str) -> Option<&WorkloadFacts> {
        let (kind, ns, name) = crate::diagnostic::ObjectRef::split_key(key)?;
        self.workloads
            .binary_search_by(|w| {
                (
                    w.object.kind.as_str(),
                    w.object.namespace.as_str(),
                    w.object.name.as_str(),
                )
                    .cmp(&(kind, ns, name))
            })
            .ok()
            .and_then(|i| self.workloads.get(i))
    }

    /// The namespace called `name`.
    pub fn namespace(&self, name: &str) -> Option<&NamespaceFacts> {
        self.namespaces
            .binary_search_by(|n| n.name.as_str().cmp(name))
            .ok()
            .and_then(|i| self.namespaces.get(i))
    }

    /// The Service with key `Service/namespace/name`.
    pub fn service(&self, key: &str) -> Option<&ServiceFacts> {
        let (_, ns, name) = crate::diagnostic::ObjectRef::split_key(key)?;
        self.services
            .binary_search_by(|s| {
                (s.object.namespace.as_str(), s.object.name.as_str()).cmp(&(ns, name))
            })
            .ok()
            .and_then(|i| self.services.get(i))
    }

    /// The PDB with key `namespace/name`.
    pub fn pdb(&self, key: &str) -> Option<&PdbFacts> {
        let (ns, name) = key.split_once('/')?;
        self.pdbs
            .binary_search_by(|p| {
                (p.object.namespace.as_str(), p.object.name.as_str()).cmp(&(ns, name))
            })
            .ok()
            .and_then(|i| self.pdbs.get(i))
    }
}

/// Order by kind, namespace, name (the documented order of every facts list).
fn ref_order(a: &crate::diagnostic::ObjectRef, b: &crate::diagnostic::ObjectRef) -> Ordering {
    (&a.kind, &a.namespace, &a.name).cmp(&(&b.kind, &b.namespace, &b.name))
}

/// A label map of `obj` at `what`; values that cannot be labels are left out and reported.
fn label_map(
    obj: &Object,
    value: Option<&Value>,
    what: &str,
    warnings: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return out;
    };
    let mut warn = |msg: String| {
        warnings.push(format!(
            "{}:{}: {}: {what}{msg}",
            obj.file,
            obj.line,
            obj.id.key()
        ));
    };
    let Some(map) = value.as_object() else {
        warn(" is not a mapping; ignored".to_string());
        return out;
    };
    for (k, v) in map {
        match scalar_string(v) {
            Some(s) => {
                out.insert(k.clone(), s);
            }
            None => warn(format!(".{k} is not a string; ignored")),
        }
    }
    out
}

#[cfg(test)]
mod tests;
