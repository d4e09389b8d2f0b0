//! `meshplan.lock`: what the last committed render deployed — installed revisions, tags,
//! namespace labels, gateway colours, every workload's restart generation and proxy version,
//! the hash of restart-relevant config, and the upgrade in progress. The planner starts from
//! it and `plan::LockTransition::apply` produces the next one, so a plan can be resumed one pull request at
//! a time. Written only by meshplan, in one canonical YAML form (sorted maps, no timestamps),
//! so two renders of the same state are byte-identical. The format is in `docs/lock.md`.

use crate::diagnostic::ObjectRef;
use crate::spec::{GatewayStrategy, IstioConfig};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `apiVersion` of the lock this meshplan reads and writes.
pub const API_VERSION: &str = "meshplan.dev/v1alpha1";
/// `kind` of the lock.
pub const KIND: &str = "Lock";
/// File name of the lock inside `spec.output`.
pub const LOCK_FILE: &str = "meshplan.lock";

/// The lock could not be used: unreadable, malformed, of an unknown version, or written for
/// another cluster. The user's input, exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct StateError {
    /// The lock file.
    pub path: PathBuf,
    /// 1-based line, 0 when unknown (e.g. the file cannot be read).
    pub line: u64,
    /// What was wrong.
    pub message: String,
}

/// One installed istiod revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionState {
    /// Revision name, e.g. `1-24-6`.
    pub name: String,
    /// Istio version it runs, e.g. `1.24.6`.
    pub version: String,
    /// For a revision `meshplan adopt` took over: the object of the manifests that installs
    /// it (meshplan does not render it; the cleanup that retires it deletes that object).
    /// Absent for the revisions meshplan installed, and in locks written before adopt.
    #[serde(
        default,
        rename = "installedBy",
        skip_serializing_if = "Option::is_none"
    )]
    pub installed_by: Option<ObjectOrigin>,
}

/// An object of the user's manifests that `meshplan adopt` took over: where it is defined.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectOrigin {
    /// Its file, relative to `-C DIR` when adopt ran.
    pub file: String,
    /// Its kind, e.g. `HelmRelease`.
    pub kind: String,
    /// Its namespace (empty for cluster-scoped kinds).
    #[serde(default)]
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl ObjectOrigin {
    /// Whether it is the object `kind`/`namespace`/`name`.
    pub fn is(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.kind == kind && self.namespace == namespace && self.name == name
    }
}

/// One ingress gateway: its colours and which one the traffic Service selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayState {
    /// Colour (`blue`, `green`) → the revision that colour's Deployment runs on.
    pub colours: BTreeMap<String, String>,
    /// The colour the traffic Service selects.
    pub active: String,
}

/// One workload's restart history as meshplan bumped it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadState {
    /// How many times meshplan bumped its restart annotation
    /// (`meshplan.dev/restarted-for: <revision>.<generation>`).
    pub generation: u64,
    /// The Istio version its proxy was last restarted onto.
    pub proxy: String,
    /// The part of [`ConfigHash`] that restarts it (`workloads` for a workload, `gateways`
    /// for a gateway Deployment) as it was when it was last restarted. Absent in locks
    /// written before meshplan recorded it: then the lock's `configHash` stands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
}

/// Hashes of the settings whose change restarts proxies, split by what they restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigHash {
    /// `prometheusMerge` and `compatibilityVersion`: every injected workload restarts.
    pub workloads: String,
    /// `numTrustedProxies`: only the ingress gateways restart.
    pub gateways: String,
}

impl ConfigHash {
    /// The hashes of a spec's `istio.config`: FNV-1a 64 of a canonical `key=value` text, so
    /// they are the same on every machine and every run.
    pub fn of(config: &IstioConfig) -> ConfigHash {
        let workloads = format!(
            "prometheusMerge={}\ncompatibilityVersion={}\n",
            config.prometheus_merge,
            config.compatibility_version.as_deref().unwrap_or("")
        );
        let gateways = format!("numTrustedProxies={}\n", config.num_trusted_proxies);
        ConfigHash {
            workloads: fnv1a(&workloads),
            gateways: fnv1a(&gateways),
        }
    }
}

