//! Several meshes in one cluster: once every mesh's pipeline is loaded, what the meshes
//! together tell ([`crate::facts::tenancy`]) is derived from their final facts and next
//! steps, and each pipeline gets the view that concerns its mesh.

use super::Pipeline;
use crate::facts::tenancy::{Member, Tenancy};

/// Gives each pipeline of a multi-mesh spec its [`Tenancy`].
pub(super) fn attach(cluster: &str, all: &mut [Pipeline]) {
    let members: Vec<Member<'_>> = all
        .iter()
        .map(|p| {
            let view = p.plan.final_view();
            let facts = p.base.at(view);
            Member {
                spec: &p.spec.spec,
                namespaces: facts
                    .namespaces
                    .iter()
                    .filter(|n| n.managed)
                    .map(|n| (n.name.clone(), n.labels.clone()))
                    .collect(),
                view: view.clone(),
                next_restarts: p.plan.next_step().map_or(0, |s| s.restarts.len()),
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
