//! Several meshes in one cluster: the facts only the meshes together tell, derived once per
//! run from every mesh's spec and final facts, for the isolation rules (MP209 mesh-overlap,
//! MP210 cross-mesh-injection, MP211 control-plane-namespace) and the cluster restart
//! budget (MP315). Each rule then reads a short list instead of comparing objects.
//!
//! Membership follows what decides it in a cluster: a namespace belongs to a mesh when the
//! mesh lists it (`spec.namespaces`, a wave) or when its istiod would discover it
//! (`meshConfig.discoverySelectors`, evaluated on the labels meshplan gives the namespace).
//! Injection does not follow discovery: the injector webhooks are cluster-wide objects that
//! see labels only, so each mesh's webhooks are emulated ([`super::injection`]) against every
//! other mesh's namespaces.

use super::MeshView;
use super::injection::{NAMESPACE_NAME_LABEL, decide_injection};
use crate::spec::{LabelSelector, Spec};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The label meshplan puts on a mesh's namespaces, and the default discovery selector.
pub const MESH_LABEL: &str = "meshplan.dev/mesh";

/// The control-plane namespace when `spec.istio.namespace` is absent.
pub const DEFAULT_CONTROL_PLANE_NAMESPACE: &str = "istio-system";

/// One mesh as the cluster sees it.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// The mesh's spec.
    pub spec: &'a Spec,
    /// Its namespaces with their effective labels after its plan (`facts --step final`).
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Its webhooks after its plan: revisions and tags.
    pub view: MeshView,
    /// Every revision and tag name it serves at some point of its plan (the lock's, every
    /// step's): two meshes serving one name at once, even mid-upgrade, collide.
    pub names: BTreeSet<String>,
    /// Workloads its next pending step restarts.
    pub next_restarts: usize,
    /// Its workloads in namespaces it does not label (where pod labels decide injection):
    /// the object, its namespace's labels and its pod labels and annotations.
    pub pods: Vec<Pod>,
}

/// A workload's pods as the injector webhooks see them.
#[derive(Debug, Clone)]
pub struct Pod {
    /// The workload.
    pub object: crate::diagnostic::ObjectRef,
    /// Its namespace's labels (with `kubernetes.io/metadata.name`).
    pub namespace_labels: BTreeMap<String, String>,
    /// Pod template labels.
    pub labels: BTreeMap<String, String>,
    /// Pod template annotations.
    pub annotations: BTreeMap<String, String>,
}

/// The control-plane namespace of a mesh.
pub fn control_plane_namespace(spec: &Spec) -> &str {
    spec.spec
        .istio
        .namespace
        .as_deref()
        .unwrap_or(DEFAULT_CONTROL_PLANE_NAMESPACE)
}

/// The discovery selectors of a mesh of a multi-mesh spec: the spec's, else
/// `meshplan.dev/mesh=<name>`.
pub fn discovery_selectors(spec: &Spec) -> Vec<LabelSelector> {
    spec.spec
        .istio
        .discovery_selectors
        .clone()
        .unwrap_or_else(|| {
            vec![LabelSelector {
                match_labels: BTreeMap::from([(MESH_LABEL.into(), spec.metadata.name.clone())]),
                match_expressions: Vec::new(),
            }]
        })
}

/// The cluster's facts (`input.facts.tenancy`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenancy {
    /// `spec.cluster`.
    pub cluster: String,
    /// The mesh being judged.
    pub mesh: String,
    /// Every mesh: control-plane namespace and namespaces, by mesh name.
    pub meshes: BTreeMap<String, MeshSummary>,
    /// Namespaces claimed by more than one mesh (MP209).
    pub overlaps: Vec<Overlap>,
    /// A mesh's webhook injecting another mesh's namespace (MP210).
    pub cross_injections: Vec<CrossInjection>,
    /// Control-plane namespaces shared or used for workloads (MP211).
    pub control_plane_clashes: Vec<ControlPlaneClash>,
    /// Restarts of every mesh's next step, and their bound (MP315).
    pub restarts: ClusterRestarts,
}

/// One mesh in [`Tenancy::meshes`].
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshSummary {
    /// `spec.istio.namespace` (default `istio-system`).
    pub control_plane_namespace: String,
    /// Its namespaces, sorted.
    pub namespaces: Vec<String>,
}

/// A namespace two meshes claim.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overlap {
    /// The namespace.
    pub namespace: String,
    /// The meshes claiming it, sorted, with how each does.
    pub meshes: BTreeMap<String, String>,
}

/// A namespace whose pods another mesh's webhook would inject.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossInjection {
    /// The namespace.
    pub namespace: String,
    /// The mesh it belongs to.
    pub owner: String,
    /// The mesh whose webhook injects it.
    pub injector: String,
    /// The injector's revision that matches.
    pub revision: String,
    /// Which label decided.
    pub reason: String,
    /// The workload injected, when its pod labels decide (its namespace is not labelled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<crate::diagnostic::ObjectRef>,
}

