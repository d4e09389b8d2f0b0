//! The plan: the ordered steps that take the mesh from what the lock records to what the
//! spec asks for, one reviewable pull request each. Pure: no I/O.
//!
//! [`plan`] decides the hops (versions passed through), the steps of each hop and the mesh
//! each step leaves behind ([`MeshView`]), by simulating the steps on the lock with
//! [`Lock::transform`] — the same function [`Lock::apply`] uses, so a plan and the locks its
//! steps produce cannot disagree. [`annotate`] then asks the facts which workloads each step
//! moves. Step naming and the rules are in `docs/lock.md`.

use crate::catalog::{Catalog, Version, parse_minor};
use crate::facts::{FactsBase, MeshView};
use crate::spec::{GatewayStrategy, Spec, Strategy};
use crate::state::{ConfigHash, FIRST_COLOUR, Lock, PlannedGateway, UpgradeState};
use serde::Serialize;
use std::collections::BTreeMap;

mod delivery;
pub mod operator;

pub use delivery::last_supported_minor;

/// What kind of change a step makes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Installs a revision (and the gateways' idle colour on it).
    #[default]
    Install,
    /// Moves one wave of namespaces to the new revision.
    Wave,
    /// Moves the revision tags the namespaces carry (all their namespaces at once).
    Tag,
    /// Switches the traffic Service to the new gateway colour (or upgrades an in-place
    /// gateway).
    Gateway,
    /// Removes the old revisions and colours.
    Cleanup,
    /// In-place strategy: upgrades the installed revision and restarts every proxy.
    Upgrade,
    /// Restarts one wave's injected workloads for a config change (no version change).
    Restart,
    /// Restarts the ingress gateways for a config change (`numTrustedProxies`).
    GatewayRestart,
    /// Stops managing namespaces the spec no longer lists: their `istio.io/rev` label (and
    /// the Namespace meshplan rendered for them) leaves the render. Restarts nothing. Like
    /// every applied step it also forgets workloads deleted from the manifests, and is
    /// planned alone for them when nothing else is left ([`release_gone_workloads`]).
    Release,
}

/// Which injected workloads a step restarts even though their revision does not change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Bump {
    /// Only workloads whose injecting revision changes.
    #[default]
    None,
    /// Also every injected workload in the step's namespaces.
    Namespaces,
    /// Also every injected workload.
    All,
    /// Also every injected workload in the step's namespaces and in namespaces the spec
    /// does not list (injected by labels of their own, so in no wave): the last restart
    /// step of a config change, so that no injected workload keeps the old config.
    NamespacesAndUnmanaged,
}

/// One step: one pull request. Serialized fields are the JSON contract of DESIGN.md.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Step {
    /// `release`, `install`, `wave <name>`, `tag <tag>`, `gateway`, `cleanup`, `upgrade`,
    /// `restart <wave>`, `gateway-restart`; prefixed `<hop>: ` when the plan has several hops.
    pub name: String,
    /// The version of the hop the step belongs to.
    pub hop: String,
    /// Already applied (recorded in the lock).
    pub done: bool,
    /// Workloads whose restart annotation the step bumps, as `Kind/namespace/name`.
    pub restarts: Vec<String>,
    /// Workloads a person must restart, as `Kind/namespace/name`, then the actions a
    /// person must take in the step, as sentences (an adopted install meshplan cannot
    /// retire itself, see `cli/retire.rs`); [`Step::manual_workloads`] keeps the keys.
    pub manual: Vec<String>,
    /// Workloads injected before the step by a revision the step removes, with that
    /// revision, sorted by key: a pod pinning the old revision with its own `istio.io/rev`
    /// keeps it through every wave, so only a policy (MP202) can stop its cleanup.
    #[serde(skip)]
    pub stranded: Vec<(String, String)>,
    /// The kind of change.
    #[serde(skip)]
    pub kind: StepKind,
    /// Namespaces the step relabels (wave and tag steps), restarts (restart steps), in wave
    /// order, or releases (release steps), sorted.
    #[serde(skip)]
    pub namespaces: Vec<String>,
    /// The mesh after the step.
    #[serde(skip)]
    pub view: MeshView,
    /// The revision the step installs, moves namespaces or tags to, or keeps at cleanup.
    #[serde(skip)]
    pub revision: String,
    /// The `istio.io/rev` value `namespaces` get: the revision, or the tag they carry.
    #[serde(skip)]
    pub label: String,
    /// Revision tags the step points at `revision`.
    #[serde(skip)]
    pub tags: Vec<String>,
    /// Restarts without a revision change.
    #[serde(skip)]
    pub bump: Bump,
    /// Gateway Deployments (`Deployment/<ns>/<gateway>-<colour>`) the step restarts; they are
    /// not inventory objects, so [`annotate`] adds them to `restarts` as they are.
    #[serde(skip)]
    pub gateway_restarts: Vec<String>,
    /// The restart-relevant config the lock records once this step is applied (set on the
    /// last step of a plan).
    #[serde(skip)]
    pub config_hash: Option<ConfigHash>,
}

