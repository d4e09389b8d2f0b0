//! The plan: the ordered steps that take the mesh from what the lock records to what the
//! spec asks for, one reviewable pull request each. Pure: no I/O.
//!
//! [`plan`] decides the hops (versions passed through), the steps of each hop and the mesh
//! each step leaves behind ([`MeshView`]), by simulating the steps on the lock with
//! [`LockTransition::transform`] — the same function [`LockTransition::apply`] uses, so a plan and the locks its
//! steps produce cannot disagree. [`annotate`] then asks the facts which workloads each step
//! moves. Step naming and the rules are in `docs/lock.md`.

use crate::catalog::{Catalog, Version, parse_minor};
use crate::facts::{FactsBase, MeshView};
use crate::spec::{GatewayStrategy, Spec, Strategy};
use crate::state::{ConfigHash, FIRST_COLOUR, Lock, PlannedGateway, UpgradeState};
use serde::Serialize;
use std::collections::BTreeMap;

pub mod adopt;
mod annotate;
mod delivery;
mod model;
pub mod operator;
mod route;
mod steps;
mod transition;

pub use annotate::{annotate, release_gone_workloads};
pub use delivery::last_supported_minor;
pub use model::*;
pub use route::max_skip;
use route::*;
use steps::*;
pub use transition::LockTransition;

/// Plans from the lock (`None`: nothing deployed yet) to the spec, taking intermediate hops
/// from the catalogue. Resumes the lock's upgrade in progress when it has the spec's target;
/// otherwise plans afresh from the oldest version the lock has in use. What the planner
/// cannot honour (a downgrade, an unsupported Kubernetes version) is in `Plan::problems`.
pub fn plan(spec: &Spec, lock: Option<&Lock>, catalog: &Catalog) -> Plan {
    let gateways = planned_gateways(spec);
    let empty;
    let lock = match lock {
        Some(l) => l,
        None => {
            empty = Lock::empty(&spec.metadata.name);
            &empty
        }
    };
    let target = spec.spec.istio.version.clone();
    let start = view_of(lock, spec);
    // Resume the upgrade in progress when it still has the spec's target and the spec still
    // produces its steps; otherwise (target, waves or strategy changed) plan afresh from the
    // lock as it stands.
    let resumed = lock
        .upgrade
        .as_ref()
        .filter(|u| u.to == target)
        .and_then(|u| resume(spec, lock, u));
    let fresh = resumed.is_none();
    let (from, hops, skeleton) = match resumed {
        Some(r) => r,
        None => match oldest_version(lock) {
            None => {
                let hops = vec![target.clone()];
                let steps = skeleton(spec, lock, false, &hops);
                (None, hops, steps)
            }
            Some(current) => match route(&current, spec, lock, catalog) {
                Ok(hops) => {
                    let steps = skeleton(spec, lock, true, &hops);
                    (Some(current), hops, steps)
                }
                Err(problem) => {
                    return Plan {
                        hops: vec![current.clone(), target.clone()],
                        from: Some(current),
                        to: target,
                        steps: Vec::new(),
                        problems: vec![*problem],
                        start,
                        gateways,
                        config: Some(ConfigHash::of(&spec.spec.istio.config)),
                    };
                }
            },
        },
    };
    let mut problems = kubernetes_problems(spec, catalog, &hops, from.is_some());
    // The simulation needs no workloads: leaving them out keeps each step's copy of the lock
    // small at 100k workloads.
    let mut state = lock.without_workloads();
    let mut steps = Vec::with_capacity(skeleton.len());
    for mut step in skeleton {
        if step.done {
            // Its change is already in the lock.
            step.view = view_of(&state, spec);
            steps.push(step);
            continue;
        }
        let next = state.transform(&gateways, &step);
        // A fresh plan for a running cluster leaves out steps with nothing to do (a wave
        // already on its label, a gateway step without a change), so no pull request is
        // empty. Resumed plans keep every recorded step so names stay stable.
        let no_op = next == state && step.bump == Bump::None && step.gateway_restarts.is_empty();
        if no_op && fresh && from.is_some() {
            continue;
        }
        step.view = view_of(&next, spec);
        step.restarts = step.gateway_restarts.clone();
        state = next;
        steps.push(step);
    }
    if let Some(last) = steps.iter_mut().rev().find(|s| !s.done) {
        last.config_hash = Some(ConfigHash::of(&spec.spec.istio.config));
    }
    problems.extend(delivery::problem(spec, catalog, &steps));
    Plan {
        from,
        to: target,
        hops,
        steps,
        problems,
        start,
        gateways,
        config: Some(ConfigHash::of(&spec.spec.istio.config)),
    }
}