/// A control-plane namespace problem.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneClash {
    /// The namespace.
    pub namespace: String,
    /// The meshes concerned, sorted.
    pub meshes: Vec<String>,
    /// `shared` (two control planes) or `workloads` (a mesh's workload namespace).
    pub kind: String,
}

/// The cluster restart budget.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRestarts {
    /// Workloads each mesh's next pending step restarts.
    pub by_mesh: BTreeMap<String, usize>,
    /// Their sum.
    pub total: usize,
    /// `spec.upgrade.maxRestartsPerCluster` of the judged mesh (null: unbounded).
    pub max: Option<u32>,
}

impl Tenancy {
    /// Derives the cluster's facts as seen from mesh `mesh`: the lists keep only entries
    /// that concern it, so each mesh's findings are its own.
    pub fn derive(cluster: &str, mesh: &str, members: &[Member<'_>]) -> Tenancy {
        let all = Self::derive_all(cluster, members);
        let concerns = |names: &[&str]| names.contains(&mesh);
        Tenancy {
            mesh: mesh.to_string(),
            overlaps: all
                .overlaps
                .into_iter()
                .filter(|o| o.meshes.contains_key(mesh))
                .collect(),
            cross_injections: all
                .cross_injections
                .into_iter()
                // A pod's own labels are its mesh's to fix (and only its mesh's manifests
                // locate it); a namespace concerns the injecting mesh as well.
                .filter(|c| match c.object {
                    Some(_) => c.owner == mesh,
                    None => concerns(&[&c.owner, &c.injector]),
                })
                .collect(),
            control_plane_clashes: all
                .control_plane_clashes
                .into_iter()
                .filter(|c| c.meshes.iter().any(|m| m == mesh))
                .collect(),
            restarts: ClusterRestarts {
                max: members
                    .iter()
                    .find(|m| m.spec.metadata.name == mesh)
                    .and_then(|m| m.spec.spec.upgrade.max_restarts_per_cluster),
                ..all.restarts
            },
            ..all
        }
    }

    fn derive_all(cluster: &str, members: &[Member<'_>]) -> Tenancy {
        let mut meshes = BTreeMap::new();
        for m in members {
            meshes.insert(
                m.spec.metadata.name.clone(),
                MeshSummary {
                    control_plane_namespace: control_plane_namespace(m.spec).to_string(),
                    namespaces: m.namespaces.keys().cloned().collect(),
                },
            );
        }
        let by_mesh: BTreeMap<String, usize> = members
            .iter()
            .map(|m| (m.spec.metadata.name.clone(), m.next_restarts))
            .collect();
        Tenancy {
            cluster: cluster.to_string(),
            mesh: String::new(),
            meshes,
            overlaps: overlaps(members),
            cross_injections: cross_injections(members),
            control_plane_clashes: control_plane_clashes(members),
            restarts: ClusterRestarts {
                total: by_mesh.values().sum(),
                by_mesh,
                max: None,
            },
        }
    }
}

/// Every namespace any mesh knows, with the labels its owner gives it.
fn all_namespaces<'a>(
    members: &'a [Member<'_>],
) -> Vec<(&'a str, &'a str, &'a BTreeMap<String, String>)> {
    members
        .iter()
        .flat_map(|m| {
            m.namespaces
                .iter()
                .map(move |(ns, labels)| (m.spec.metadata.name.as_str(), ns.as_str(), labels))
        })
        .collect()
}