impl Step {
    /// The workload keys of `manual`, without the sentences of manual actions: a
    /// Kubernetes kind or name never contains a space, a sentence always does.
    pub fn manual_workloads(&self) -> impl Iterator<Item = &String> {
        self.manual.iter().filter(|m| !m.contains(' '))
    }
}

/// The kinds of problem the planner can meet. Each falls under one rule
/// ([`ProblemKind::rule`]), whose policy turns it into a finding: no planner problem goes
/// unreported (a test walks [`ProblemKind::all`] end to end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The target is older than the version in use, without `upgrade.allowDowngrade`.
    Downgrade,
    /// The target has another major version than the version in use.
    MajorChange,
    /// The version in use or the target cannot be parsed into an ordered version.
    UnorderedVersions,
    /// An intermediate minor the hops need is missing from the release catalogue.
    MissingMinor,
    /// An intermediate hop does not support the spec's Kubernetes version.
    IntermediateKubernetes,
    /// A step renders a version the spec's delivery cannot install (`istio-operator` from
    /// Istio 1.24 on).
    DeliveryUnsupported,
}

impl ProblemKind {
    /// Every kind, in declaration order. The `match` has no wildcard, so a new kind does not
    /// compile until it is chained here (and then mapped to a rule in [`ProblemKind::rule`]).
    pub fn all() -> Vec<ProblemKind> {
        let mut out = Vec::new();
        let mut next = Some(ProblemKind::Downgrade);
        while let Some(kind) = next {
            out.push(kind);
            next = match kind {
                ProblemKind::Downgrade => Some(ProblemKind::MajorChange),
                ProblemKind::MajorChange => Some(ProblemKind::UnorderedVersions),
                ProblemKind::UnorderedVersions => Some(ProblemKind::MissingMinor),
                ProblemKind::MissingMinor => Some(ProblemKind::IntermediateKubernetes),
                ProblemKind::IntermediateKubernetes => Some(ProblemKind::DeliveryUnsupported),
                ProblemKind::DeliveryUnsupported => None,
            };
        }
        out
    }

    /// The rule whose policy reports it: MP102 (downgrade), MP103 (Kubernetes), MP108 (no
    /// upgrade path), MP110 (delivery).
    pub fn rule(self) -> &'static str {
        match self {
            ProblemKind::Downgrade => "MP102",
            ProblemKind::IntermediateKubernetes => "MP103",
            ProblemKind::MajorChange
            | ProblemKind::UnorderedVersions
            | ProblemKind::MissingMinor => "MP108",
            ProblemKind::DeliveryUnsupported => "MP110",
        }
    }
}