/// The recorded upgrade's from, hops and steps (done as recorded), when the spec still
/// produces exactly the recorded steps.
fn resume(
    spec: &Spec,
    lock: &Lock,
    record: &UpgradeState,
) -> Option<(Option<String>, Vec<String>, Vec<Step>)> {
    let mut steps = skeleton(spec, lock, record.from.is_some(), &record.hops);
    let done: BTreeMap<&str, bool> = record
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.done))
        .collect();
    // A release step comes and goes with the namespaces the spec drops, so it neither
    // breaks nor makes a resume: a new one is kept, and a done one whose namespaces are
    // gone stays listed as done where it was, so step numbers do not shift.
    steps.retain_mut(|s| match done.get(s.name.as_str()) {
        // A release the spec calls for has namespaces left to release, whatever the record
        // says of an earlier one of that name.
        Some(d) => {
            s.done = *d && s.kind != StepKind::Release;
            true
        }
        None => s.kind == StepKind::Release,
    });
    for (i, r) in record.steps.iter().enumerate() {
        if r.done && is_release(&r.name) && !steps.iter().any(|s| s.name == r.name) {
            let mut s = step(r.name.clone(), &r.hop, StepKind::Release, "");
            s.done = true;
            steps.insert(i.min(steps.len()), s);
        }
    }
    let same = steps
        .iter()
        .filter(|s| s.kind != StepKind::Release)
        .map(|s| s.name.as_str())
        .eq(record
            .steps
            .iter()
            .filter(|s| !is_release(&s.name))
            .map(|s| s.name.as_str()));
    same.then(|| (record.from.clone(), record.hops.clone(), steps))
}

/// Whether a recorded step name is a release step's (`release` or `<hop>: release`).
fn is_release(name: &str) -> bool {
    name == RELEASE || name.ends_with(&format!(": {RELEASE}"))
}

/// The name of the step that releases namespaces the spec no longer lists.
const RELEASE: &str = "release";

/// The spec's gateways as the lock keys them.
pub fn planned_gateways(spec: &Spec) -> Vec<PlannedGateway> {
    let mut out: Vec<PlannedGateway> = spec
        .spec
        .gateways
        .iter()
        .map(|g| PlannedGateway {
            key: format!("{}/{}", g.namespace, g.name),
            namespace: g.namespace.clone(),
            name: g.name.clone(),
            strategy: g.strategy,
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// The lock's view with every spec namespace present (unlabelled ones as `None`).
fn view_of(lock: &Lock, spec: &Spec) -> MeshView {
    let mut view = MeshView::of_lock(lock);
    for ns in &spec.spec.namespaces {
        view.managed_namespaces
            .entry(ns.name.clone())
            .or_insert(None);
    }
    view
}

/// The version the plan starts from: the oldest revision still in use — by a namespace's
/// label (through its tag), a tag, or a gateway's active colour — since hops are measured
/// from it. An installed revision nothing uses does not hold the plan back; recorded proxy
/// versions do not either (a workload deleted from the manifests keeps its entry, and proxy
/// skew is the MP105 policy's to judge). When nothing is in use, the oldest installed
/// version; `None` when nothing is installed.
fn oldest_version(lock: &Lock) -> Option<String> {
    let version_of = |rev: &str| lock.revision_version(rev).map(str::to_string);
    let mut used: Vec<String> = Vec::new();
    for label in lock.namespaces.values() {
        used.extend(version_of(lock.resolve(label)));
    }
    used.extend(lock.tags.values().filter_map(|r| version_of(r)));
    for g in lock.gateways.values() {
        used.extend(g.colours.get(&g.active).and_then(|r| version_of(r)));
    }
    if used.is_empty() {
        used = lock.revisions.iter().map(|r| r.version.clone()).collect();
    }
    used.into_iter()
        .filter_map(|s| Version::parse(&s).ok().map(|v| (v, s)))
        .min()
        .map(|(_, s)| s)
}

#[cfg(test)]
mod tests;