/// Namespaces claimed by two meshes: listed by both, or listed by one and discovered by
/// another's selectors.
fn overlaps(members: &[Member<'_>]) -> Vec<Overlap> {
    let mut claims: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for m in members {
        let name = &m.spec.metadata.name;
        for ns in &m.spec.spec.namespaces {
            claims
                .entry(&ns.name)
                .or_default()
                .insert(name.clone(), "listed in spec.namespaces".into());
        }
        for wave in &m.spec.spec.upgrade.waves {
            for ns in &wave.namespaces {
                claims
                    .entry(ns)
                    .or_default()
                    .entry(name.clone())
                    .or_insert_with(|| format!("listed in wave {}", wave.name));
            }
        }
    }
    for m in members {
        let selectors = discovery_selectors(m.spec);
        for (_, ns, labels) in all_namespaces(members) {
            if selects(&selectors, ns, labels) {
                claims
                    .entry(ns)
                    .or_default()
                    .entry(m.spec.metadata.name.clone())
                    .or_insert_with(|| "selected by its discoverySelectors".into());
            }
        }
    }
    claims
        .into_iter()
        .filter(|(_, meshes)| meshes.len() > 1)
        .map(|(ns, meshes)| Overlap {
            namespace: ns.to_string(),
            meshes,
        })
        .collect()
}

/// Istio's discovery selectors are ORed; an empty list discovers every namespace.
fn selects(selectors: &[LabelSelector], ns: &str, labels: &BTreeMap<String, String>) -> bool {
    let mut labels = labels.clone();
    labels.insert(NAMESPACE_NAME_LABEL.into(), ns.into());
    selectors.is_empty() || selectors.iter().any(|s| s.matches(&labels))
}

/// Every other mesh's namespaces a mesh's webhooks would inject.
fn cross_injections(members: &[Member<'_>]) -> Vec<CrossInjection> {
    let mut out = Vec::new();
    let namespaces = all_namespaces(members);
    for injector in members {
        let name = injector.spec.metadata.name.as_str();
        for (owner, ns, labels) in &namespaces {
            if *owner == name {
                continue;
            }
            let mut labels = (*labels).clone();
            labels.insert(NAMESPACE_NAME_LABEL.into(), (*ns).into());
            let d = decide_injection(
                &labels,
                &BTreeMap::new(),
                &BTreeMap::new(),
                false,
                &injector.view,
            );
            if let Some(revision) = d.revision {
                out.push(CrossInjection {
                    namespace: (*ns).to_string(),
                    owner: (*owner).to_string(),
                    injector: name.to_string(),
                    revision,
                    reason: d.reason,
                    object: None,
                });
            }
        }
        // Pods of another mesh in namespaces that mesh does not label: their own labels
        // (`istio.io/rev`, `sidecar.istio.io/inject`) may call this mesh's webhooks.
        for owner in members.iter().filter(|o| o.spec.metadata.name != name) {
            for pod in &owner.pods {
                let d = decide_injection(
                    &pod.namespace_labels,
                    &pod.labels,
                    &pod.annotations,
                    false,
                    &injector.view,
                );
                if let Some(revision) = d.revision {
                    out.push(CrossInjection {
                        namespace: pod.object.namespace.clone(),
                        owner: owner.spec.metadata.name.clone(),
                        injector: name.to_string(),
                        revision,
                        reason: d.reason,
                        object: Some(pod.object.clone()),
                    });
                }
            }
        }
    }
    out.extend(name_collisions(members));
    out.sort_by(|a, b| {
        let key = |c: &CrossInjection| {
            (
                c.namespace.clone(),
                c.injector.clone(),
                c.object.as_ref().map(|o| o.key()),
            )
        };
        key(a).cmp(&key(b))
    });
    out
}

/// Revision or tag names two meshes both serve at some point of their plans: their webhooks
/// (and, for `default`, the `istio-injection=enabled` webhooks) match the same labels, so
/// whichever namespace or pod carries them is injected twice; the webhook configurations
/// even share a name. Reported with an empty `namespace`: it holds whatever namespaces
/// carry the labels.
fn name_collisions(members: &[Member<'_>]) -> Vec<CrossInjection> {
    let mut out = Vec::new();
    for (i, owner) in members.iter().enumerate() {
        for injector in members.iter().skip(i + 1) {
            for name in owner.names.intersection(&injector.names) {
                let what = if name == "default" {
                    "both inject istio-injection=enabled namespaces and istio.io/rev=default"
                        .to_string()
                } else {
                    format!("both inject istio.io/rev={name}")
                };
                out.push(CrossInjection {
                    namespace: String::new(),
                    owner: owner.spec.metadata.name.clone(),
                    injector: injector.spec.metadata.name.clone(),
                    revision: name.clone(),
                    reason: what,
                    object: None,
                });
            }
        }
    }
    out
}

/// Control-plane namespaces two meshes share, or that a mesh lists among its namespaces.
fn control_plane_clashes(members: &[Member<'_>]) -> Vec<ControlPlaneClash> {
    let mut by_ns: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for m in members {
        by_ns
            .entry(control_plane_namespace(m.spec))
            .or_default()
            .insert(m.spec.metadata.name.clone());
    }
    let mut out = Vec::new();
    for (ns, meshes) in &by_ns {
        if meshes.len() > 1 {
            out.push(ControlPlaneClash {
                namespace: (*ns).to_string(),
                meshes: meshes.iter().cloned().collect(),
                kind: "shared".into(),
            });
        }
    }
    for m in members {
        let cp = control_plane_namespace(m.spec);
        let users: Vec<String> = members
            .iter()
            .filter(|o| o.spec.spec.namespaces.iter().any(|n| n.name == cp))
            .map(|o| o.spec.metadata.name.clone())
            .collect();
        if !users.is_empty() {
            let mut meshes: BTreeSet<String> = users.into_iter().collect();
            meshes.insert(m.spec.metadata.name.clone());
            out.push(ControlPlaneClash {
                namespace: cp.to_string(),
                meshes: meshes.into_iter().collect(),
                kind: "workloads".into(),
            });
        }
    }
    out
}