/// Something the planner cannot honour: a finding for the policy layer (exit 1), not an
/// input error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanProblem {
    /// The rule it falls under ([`ProblemKind::rule`]).
    pub rule: String,
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// What is wrong and what to do, in words.
    pub message: String,
    /// The hop concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hop: Option<String>,
    /// Kubernetes minors that would work for the hop (MP103).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kubernetes: Vec<String>,
    /// The first remaining step that meets it, when the plan keeps its steps (MP110).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The newest version the spec's delivery can install, from the catalogue (MP110).
    #[serde(rename = "lastSupported", skip_serializing_if = "Option::is_none")]
    pub last_supported: Option<String>,
}

/// The whole plan. Serialized fields are the `plan` object of DESIGN.md.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// The version installed now (null for a new cluster).
    pub from: Option<String>,
    /// The spec's version.
    pub to: String,
    /// Versions passed through: `from`, the intermediate hops, `to` (only `to` for a new
    /// cluster or when no version changes).
    pub hops: Vec<String>,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// What the planner could not honour; serialized only when there is something.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<PlanProblem>,
    /// The mesh before the first step not done: the lock's.
    #[serde(skip)]
    pub start: MeshView,
    /// The spec's gateways, for [`Lock::apply`].
    #[serde(skip)]
    pub gateways: Vec<PlannedGateway>,
    /// The restart-relevant config every step renders (the spec's), which [`Lock::apply`]
    /// records on what a step restarts.
    #[serde(skip)]
    pub config: Option<ConfigHash>,
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

    /// Steps not yet done.
    pub fn remaining(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| !s.done)
    }
}

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
    let mut view = lock.view();
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

/// The most minors one hop may move: 2 for a canary hop, 1 in place, tightened by
/// `upgrade.maxMinorSkip`.
pub fn max_skip(spec: &Spec) -> u32 {
    let upgrade = &spec.spec.upgrade;
    let istio_limit = match upgrade.strategy {
        Strategy::Revision => 2,
        Strategy::InPlace => 1,
    };
    upgrade.max_minor_skip.clamp(1, istio_limit)
}

/// The hops from `current` to the spec's version: `[current, intermediate…, target]`, or
/// `[target]` when nothing about the version needs to change. An error is a problem that
/// stops the plan (a refused downgrade, a major change, an unknown intermediate minor).
fn route(
    current: &str,
    spec: &Spec,
    lock: &Lock,
    catalog: &Catalog,
) -> Result<Vec<String>, Box<PlanProblem>> {
    let target = &spec.spec.istio.version;
    // Boxed: a problem is rare and larger than the hops.
    let problem = |kind: ProblemKind, message: String| {
        Box::new(PlanProblem {
            rule: kind.rule().to_string(),
            kind,
            message,
            hop: None,
            kubernetes: Vec::new(),
            step: None,
            last_supported: None,
        })
    };
    let (Ok(from), Ok(to)) = (Version::parse(current), Version::parse(target)) else {
        return Err(problem(
            ProblemKind::UnorderedVersions,
            format!("cannot order versions {current} and {target}: no upgrade path can be planned"),
        ));
    };
    if from == to {
        let settled = match spec.spec.upgrade.strategy {
            Strategy::Revision => {
                lock.revisions.len() == 1 && lock.revision_version(&spec.revision()) == Some(target)
            }
            Strategy::InPlace => lock.revisions.iter().all(|r| &r.version == target),
        };
        return Ok(if settled {
            vec![target.clone()]
        } else {
            vec![current.to_string(), target.clone()]
        });
    }
    if to < from && !spec.spec.upgrade.allow_downgrade {
        return Err(problem(
            ProblemKind::Downgrade,
            format!(
                "{target} is older than the installed {current}: a downgrade; set upgrade.allowDowngrade: true to plan it"
            ),
        ));
    }
    if to.major != from.major {
        return Err(problem(
            ProblemKind::MajorChange,
            format!(
                "no upgrade path from {current} to {target}: Istio upgrades within one major version only"
            ),
        ));
    }
    let limit = max_skip(spec);
    let mut hops = vec![current.to_string()];
    let mut minor = from.minor;
    while minor.abs_diff(to.minor) > limit {
        minor = if to.minor > minor {
            minor + limit
        } else {
            minor - limit
        };
        let Some(v) = catalog.latest_patch(from.major, minor) else {
            return Err(problem(
                ProblemKind::MissingMinor,
                format!(
                    "the release catalogue has no release of {}.{minor}, needed as an intermediate hop from {current} to {target}; pass a newer --catalog",
                    from.major
                ),
            ));
        };
        hops.push(v.to_string());
    }
    hops.push(target.clone());
    Ok(hops)
}

