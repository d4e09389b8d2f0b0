//! `meshplan.lock`: what the last committed render deployed — installed revisions, tags,
//! namespace labels, gateway colours, every workload's restart generation and proxy version,
//! the hash of restart-relevant config, and the upgrade in progress. The planner starts from
//! it and [`Lock::apply`] produces the next one, so a plan can be resumed one pull request at
//! a time. Written only by meshplan, in one canonical YAML form (sorted maps, no timestamps),
//! so two renders of the same state are byte-identical. The format is in `docs/lock.md`.

pub mod adopt;
pub mod operator;

pub use operator::OperatorDeletion;

use crate::facts::MeshView;
use crate::plan::{Plan, Step, StepKind};
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

/// A gateway as the planner and [`Lock::apply`] need it: where it lives and how it upgrades.
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
    let (namespace, name) = gateway.split_once('/').unwrap_or(("", gateway));
    format!("Deployment/{namespace}/{name}-{colour}")
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

/// Whether `text` is a digest as [`file_digest`] writes it.
fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Whether a recorded file path stays inside `spec.output` and is not the lock: relative,
/// `/`-separated, without empty, `.` or `..` segments.
fn is_output_path(path: &str) -> bool {
    path != LOCK_FILE
        && !path.contains('\\')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// The 1-based line of the first Git conflict marker in `text` (a line starting with
/// `<<<<<<< `, `=======` or `>>>>>>> `), if any: a lock merged with conflicts left in.
fn conflict_marker(text: &str) -> Option<u64> {
    text.lines().zip(1u64..).find_map(|(line, n)| {
        let marker = line.starts_with("<<<<<<<")
            || line.starts_with(">>>>>>>")
            || line.trim_end() == "=======";
        marker.then_some(n)
    })
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

    /// Reads the lock at `path` for cluster `cluster`: `None` when the file does not exist
    /// (nothing deployed yet); an error naming file and line when it cannot be read, does not
    /// parse, has an unknown `apiVersion`/`kind`, or belongs to another cluster.
    pub fn load(path: &Path, cluster: &str) -> Result<Option<Lock>, StateError> {
        match std::fs::read(path) {
            Ok(bytes) => Lock::parse_bytes(path, &bytes, cluster).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError {
                path: path.to_path_buf(),
                line: 0,
                message: format!("cannot read lock: {e}"),
            }),
        }
    }

    /// Parses lock text; `path` is only used in error messages.
    pub fn parse(path: &Path, text: &str, cluster: &str) -> Result<Lock, StateError> {
        let err = |line: u64, message: String| StateError {
            path: path.to_path_buf(),
            line,
            message,
        };
        if let Some(line) = conflict_marker(text) {
            return Err(err(
                line,
                "the lock holds Git conflict markers (a merge left unresolved): resolve it by taking the lock of the base branch, then run `meshplan commit` again to rebuild the step".to_string(),
            ));
        }
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! { max_depth: 16, max_aliases: 0, max_documents: 1 },
        };
        let raw: RawLock = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            let line = e.location().map_or(0, |l| l.line());
            let msg = serde_saphyr::MessageFormatter::format_message(
                &serde_saphyr::UserMessageFormatter,
                e.without_snippet(),
            )
            .into_owned();
            let line = validate::tab_line(text, line, &msg);
            err(line, format!("malformed lock: {msg}"))
        })?;
        if raw.api_version.value != API_VERSION {
            return Err(err(
                raw.api_version.referenced.line(),
                format!(
                    "unsupported lock apiVersion `{}` (this meshplan reads {API_VERSION})",
                    raw.api_version.value
                ),
            ));
        }
        if raw.kind.value != KIND {
            return Err(err(
                raw.kind.referenced.line(),
                format!("kind is `{}`, expected `{KIND}`", raw.kind.value),
            ));
        }
        if raw.cluster.value != cluster {
            return Err(err(
                raw.cluster.referenced.line(),
                format!(
                    "lock is for cluster `{}` but the spec's metadata.name is `{cluster}`",
                    raw.cluster.value
                ),
            ));
        }
        let mut revisions: Vec<RevisionState> = Vec::with_capacity(raw.revisions.len());
        for r in &raw.revisions {
            crate::catalog::Version::parse(&r.version.value)
                .map_err(|e| err(r.version.referenced.line(), e.to_string()))?;
            if revisions.iter().any(|x| x.name == r.name.value) {
                return Err(err(
                    r.name.referenced.line(),
                    format!("revision `{}` is listed twice", r.name.value),
                ));
            }
            revisions.push(RevisionState {
                name: r.name.value.clone(),
                version: r.version.value.clone(),
                installed_by: r.installed_by.clone(),
            });
        }
        revisions.sort_by(|a, b| a.name.cmp(&b.name));
        let installed = |rev: &str| revisions.iter().any(|r| r.name == rev);
        for (tag, target) in &raw.tags {
            if !installed(&target.value) {
                return Err(err(
                    target.referenced.line(),
                    format!(
                        "tag `{tag}` points at revision `{}`, which is not installed",
                        target.value
                    ),
                ));
            }
        }
        for (gateway, g) in &raw.gateways {
            for (colour, rev) in &g.colours {
                if !installed(&rev.value) {
                    return Err(err(
                        rev.referenced.line(),
                        format!(
                            "gateway `{gateway}` colour `{colour}` runs on revision `{}`, which is not installed",
                            rev.value
                        ),
                    ));
                }
            }
            // An active colour the gateway does not have is a well-formed lock whose traffic
            // Service selects nothing: MP401 (and MP404 when a step removed it) reports it at
            // the gateway, as a finding a reviewer can act on, rather than a load error.
        }
        for (file, digest) in &raw.files {
            if !is_output_path(file) {
                return Err(err(
                    digest.referenced.line(),
                    format!("file `{file}` is not a path inside spec.output"),
                ));
            }
            if !is_digest(&digest.value) {
                return Err(err(
                    digest.referenced.line(),
                    format!(
                        "file `{file}` has digest `{}`, expected sha256: and 64 hex digits",
                        digest.value
                    ),
                ));
            }
        }
        let lock = Lock {
            api_version: raw.api_version.value,
            kind: raw.kind.value,
            cluster: raw.cluster.value,
            revisions,
            tags: raw.tags.into_iter().map(|(k, v)| (k, v.value)).collect(),
            namespaces: raw.namespaces,
            gateways: raw
                .gateways
                .into_iter()
                .map(|(k, g)| {
                    let state = GatewayState {
                        colours: g.colours.into_iter().map(|(c, r)| (c, r.value)).collect(),
                        active: g.active.value,
                    };
                    (k, state)
                })
                .collect(),
            workloads: raw.workloads,
            config_hash: raw.config_hash,
            upgrade: raw.upgrade,
            files: raw.files.into_iter().map(|(k, v)| (k, v.value)).collect(),
            adopted: raw.adopted,
            operator_deletes: raw.operator_deletes,
        };
        validate::check(&lock, path, text)?;
        Ok(lock)
    }

    /// [`Lock::parse`] of raw bytes: text that is not UTF-8 is an error at its line.
    pub fn parse_bytes(path: &Path, bytes: &[u8], cluster: &str) -> Result<Lock, StateError> {
        let text = std::str::from_utf8(bytes).map_err(|e| StateError {
            path: path.to_path_buf(),
            line: validate::utf8_error_line(bytes, e.valid_up_to()),
            message: format!("the lock is not UTF-8 text: {e}"),
        })?;
        Lock::parse(path, text, cluster)
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

    /// The mesh as the lock records it, for the facts ([`crate::facts::FactsBase::at`]).
    /// Only namespaces meshplan has labelled appear; the planner adds the unlabelled ones.
    pub fn view(&self) -> MeshView {
        MeshView {
            revisions: self
                .revisions
                .iter()
                .map(|r| (r.name.clone(), r.version.clone()))
                .collect(),
            tags: self.tags.clone(),
            managed_namespaces: self
                .namespaces
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
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
                let mut parts = key.splitn(3, '/');
                let found = matches!((parts.next(), parts.next(), parts.next()),
                    (Some(kind), Some(ns), Some(name)) if exists(kind, ns, name));
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

    /// The lock after `step` of `plan` is committed: the step's change to revisions, tags,
    /// labels and colours; restart generations bumped for `step.restarts` (and their proxy
    /// set to the hop's version, their config to the plan's); `step.manual` workloads
    /// recorded on the hop's version and config, since the step's pull request asks a person
    /// to restart them before it merges; the step marked done in the upgrade in progress,
    /// which is dropped once every step is done.
    pub fn apply(&self, plan: &Plan, step: &Step) -> Lock {
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
        self.record_gateway_colours(&mut next, plan);
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

    /// Gateway colours are meshplan's own Deployments (`Deployment/<ns>/<gateway>-<colour>`):
    /// a colour created or moved to another revision by the step starts its pods on that
    /// revision's version with the plan's config, so it is recorded like a restart (its
    /// generation unchanged: the new pod template rolls it); a colour the step removes loses
    /// its record.
    fn record_gateway_colours(&self, next: &mut Lock, plan: &Plan) {
        for (gateway, before) in &self.gateways {
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
                let before = self
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

    /// The change a step makes to revisions, tags, labels, colours and config hash, without
    /// restarts or bookkeeping: what the planner simulates to know the mesh after each step.
    pub fn transform(&self, gateways: &[PlannedGateway], step: &Step) -> Lock {
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

/// The lock as read, with locations for the fields checked after parsing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawLock {
    api_version: Spanned<String>,
    kind: Spanned<String>,
    cluster: Spanned<String>,
    #[serde(default)]
    revisions: Vec<RawRevision>,
    #[serde(default)]
    tags: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    namespaces: BTreeMap<String, String>,
    #[serde(default)]
    gateways: BTreeMap<String, RawGateway>,
    #[serde(default)]
    workloads: BTreeMap<String, WorkloadState>,
    #[serde(default)]
    config_hash: Option<ConfigHash>,
    #[serde(default)]
    upgrade: Option<UpgradeState>,
    #[serde(default)]
    files: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    adopted: Vec<ObjectOrigin>,
    #[serde(default)]
    operator_deletes: Vec<OperatorDeletion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRevision {
    name: Spanned<String>,
    version: Spanned<String>,
    #[serde(default, rename = "installedBy")]
    installed_by: Option<ObjectOrigin>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    colours: BTreeMap<String, Spanned<String>>,
    active: Spanned<String>,
}

mod validate;
pub use validate::MAX_GENERATION;

#[cfg(test)]
mod tests;