/// FNV-1a 64-bit of `text`, as 16 hex digits.
fn fnv1a(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// One step of the upgrade in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepState {
    /// The step's name as the plan gives it (unique in the upgrade).
    pub name: String,
    /// The version of its hop.
    pub hop: String,
    /// Applied and committed.
    pub done: bool,
}

/// The upgrade in progress: the plan as it was when its first step was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeState {
    /// Version installed when it began (absent for a new cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Target version.
    pub to: String,
    /// Versions passed through (as `Plan.hops`).
    pub hops: Vec<String>,
    /// Every step in order.
    pub steps: Vec<StepState>,
}

/// A gateway as the planner and `plan::LockTransition::apply` need it: where it lives and how it upgrades.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedGateway {
    /// `namespace/name`, the key in [`Lock::gateways`].
    pub key: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name (Deployments are `<name>-<colour>`).
    pub name: String,
    /// Blue-green or in place.
    pub strategy: GatewayStrategy,
}

/// The workload key of a gateway colour's Deployment, `Deployment/<namespace>/<name>-<colour>`,
/// for a gateway keyed `namespace/name` as in [`Lock::gateways`]: meshplan renders it, so the
/// lock records its restarts under that key like any workload's.
pub fn colour_deployment(gateway: &str, colour: &str) -> String {
    colour_deployment_ref(gateway, colour).key()
}

/// The Deployment of colour `colour` of gateway `namespace/name`: `<name>-<colour>`, an
/// `apps/v1` Deployment meshplan renders beside the gateway.
pub fn colour_deployment_ref(gateway: &str, colour: &str) -> ObjectRef {
    let (namespace, name) = gateway.split_once('/').unwrap_or(("", gateway));
    ObjectRef {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: namespace.to_string(),
        name: format!("{name}-{colour}"),
    }
}

/// The colour a new gateway starts with, and the only colour of an in-place gateway.
pub const FIRST_COLOUR: &str = "blue";

/// The other colour of a blue-green pair.
pub fn other_colour(colour: &str) -> &'static str {
    if colour == "blue" { "green" } else { "blue" }
}

/// The whole lock. Field order is the YAML order; every map is sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    /// `meshplan.dev/v1alpha1`.
    pub api_version: String,
    /// `Lock`.
    pub kind: String,
    /// The cluster: the spec's `metadata.name`.
    pub cluster: String,
    /// Installed revisions, sorted by name.
    pub revisions: Vec<RevisionState>,
    /// Revision tags: tag → revision.
    pub tags: BTreeMap<String, String>,
    /// Managed namespaces labelled so far: namespace → `istio.io/rev` value.
    pub namespaces: BTreeMap<String, String>,
    /// Gateways keyed `namespace/name`.
    pub gateways: BTreeMap<String, GatewayState>,
    /// Workloads meshplan restarted, keyed `Kind/namespace/name`.
    pub workloads: BTreeMap<String, WorkloadState>,
    /// Hashes of restart-relevant config as last deployed (absent before the first step).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<ConfigHash>,
    /// The upgrade in progress (absent when none is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeState>,
    /// Installation objects `meshplan adopt` took over that install no revision (the `base`
    /// release, gateway releases), sorted; the adopted revisions record theirs in
    /// `installedBy`. Absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<ObjectOrigin>,
    /// Revisions the last applied step removed from the render that their operator deletes
    /// by itself once unused (`delivery: sail`, [`operator`]). Absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operator_deletes: Vec<OperatorDeletion>,
    /// Every file meshplan rendered into `spec.output` with this lock (path relative to
    /// `spec.output`, `/`-separated; the lock itself aside) → `sha256:<hex>` of its bytes:
    /// what MP502 compares the committed files with. Empty in locks written before meshplan
    /// recorded digests; the drift check then re-renders the lock (docs/lock.md).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
}

/// The digest the lock records for a rendered file: `sha256:` and 64 lowercase hex digits.
pub fn file_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Where the lock of a spec lives: `<spec dir>/<spec.output>/meshplan.lock`.
pub fn lock_path(spec_dir: &Path, output: &str) -> PathBuf {
    spec_dir.join(output).join(LOCK_FILE)
}

impl Lock {
    /// The lock of a cluster where meshplan has deployed nothing yet.
    pub fn empty(cluster: &str) -> Lock {
        Lock {
            api_version: API_VERSION.to_string(),
            kind: KIND.to_string(),
            cluster: cluster.to_string(),
            revisions: Vec::new(),
            tags: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            gateways: BTreeMap::new(),
            workloads: BTreeMap::new(),
            config_hash: None,
            upgrade: None,
            files: BTreeMap::new(),
            adopted: Vec::new(),
            operator_deletes: Vec::new(),
        }
    }