/// MP103 problems for intermediate hops the spec's Kubernetes version does not support,
/// each saying which Kubernetes versions would work and whether to upgrade Kubernetes before
/// or after the hop. The target itself is judged by the MP103 policy from the facts.
fn kubernetes_problems(
    spec: &Spec,
    catalog: &Catalog,
    hops: &[String],
    upgrade: bool,
) -> Vec<PlanProblem> {
    let k8s = &spec.spec.kubernetes_version;
    let Some(want) = parse_minor(k8s) else {
        return Vec::new();
    };
    let intermediate = match (upgrade, hops) {
        (true, [_, middle @ .., _]) => middle,
        _ => &[],
    };
    let mut out = Vec::new();
    for hop in intermediate {
        let Ok(v) = Version::parse(hop) else { continue };
        let minor = v.minor_string();
        if catalog.supports_kubernetes(&minor, k8s) != Some(false) {
            continue;
        }
        let supported: Vec<String> = catalog
            .minor(&minor)
            .and_then(|m| m.k8s_supported.clone())
            .unwrap_or_default();
        let mut keys: Vec<(u32, u32)> = supported.iter().filter_map(|k| parse_minor(k)).collect();
        keys.sort();
        let (Some(low), Some(high)) = (keys.first(), keys.last()) else {
            continue;
        };
        let list = supported.join(", ");
        let message = if want > *high {
            format!(
                "intermediate hop {hop} does not support Kubernetes {k8s} (Istio {minor} supports {list}): make this hop while the cluster runs Kubernetes {}.{} or older, then upgrade Kubernetes to {k8s}",
                high.0, high.1
            )
        } else {
            format!(
                "intermediate hop {hop} does not support Kubernetes {k8s} (Istio {minor} supports {list}): upgrade Kubernetes to {}.{} or newer first",
                low.0, low.1
            )
        };
        out.push(PlanProblem {
            rule: ProblemKind::IntermediateKubernetes.rule().to_string(),
            kind: ProblemKind::IntermediateKubernetes,
            message,
            hop: Some(hop.clone()),
            kubernetes: supported,
            step: None,
            last_supported: None,
        });
    }
    out
}

/// A step with the fields every kind sets.
fn step(name: String, hop: &str, kind: StepKind, revision: &str) -> Step {
    Step {
        name,
        hop: hop.to_string(),
        kind,
        revision: revision.to_string(),
        ..Step::default()
    }
}

/// The first non-default revision tag of the spec: namespaces carry it instead of a
/// revision name, so an upgrade moves the tag rather than relabelling them.
fn namespace_tag(spec: &Spec) -> Option<String> {
    spec.spec
        .istio
        .revision_tags
        .iter()
        .find(|t| t.as_str() != "default")
        .cloned()
}

