//! Applying a plan step to a lock: the lock after a step is committed. This lives with the
//! planner, not in `state`, so that the lock stays data the planner reads and `state` knows
//! nothing of plans (the layering in `src/lib.rs`).

use super::{Plan, Step, StepKind};
use crate::spec::GatewayStrategy;
use crate::state::{
    FIRST_COLOUR, GatewayState, Lock, PlannedGateway, RevisionState, StepState, UpgradeState,
    colour_deployment, other_colour,
};
use std::collections::BTreeMap;

/// What committing a step does to a [`Lock`]; implemented for the lock so that call sites
/// read `lock.apply(&plan, step)`.
pub trait LockTransition {
    /// The lock after `step` of `plan` is committed: the step's change to revisions, tags,
    /// labels and colours; restart generations bumped for `step.restarts` (and their proxy
    /// set to the hop's version, their config to the plan's); `step.manual` workloads
    /// recorded on the hop's version and config, since the step's pull request asks a person
    /// to restart them before it merges; the step marked done in the upgrade in progress,
    /// which is dropped once every step is done.
    fn apply(&self, plan: &Plan, step: &Step) -> Lock;
    /// The change a step makes to revisions, tags, labels, colours and config hash, without
    /// restarts or bookkeeping: what the planner simulates to know the mesh after each step.
    fn transform(&self, gateways: &[PlannedGateway], step: &Step) -> Lock;
}

impl LockTransition for Lock {
    fn apply(&self, plan: &Plan, step: &Step) -> Lock {
        let mut next = self.transform(&plan.gateways, step);
        // Every step renders istiod with the spec's config, so whatever restarts in any
        // step of the plan restarts onto it.
        let config = |key: &String| {
            plan.config.as_ref().map(|c| {
                if step.gateway_restarts.contains(key) {
                    c.gateways.clone()
                } else {
                    c.workloads.clone()
                }
            })
        };
        for key in &step.restarts {
            let w = next.workloads.entry(key.clone()).or_default();
            w.generation += 1;
            w.proxy = step.hop.clone();
            w.config = config(key);
        }
        for key in step.manual_workloads() {
            let w = next.workloads.entry(key.clone()).or_default();
            w.proxy = step.hop.clone();
            w.config = config(key);
        }
        record_gateway_colours(self, &mut next, plan);
        let same_plan = |u: &UpgradeState| {
            u.to == plan.to
                && u.steps.len() == plan.steps.len()
                && u.steps
                    .iter()
                    .zip(&plan.steps)
                    .all(|(a, b)| a.name == b.name)
        };
        let mut record = match &self.upgrade {
            Some(u) if same_plan(u) => u.clone(),
            _ => UpgradeState {
                from: plan.from.clone(),
                to: plan.to.clone(),
                hops: plan.hops.clone(),
                steps: plan
                    .steps
                    .iter()
                    .map(|s| StepState {
                        name: s.name.clone(),
                        hop: s.hop.clone(),
                        done: s.done,
                    })
                    .collect(),
            },
        };
        for s in &mut record.steps {
            if s.name == step.name {
                s.done = true;
            }
        }
        next.upgrade = if record.steps.iter().all(|s| s.done) {
            None
        } else {
            Some(record)
        };
        next
    }