    /// The canonical YAML text: keys in a fixed order, maps sorted, no timestamps.
    pub fn to_yaml(&self) -> String {
        let mut canonical = self.clone();
        canonical.revisions.sort_by(|a, b| a.name.cmp(&b.name));
        match serde_saphyr::to_string(&canonical) {
            Ok(text) => text,
            // Only strings, integers, booleans and maps of them: the serializer has nothing
            // it could refuse. Should it ever, the error text makes the lock unparseable,
            // so the next load reports it instead of trusting a half-written state.
            Err(e) => format!("# meshplan could not serialize this lock: {e}\n"),
        }
    }

    /// A copy without the workloads (the part that grows with the inventory), for
    /// simulations that only need revisions, tags, labels and colours.
    pub fn without_workloads(&self) -> Lock {
        Lock {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            cluster: self.cluster.clone(),
            revisions: self.revisions.clone(),
            tags: self.tags.clone(),
            namespaces: self.namespaces.clone(),
            gateways: self.gateways.clone(),
            workloads: BTreeMap::new(),
            config_hash: self.config_hash.clone(),
            upgrade: self.upgrade.clone(),
            files: BTreeMap::new(),
            adopted: self.adopted.clone(),
            operator_deletes: self.operator_deletes.clone(),
        }
    }

    /// Whether this is the lock `meshplan adopt` writes, before any step: it records an
    /// adopted revision and no upgrade in progress or restart yet.
    pub fn is_adoption(&self) -> bool {
        self.revisions.iter().any(|r| r.installed_by.is_some())
            && self.upgrade.is_none()
            && self.config_hash.is_none()
            && self.workloads.values().all(|w| w.generation == 0)
    }

    /// Whether `meshplan adopt` took over the object `kind`/`namespace`/`name`: a revision's
    /// `installedBy` or an entry of `adopted`.
    pub fn adopted_object(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.revisions
            .iter()
            .filter_map(|r| r.installed_by.as_ref())
            .chain(&self.adopted)
            .any(|o| o.is(kind, namespace, name))
    }

    /// The workloads whose object is gone, sorted: those whose key fails
    /// `exists(kind, namespace, name)`, except the Deployments of the gateway colours the lock
    /// has (`Deployment/<ns>/<gateway>-<colour>`, rendered by meshplan, not in the inventory).
    /// One lookup per entry.
    pub fn gone_workloads(&self, exists: impl Fn(&str, &str, &str) -> bool) -> Vec<String> {
        let colours: std::collections::BTreeSet<String> = self
            .gateways
            .iter()
            .flat_map(|(key, g)| g.colours.keys().map(|c| colour_deployment(key, c)))
            .collect();
        self.workloads
            .keys()
            .filter(|key| {
                let found = crate::diagnostic::ObjectRef::split_key(key)
                    .is_some_and(|(kind, ns, name)| exists(kind, ns, name));
                !found && !colours.contains(key.as_str())
            })
            .cloned()
            .collect()
    }

    /// Forgets the workloads [`Lock::gone_workloads`] names.
    pub fn forget_workloads(&mut self, exists: impl Fn(&str, &str, &str) -> bool) {
        for key in self.gone_workloads(exists) {
            self.workloads.remove(&key);
        }
    }

    /// The version of revision `name`, if installed.
    pub fn revision_version(&self, name: &str) -> Option<&str> {
        self.revisions
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.version.as_str())
    }

    /// The revision a namespace label value names: a tag's target, or the value itself.
    pub fn resolve<'a>(&'a self, label: &'a str) -> &'a str {
        self.tags.get(label).map_or(label, String::as_str)
    }

    /// The revision meshplan's label on `namespace` resolves to, if meshplan labels it.
    pub fn namespace_revision(&self, namespace: &str) -> Option<&str> {
        self.namespaces
            .get(namespace)
            .map(|label| self.resolve(label))
    }
}

pub mod operator;
mod parse;
mod validate;

pub use operator::OperatorDeletion;
pub use validate::MAX_GENERATION;

#[cfg(test)]
pub(crate) mod tests;