/// Every step the hops need, in order, before done-marking and simulation.
fn skeleton(spec: &Spec, lock: &Lock, running: bool, hops: &[String]) -> Vec<Step> {
    let istio = &spec.spec.istio;
    let waves = spec.waves();
    let tag = namespace_tag(spec);
    let tags = istio.revision_tags.clone();
    let target = &istio.version;
    let mut out = Vec::new();
    if !running {
        // A new cluster: install with the tags, then label the namespaces wave by wave.
        let revision = spec.revision();
        let label = tag.unwrap_or_else(|| revision.clone());
        let mut install = step("install".into(), target, StepKind::Install, &revision);
        install.tags = tags;
        out.push(install);
        for (wave, namespaces) in waves {
            let mut s = step(format!("wave {wave}"), target, StepKind::Wave, &revision);
            s.label = label.clone();
            s.namespaces = namespaces;
            out.push(s);
        }
        return out;
    }
    out.extend(release(spec, lock, hops));
    let in_place = spec.spec.upgrade.strategy == Strategy::InPlace;
    if let [only] = hops {
        // No version change: converge labels, then restarts for config changes.
        let revision = if in_place {
            in_place_revision(lock, spec)
        } else {
            spec.revision()
        };
        let label = tag.clone().unwrap_or_else(|| revision.clone());
        out.extend(label_waves(&waves, only, &revision, &label, &tags, |w| {
            format!("wave {w}")
        }));
        let want = ConfigHash::of(&istio.config);
        let have = lock.config_hash.as_ref();
        if have.is_some_and(|h| h.workloads != want.workloads) {
            let count = waves.len();
            for (k, (wave, namespaces)) in waves.iter().enumerate() {
                let mut s = step(
                    format!("restart {wave}"),
                    only,
                    StepKind::Restart,
                    &revision,
                );
                s.namespaces = namespaces.clone();
                s.bump = if k + 1 == count {
                    Bump::NamespacesAndUnmanaged
                } else {
                    Bump::Namespaces
                };
                out.push(s);
            }
            if waves.is_empty() {
                // No namespace is listed, yet some may be injected by their own labels.
                let mut s = step("restart all".into(), only, StepKind::Restart, &revision);
                s.bump = Bump::NamespacesAndUnmanaged;
                out.push(s);
            }
        }
        if have.is_some_and(|h| h.gateways != want.gateways) {
            let mut s = step(
                "gateway-restart".into(),
                only,
                StepKind::GatewayRestart,
                &revision,
            );
            s.gateway_restarts = gateway_deployments(spec, lock, |_| true);
            out.push(s);
        }
        return out;
    }
    let several = hops.len() > 2;
    for (i, hop) in hops.iter().enumerate().skip(1) {
        let name = |base: &str| {
            if several {
                format!("{hop}: {base}")
            } else {
                base.to_string()
            }
        };
        if in_place {
            let revision = in_place_revision(lock, spec);
            let mut s = step(name("upgrade"), hop, StepKind::Upgrade, &revision);
            s.bump = Bump::All;
            s.gateway_restarts = gateway_deployments(spec, lock, |_| true);
            out.push(s);
            if i + 1 == hops.len() {
                // Labels and tags the spec changed along with the version; left out of a
                // fresh plan when nothing changed.
                let label = tag.clone().unwrap_or_else(|| revision.clone());
                out.extend(label_waves(&waves, hop, &revision, &label, &tags, |w| {
                    name(&format!("wave {w}"))
                }));
            }
            continue;
        }
        let last = i + 1 == hops.len();
        let revision = if last {
            spec.revision()
        } else {
            spec.revision_for(hop)
        };
        out.push(step(name("install"), hop, StepKind::Install, &revision));
        match &tag {
            Some(t) => {
                let mut s = step(name(&format!("tag {t}")), hop, StepKind::Tag, &revision);
                s.label = t.clone();
                s.namespaces = waves.iter().flat_map(|(_, n)| n.clone()).collect();
                s.tags = tags.clone();
                out.push(s);
            }
            None => {
                let count = waves.len();
                for (k, (wave, namespaces)) in waves.iter().enumerate() {
                    let mut s = step(
                        name(&format!("wave {wave}")),
                        hop,
                        StepKind::Wave,
                        &revision,
                    );
                    s.label = revision.clone();
                    s.namespaces = namespaces.clone();
                    if k + 1 == count {
                        // Tags nobody's namespace carries (e.g. `default`) follow the last wave.
                        s.tags = tags.clone();
                    }
                    out.push(s);
                }
            }
        }
        if !spec.spec.gateways.is_empty() {
            let mut s = step(name("gateway"), hop, StepKind::Gateway, &revision);
            s.gateway_restarts =
                gateway_deployments(spec, lock, |g| g.strategy == GatewayStrategy::InPlace);
            out.push(s);
        }
        let mut cleanup = step(name("cleanup"), hop, StepKind::Cleanup, &revision);
        cleanup.tags = tags.clone();
        out.push(cleanup);
    }
    out
}

