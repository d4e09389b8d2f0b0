//! The plan's data: steps, their kinds and restart bumps, the problems that stop a plan.

use super::*;

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
    /// The spec's gateways, for [`LockTransition::apply`].
    #[serde(skip)]
    pub gateways: Vec<PlannedGateway>,
    /// The restart-relevant config every step renders (the spec's), which [`LockTransition::apply`]
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

    /// Indices in `steps` of the first `count` steps not done, in plan order: the steps a
    /// change applies or `check` judges.
    pub fn remaining_indices(&self, count: usize) -> Vec<usize> {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.done)
            .map(|(i, _)| i)
            .take(count)
            .collect()
    }
}