    fn transform(&self, gateways: &[PlannedGateway], step: &Step) -> Lock {
        let mut next = self.clone();
        let rev = &step.revision;
        match step.kind {
            StepKind::Install => {
                set_revision(&mut next, rev, &step.hop);
                for g in gateways {
                    match next.gateways.get_mut(&g.key) {
                        None => {
                            next.gateways.insert(
                                g.key.clone(),
                                GatewayState {
                                    colours: BTreeMap::from([(
                                        FIRST_COLOUR.to_string(),
                                        rev.clone(),
                                    )]),
                                    active: FIRST_COLOUR.to_string(),
                                },
                            );
                        }
                        Some(state) if g.strategy == GatewayStrategy::BlueGreen => {
                            if state.colours.get(&state.active) != Some(rev) {
                                let idle = other_colour(&state.active).to_string();
                                state.colours.insert(idle, rev.clone());
                            }
                        }
                        // An in-place gateway moves in the `gateway` step.
                        Some(_) => {}
                    }
                }
            }
            StepKind::Wave | StepKind::Tag => {
                for ns in &step.namespaces {
                    next.namespaces.insert(ns.clone(), step.label.clone());
                }
            }
            StepKind::Gateway => {
                for g in gateways {
                    let Some(state) = next.gateways.get_mut(&g.key) else {
                        continue;
                    };
                    match g.strategy {
                        GatewayStrategy::BlueGreen => {
                            if let Some((colour, _)) = state.colours.iter().find(|(_, r)| *r == rev)
                            {
                                state.active = colour.clone();
                            }
                        }
                        GatewayStrategy::InPlace => {
                            state.colours.insert(state.active.clone(), rev.clone());
                        }
                    }
                }
            }
            StepKind::Cleanup => {
                // Tags the spec dropped go with the old revision; the others (set below from
                // `step.tags`) move now if they have not yet.
                next.tags.retain(|t, _| step.tags.contains(t));
                next.revisions.retain(|r| &r.name == rev);
                next.gateways
                    .retain(|key, _| gateways.iter().any(|g| &g.key == key));
                for state in next.gateways.values_mut() {
                    let has_new = state.colours.values().any(|r| r == rev);
                    state.colours.retain(|_, r| r == rev);
                    if !has_new && !state.colours.contains_key(&state.active) {
                        // A gateway with no colour on the surviving revision was never given
                        // one (added to the spec mid-upgrade): keep it serving there. One that
                        // has a new colour but still selects the old one (traffic switched
                        // back by hand) loses its active colour: MP404 refuses that.
                        state.colours.insert(state.active.clone(), rev.clone());
                    }
                }
            }
            StepKind::Upgrade => {
                for r in &mut next.revisions {
                    r.version = step.hop.clone();
                }
            }
            StepKind::Release => {
                for ns in &step.namespaces {
                    next.namespaces.remove(ns);
                }
            }
            StepKind::Restart | StepKind::GatewayRestart => {}
        }
        for tag in &step.tags {
            next.tags.insert(tag.clone(), rev.clone());
        }
        if let Some(hash) = &step.config_hash {
            next.config_hash = Some(hash.clone());
        }
        next
    }
}

/// Gateway colours are meshplan's own Deployments (`Deployment/<ns>/<gateway>-<colour>`):
/// a colour created or moved to another revision by the step starts its pods on that
/// revision's version with the plan's config, so it is recorded like a restart (its
/// generation unchanged: the new pod template rolls it); a colour the step removes loses
/// its record.
fn record_gateway_colours(before: &Lock, next: &mut Lock, plan: &Plan) {
    for (gateway, before) in &before.gateways {
        for colour in before.colours.keys() {
            let kept = next
                .gateways
                .get(gateway)
                .is_some_and(|g| g.colours.contains_key(colour));
            if !kept {
                next.workloads.remove(&colour_deployment(gateway, colour));
            }
        }
    }
    let mut started = Vec::new();
    for (gateway, state) in &next.gateways {
        for (colour, revision) in &state.colours {
            let before = before
                .gateways
                .get(gateway)
                .and_then(|g| g.colours.get(colour));
            if before != Some(revision) {
                let version = next.revision_version(revision).map(str::to_string);
                started.push((colour_deployment(gateway, colour), version));
            }
        }
    }
    for (key, version) in started {
        let w = next.workloads.entry(key).or_default();
        if let Some(version) = version {
            w.proxy = version;
        }
        w.config = plan.config.as_ref().map(|c| c.gateways.clone());
    }
}

fn set_revision(lock: &mut Lock, name: &str, version: &str) {
    match lock.revisions.iter_mut().find(|r| r.name == name) {
        Some(r) => r.version = version.to_string(),
        None => {
            lock.revisions.push(RevisionState {
                name: name.to_string(),
                version: version.to_string(),
                installed_by: None,
            });
            lock.revisions.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
}

#[cfg(test)]
#[path = "transition_tests.rs"]
mod tests;