/// The `release` step of namespaces the lock labels but the spec no longer lists, if any.
/// It comes first: meshplan stops steering a namespace before it moves anything else, so no
/// later step (a cleanup) is judged against a label nobody wants any more.
fn release(spec: &Spec, lock: &Lock, hops: &[String]) -> Option<Step> {
    let listed: std::collections::BTreeSet<&str> = spec
        .spec
        .namespaces
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    let gone: Vec<String> = lock
        .namespaces
        .keys()
        .filter(|n| !listed.contains(n.as_str()))
        .cloned()
        .collect();
    if gone.is_empty() {
        return None;
    }
    // The first hop the plan makes (the only one when no version changes).
    let hop = hops.get(1).or(hops.first())?;
    let name = if hops.len() > 2 {
        format!("{hop}: {RELEASE}")
    } else {
        RELEASE.to_string()
    };
    let mut s = step(name, hop, StepKind::Release, "");
    s.namespaces = gone;
    Some(s)
}

/// One `Wave` step per wave labelling its namespaces `label` and pointing `tags` at
/// `revision`: what a cluster needs when labels change without a version change.
fn label_waves(
    waves: &[(String, Vec<String>)],
    hop: &str,
    revision: &str,
    label: &str,
    tags: &[String],
    name: impl Fn(&str) -> String,
) -> Vec<Step> {
    waves
        .iter()
        .map(|(wave, namespaces)| {
            let mut s = step(name(wave), hop, StepKind::Wave, revision);
            s.label = label.to_string();
            s.namespaces = namespaces.clone();
            s.tags = tags.to_vec();
            s
        })
        .collect()
}

/// The revision an in-place upgrade keeps: the newest the lock has (namespaces' labels name
/// it, so its name stays), or the spec's when none is installed.
fn in_place_revision(lock: &Lock, spec: &Spec) -> String {
    lock.revisions
        .iter()
        .filter_map(|r| Version::parse(&r.version).ok().map(|v| (v, &r.name)))
        .max()
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| spec.revision())
}

