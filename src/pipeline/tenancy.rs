//! Several meshes in one cluster: once every mesh's pipeline is loaded, what the meshes
//! together tell ([`crate::facts::tenancy`]) is derived from their final facts and next
//! steps, and each pipeline gets the view that concerns its mesh.

use super::Pipeline;
use crate::facts::tenancy::{Member, Pod, Tenancy};

/// Gives each pipeline of a multi-mesh spec its [`Tenancy`].
pub(super) fn attach(cluster: &str, all: &mut [Pipeline]) {
    let members: Vec<Member<'_>> = all
        .iter()
        .map(|p| {
            let view = p.plan.final_view();
            let facts = p.base.at(view);
            let ns_labels: std::collections::BTreeMap<
                &str,
                &std::collections::BTreeMap<String, String>,
            > = facts
                .namespaces
                .iter()
                .map(|n| (n.name.as_str(), &n.labels))
                .collect();
            let pods = facts
                .workloads
                .iter()
                .filter(|w| {
                    !facts
                        .namespaces
                        .iter()
                        .any(|n| n.managed && n.name == w.object.namespace)
                })
                .map(|w| {
                    let mut namespace_labels = ns_labels
                        .get(w.object.namespace.as_str())
                        .map(|l| (*l).clone())
                        .unwrap_or_default();
                    namespace_labels.insert(
                        crate::facts::injection::NAMESPACE_NAME_LABEL.into(),
                        w.object.namespace.clone(),
                    );
                    Pod {
                        object: w.object.clone(),
                        namespace_labels,
                        labels: w.pod_labels.clone(),
                        annotations: w.pod_annotations.clone(),
                    }
                })
                .collect();
            Member {
                spec: &p.spec.spec,
                namespaces: facts
                    .namespaces
                    .iter()
                    .filter(|n| n.managed)
                    .map(|n| (n.name.clone(), n.labels.clone()))
                    .collect(),
                view: view.clone(),
                names: std::iter::once(&p.plan.start)
                    .chain(p.plan.steps.iter().map(|s| &s.view))
                    .flat_map(|v| v.revisions.keys().chain(v.tags.keys()))
                    .cloned()
                    .collect(),
                next_restarts: p.plan.next_step().map_or(0, |s| s.restarts.len()),
                pods,
            }
        })
        .collect();
    let tenancies: Vec<Tenancy> = all
        .iter()
        .map(|p| Tenancy::derive(cluster, &p.spec.spec.metadata.name, &members))
        .collect();
    drop(members);
    for (p, t) in all.iter_mut().zip(tenancies) {
        p.tenancy = Some(t);
    }
}

impl Pipeline {
    /// Names, in a spec of several meshes, the mesh each namespace and workload of `facts`
    /// belongs to, and why (`meshplan facts`); a single mesh's facts are left as they are.
    /// A namespace is a mesh's when the mesh lists it; one two meshes list is this mesh's
    /// (the overlap is MP209's finding), one no mesh lists belongs to none.
    pub fn mark_meshes(&self, facts: &mut crate::facts::Facts) {
        let Some(t) = &self.tenancy else {
            return;
        };
        let mut owner_of = std::collections::BTreeMap::new();
        for ns in &mut facts.namespaces {
            let claimants: Vec<&str> = t
                .meshes
                .iter()
                .filter(|(_, m)| m.namespaces.contains(&ns.name))
                .map(|(name, _)| name.as_str())
                .collect();
            let (mesh, reason) = if claimants.contains(&t.mesh.as_str()) {
                let reason = match claimants.as_slice() {
                    [_] => format!("listed in spec.namespaces of mesh {}", t.mesh),
                    _ => format!(
                        "listed by meshes {} (mesh-overlap, MP209)",
                        claimants.join(", ")
                    ),
                };
                (Some(t.mesh.clone()), reason)
            } else if let Some(first) = claimants.first() {
                (
                    Some((*first).to_string()),
                    format!("listed in spec.namespaces of mesh {first}"),
                )
            } else {
                (None, "no mesh of the cluster lists it".to_string())
            };
            owner_of.insert(ns.name.clone(), mesh.clone());
            ns.mesh = Some(mesh);
            ns.mesh_reason = Some(reason);
        }
        for w in &mut facts.workloads {
            w.mesh = Some(owner_of.get(&w.object.namespace).cloned().flatten());
        }
    }
}
