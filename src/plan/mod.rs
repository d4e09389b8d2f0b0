//! The plan: the ordered steps that take the mesh from what the lock records to what the
//! spec asks for, one reviewable pull request each. Pure: no I/O.
//!
//! Until the upgrade planner lands (lock + multi-hop), every cluster without a lock is
//! planned as a new one: `install`, then one step per wave, namespaces in no wave last.
//! [`plan`] decides the steps and the mesh each leaves behind ([`MeshView`]);
//! [`annotate`] then asks the facts which workloads each step moves.

use crate::facts::{FactsBase, MeshView};
use crate::spec::{LabelSelector, SelectorOperator, Spec};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What kind of change a step makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// Installs a revision (and the gateways on it).
    Install,
    /// Moves one wave of namespaces to the new revision.
    Wave,
    /// Switches the traffic Service to the new gateway colour.
    Gateway,
    /// Removes the old revision and colour.
    Cleanup,
}

/// One step: one pull request. Serialized fields are the JSON contract of DESIGN.md.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// `install`, `wave <name>`, `gateway`, `cleanup`.
    pub name: String,
    /// The version of the hop the step belongs to.
    pub hop: String,
    /// Already applied (recorded in the lock).
    pub done: bool,
    /// Workloads whose restart annotation the step bumps, as `Kind/namespace/name`.
    pub restarts: Vec<String>,
    /// Workloads a person must restart, as `Kind/namespace/name`.
    pub manual: Vec<String>,
    /// The kind of change.
    #[serde(skip)]
    pub kind: StepKind,
    /// Namespaces the step relabels (wave steps).
    #[serde(skip)]
    pub namespaces: Vec<String>,
    /// The mesh after the step.
    #[serde(skip)]
    pub view: MeshView,
}

/// The whole plan. Serialized fields are the `plan` object of DESIGN.md.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The version installed now (null for a new cluster).
    pub from: Option<String>,
    /// The spec's version.
    pub to: String,
    /// Versions passed through, ending with `to`.
    pub hops: Vec<String>,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// The mesh before the first step.
    #[serde(skip)]
    pub start: MeshView,
}

impl Plan {
    /// The first step not yet done.
    pub fn next_step(&self) -> Option<&Step> {
        self.steps.iter().find(|s| !s.done)
    }

    /// The mesh after every step.
    pub fn final_view(&self) -> &MeshView {
        self.steps.last().map(|s| &s.view).unwrap_or(&self.start)
    }

    /// The mesh after the next step (the current one when nothing remains).
    pub fn next_view(&self) -> &MeshView {
        self.next_step().map(|s| &s.view).unwrap_or(&self.start)
    }
}

/// Plans a new cluster: install the spec's revision, then move the namespaces wave by wave.
pub fn plan(spec: &Spec) -> Plan {
    let istio = &spec.spec.istio;
    let revision = spec.revision();
    let version = istio.version.clone();
    let start = MeshView {
        revisions: BTreeMap::new(),
        tags: BTreeMap::new(),
        managed_namespaces: spec
            .spec
            .namespaces
            .iter()
            .map(|n| (n.name.clone(), None))
            .collect(),
    };
    // Namespaces are labelled with a non-default tag when the spec has one, so that a later
    // upgrade moves the tag rather than relabelling every namespace.
    let label = istio
        .revision_tags
        .iter()
        .find(|t| t.as_str() != "default")
        .cloned()
        .unwrap_or_else(|| revision.clone());

    let mut view = start.clone();
    view.revisions.insert(revision.clone(), version.clone());
    for tag in &istio.revision_tags {
        view.tags.insert(tag.clone(), revision.clone());
    }
    let mut steps = vec![Step {
        name: "install".to_string(),
        hop: version.clone(),
        done: false,
        restarts: Vec::new(),
        manual: Vec::new(),
        kind: StepKind::Install,
        namespaces: Vec::new(),
        view: view.clone(),
    }];
    for (wave, namespaces) in waves(spec) {
        for ns in &namespaces {
            view.managed_namespaces
                .insert(ns.clone(), Some(label.clone()));
        }
        steps.push(Step {
            name: format!("wave {wave}"),
            hop: version.clone(),
            done: false,
            restarts: Vec::new(),
            manual: Vec::new(),
            kind: StepKind::Wave,
            namespaces,
            view: view.clone(),
        });
    }
    Plan {
        from: None,
        to: version.clone(),
        hops: vec![version],
        steps,
        start,
    }
}

/// The waves in order with their namespaces: each managed namespace goes to the first wave
/// that lists it or whose selector matches its spec labels; the rest form a last wave
/// (`unlisted`, or `all` when the spec defines no waves). Empty waves are dropped.
pub fn waves(spec: &Spec) -> Vec<(String, Vec<String>)> {
    let mut assigned = BTreeSet::new();
    let mut out = Vec::new();
    for wave in &spec.spec.upgrade.waves {
        let mut members = Vec::new();
        for ns in &spec.spec.namespaces {
            if assigned.contains(&ns.name) {
                continue;
            }
            let listed = wave.namespaces.iter().any(|n| n == &ns.name);
            let selected = wave
                .namespace_selector
                .as_ref()
                .is_some_and(|s| selector_matches(s, &ns.labels));
            if listed || selected {
                assigned.insert(ns.name.clone());
                members.push(ns.name.clone());
            }
        }
        if !members.is_empty() {
            out.push((wave.name.clone(), members));
        }
    }
    let rest: Vec<String> = spec
        .spec
        .namespaces
        .iter()
        .filter(|n| !assigned.contains(&n.name))
        .map(|n| n.name.clone())
        .collect();
    if !rest.is_empty() {
        let name = if spec.spec.upgrade.waves.is_empty() {
            "all"
        } else {
            "unlisted"
        };
        out.push((name.to_string(), rest));
    }
    out
}

/// Whether a label selector matches a label set (an empty selector matches everything).
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    selector
        .match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
        && selector.match_expressions.iter().all(|e| {
            let value = labels.get(&e.key);
            match e.operator {
                SelectorOperator::In => value.is_some_and(|v| e.values.contains(v)),
                SelectorOperator::NotIn => value.is_none_or(|v| !e.values.contains(v)),
                SelectorOperator::Exists => value.is_some(),
                SelectorOperator::DoesNotExist => value.is_none(),
            }
        })
}

/// Fills each step's `restarts` and `manual` lists: a workload moves in a step when the
/// revision that would inject it differs before and after the step.
pub fn annotate(plan: &mut Plan, base: &FactsBase) {
    let mut before = base.revisions_at(&plan.start);
    for step in &mut plan.steps {
        let after = base.revisions_at(&step.view);
        let (restarts, manual) = moved(&before, &after);
        step.restarts = restarts;
        step.manual = manual;
        before = after;
    }
}

/// Workloads whose injecting revision differs between two points, split into those a
/// restart bump handles and those a person must restart. Both lists come from the same
/// base, so they are index-aligned.
fn moved(
    before: &[(&str, bool, Option<String>)],
    after: &[(&str, bool, Option<String>)],
) -> (Vec<String>, Vec<String>) {
    let mut restarts = Vec::new();
    let mut manual = Vec::new();
    for ((_, _, b), (key, restartable, a)) in before.iter().zip(after) {
        if a.is_some() && a != b {
            if *restartable {
                restarts.push((*key).to_string());
            } else {
                manual.push((*key).to_string());
            }
        }
    }
    restarts.sort();
    manual.sort();
    (restarts, manual)
}