/// `Deployment/<ns>/<gateway>-<colour>` for every colour the lock has of the spec's gateways
/// that `pick` selects (the first colour when the lock has none yet).
fn gateway_deployments(
    spec: &Spec,
    lock: &Lock,
    pick: impl Fn(&crate::spec::Gateway) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for g in spec.spec.gateways.iter().filter(|g| pick(g)) {
        let key = format!("{}/{}", g.namespace, g.name);
        let colours: Vec<String> = match lock.gateways.get(&key) {
            Some(state) => state.colours.keys().cloned().collect(),
            None => vec![FIRST_COLOUR.to_string()],
        };
        for c in colours {
            out.push(crate::state::colour_deployment(&key, &c));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Gives a plan with nothing left to do a `release` step when the lock still records
/// workloads deleted from the manifests (`gone`): their restart patches must leave the
/// render, since a Kustomize patch without its object breaks the build, and only an applied
/// step writes the render. A plan with steps left needs none: every applied step forgets
/// them (`Lock::forget_workloads`).
pub fn release_gone_workloads(plan: &mut Plan, gone: bool) {
    if !gone || plan.remaining().next().is_some() {
        return;
    }
    // The version the mesh stays on: the only hop of a settled plan, the current version of
    // a plan a problem stopped.
    let hop = plan.hops.first().unwrap_or(&plan.to).clone();
    let mut s = step(RELEASE.to_string(), &hop, StepKind::Release, "");
    s.view = plan.start.clone();
    plan.steps.push(s);
}

/// Fills each remaining step's `restarts` and `manual` lists: a workload moves in a step
/// when the revision that would inject it differs before and after the step, or when the
/// step bumps restarts without a revision change (in-place upgrades, config changes). The
/// first remaining step starts from the lock's view; done steps keep empty lists. Asks the
/// base for each workload's injecting revision per step ([`FactsBase::revisions_at`]), so
/// nothing per workload is cloned.
pub fn annotate(plan: &mut Plan, base: &FactsBase) {
    let mut before = base.revisions_at(&plan.start);
    for step in &mut plan.steps {
        if step.done {
            continue;
        }
        let after = base.revisions_at(&step.view);
        let (mut restarts, manual) = moved(&before, &after, step);
        for g in &step.gateway_restarts {
            if !restarts.contains(g) {
                restarts.push(g.clone());
            }
        }
        step.restarts = restarts;
        step.manual = manual;
        step.stranded = stranded(&before, &step.view);
        before = after;
    }
}

/// Workloads a step moves, split into those a restart bump handles and those a person must
/// restart, sorted by key. Both lists come from the same base, so they are index-aligned. A
/// tag step lists them in wave order (its namespaces are in wave order).
fn moved(
    before: &[(&str, bool, Option<String>)],
    after: &[(&str, bool, Option<String>)],
    step: &Step,
) -> (Vec<String>, Vec<String>) {
    let position: BTreeMap<&str, usize> = step
        .namespaces
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let bumped = |ns: &str| match step.bump {
        Bump::None => false,
        Bump::All => true,
        Bump::Namespaces => position.contains_key(ns),
        Bump::NamespacesAndUnmanaged => {
            position.contains_key(ns) || !step.view.managed_namespaces.contains_key(ns)
        }
    };
    let mut restarts = Vec::new();
    let mut manual = Vec::new();
    for ((_, _, b), (key, restartable, a)) in before.iter().zip(after) {
        if a.is_none() {
            continue;
        }
        let ns = key_namespace(key);
        if a != b || bumped(ns) {
            let rank = position.get(ns).copied().unwrap_or(usize::MAX);
            if *restartable {
                restarts.push((rank, (*key).to_string()));
            } else {
                manual.push((rank, (*key).to_string()));
            }
        }
    }
    let order = |v: &mut Vec<(usize, String)>| {
        if step.kind == StepKind::Tag {
            v.sort();
        } else {
            v.sort_by(|a, b| a.1.cmp(&b.1));
        }
    };
    order(&mut restarts);
    order(&mut manual);
    let keys = |v: Vec<(usize, String)>| v.into_iter().map(|(_, k)| k).collect();
    (keys(restarts), keys(manual))
}

/// Workloads whose injecting revision in `before` is not installed in `after`, with that
/// revision, sorted by key.
fn stranded(before: &[(&str, bool, Option<String>)], after: &MeshView) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = before
        .iter()
        .filter_map(|(key, _, revision)| {
            let revision = revision.as_ref()?;
            (!after.revisions.contains_key(revision))
                .then(|| ((*key).to_string(), revision.clone()))
        })
        .collect();
    out.sort();
    out
}

/// The namespace of a `Kind/namespace/name` key (empty for `Kind/name`).
fn key_namespace(key: &str) -> &str {
    let mut parts = key.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(ns), Some(_)) => ns,
        _ => "",
    }
}

#[cfg(test)]
mod tests;
