//! The facts document: what meshplan derives once from spec, inventory and plan, and what
//! both `meshplan facts --format json` and the Rego policies (`input.facts`) read. Field
//! names are a contract (docs/policy-input.md); add fields, never rename them.

pub use crate::catalog::VersionFact;
use crate::diagnostic::ObjectRef;
use serde::Serialize;
use std::collections::BTreeMap;

/// All facts for one point of the plan (current, after the next step, or final).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// Document version, 1.
    pub version: u32,
    /// Namespaces: every managed namespace, every Namespace object, and every namespace
    /// some object lives in. Sorted by name.
    pub namespaces: Vec<NamespaceFacts>,
    /// Pod-bearing objects (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
    /// Pod, ReplicationController) and WorkloadEntries. Sorted by kind/namespace/name.
    pub workloads: Vec<WorkloadFacts>,
    /// Services. Sorted by namespace/name.
    pub services: Vec<ServiceFacts>,
    /// PodDisruptionBudgets. Sorted by namespace/name.
    pub pdbs: Vec<PdbFacts>,
    /// Installed revisions after the judged change, keyed by revision name.
    pub revisions: BTreeMap<String, RevisionFacts>,
    /// Revision tags after the judged change: tag → revision.
    pub tags: BTreeMap<String, String>,
    /// The revision serving `istio-injection=enabled` (the `default` tag's target), if any.
    pub default_revision: Option<String>,
    /// Catalogue facts about the target and installed versions.
    pub versions: VersionFacts,
    /// The restart-relevant config istiod injects after the judged change (the spec's),
    /// hashed as the lock hashes it; null when the CLI did not fill it.
    pub config_hash: Option<crate::state::ConfigHash>,
    /// The gateway colours' Deployments after the judged change (meshplan renders them; they
    /// are not in the inventory). Sorted by key; filled by the CLI from the lock.
    pub gateways: Vec<GatewayDeploymentFacts>,
    /// Istio installations found in the manifests (HelmReleases, Applications,
    /// IstioOperators, Sail CRs, rendered istiod), in file order.
    pub installations: Vec<super::installations::Installation>,
    /// Waypoint proxies (Gateway API `Gateway`s of class `istio-waypoint`) and the revision
    /// that programs each after the judged change; absent when nothing is ambient.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waypoints: Vec<super::ambient::WaypointFacts>,
}

/// One gateway colour's Deployment, as meshplan's lock records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayDeploymentFacts {
    /// `apps/v1` Deployment `<gateway>-<colour>` in the gateway's namespace.
    pub object: ObjectRef,
    /// `Deployment/<namespace>/<gateway>-<colour>`, as in plans and the lock.
    pub key: String,
    /// The gateway, `namespace/name`.
    pub gateway: String,
    /// The colour (`blue`, `green`).
    pub colour: String,
    /// The revision the colour runs on.
    pub revision: String,
    /// The `numTrustedProxies` config hash its pods were started with (compare with
    /// `configHash.gateways`): the lock's record of its last restart, else the config of
    /// the lock it was created under; null when unknown.
    pub proxy_config: Option<String>,
    /// The first step after the judged change that restarts it; null when none does.
    pub next_restart: Option<String>,
}

/// One namespace.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceFacts {
    /// Namespace name.
    pub name: String,
    /// Revision whose injector webhook selects this namespace (null when none).
    pub revision: Option<String>,
    /// Whether pods here are injected by default.
    pub injected: bool,
    /// Listed in `spec.namespaces` (meshplan sets its revision label).
    pub managed: bool,
    /// The wave that moves it (managed namespaces only).
    pub wave: Option<String>,
    /// Effective labels (Namespace object's labels, spec labels, meshplan's revision label).
    pub labels: BTreeMap<String, String>,
    /// Value of `istio-injection`, if set.
    pub injection_label: Option<String>,
    /// Value of `istio.io/rev`, if set.
    pub rev_label: Option<String>,
    /// Where the Namespace object is defined, if it is in the inventory.
    pub file: Option<String>,
    /// Its line.
    pub line: Option<u32>,
    /// Why `revision` is what it is, in words, e.g. "istio.io/rev=1-24-3 selects revision 1-24-3".
    pub reason: String,
    /// In a spec of several meshes: the mesh the namespace belongs to (null when none
    /// claims it); absent for a single mesh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh: Option<Option<String>>,
    /// Why it belongs to that mesh (absent for a single mesh).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh_reason: Option<String>,
}

/// One workload (pod-bearing object or WorkloadEntry).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadFacts {
    /// The object.
    pub object: ObjectRef,
    /// `Kind/namespace/name`, the key other facts use.
    pub key: String,
    /// Source file.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// Whether Istio's webhooks would inject a sidecar into its pods.
    pub injected: bool,
    /// The revision whose webhook injects it (null when none would).
    pub revision: Option<String>,
    /// Why, in words (which label decided).
    pub reason: String,
    /// Pod template labels.
    pub pod_labels: BTreeMap<String, String>,
    /// Pod template annotations.
    pub pod_annotations: BTreeMap<String, String>,
    /// `istio.io/rev` on the pod template, if set.
    pub pod_rev_label: Option<String>,
    /// Desired replicas (1 when unset; 0 kept as 0; DaemonSets count 1).
    pub replicas: i64,
    /// Controller kind owning the pods: the workload's own kind, or `Pod` for bare pods.
    pub owner_kind: String,
    /// Whether a rolling restart (pod-template annotation bump) restarts it.
    pub restartable: bool,
    /// `native`, `legacy`, `manual` (a committed sidecar, `istioctl kube-inject` output,
    /// whose `proxy` is its image's tag) or `none` (not injected).
    pub sidecar: String,
    /// `sidecar.istio.io/proxyImage`, when set.
    pub custom_proxy_image: Option<String>,
    /// PDBs selecting its pods, as `namespace/name`.
    pub pdbs: Vec<String>,
    /// Whether the PDBs allow at least one disruption (null when no PDB). False also when
    /// more than one PDB selects the pods: the eviction API refuses such pods.
    pub disruption_allowed: Option<bool>,
    /// PDBs that allow zero disruptions, as `namespace/name`.
    pub blocking_pdbs: Vec<String>,
    /// Containers without a readiness probe.
    pub containers_without_readiness: Vec<String>,
    /// Pod `restartPolicy` (Always when unset, as Kubernetes defaults it).
    pub restart_policy: String,
    /// Pod `terminationGracePeriodSeconds` (30 when unset).
    pub termination_grace_period_seconds: i64,
    /// Proxy drain duration in seconds (Istio default 5, or from proxy config annotations).
    pub drain_duration_seconds: i64,
    /// A graceful-exit setting is present (EXIT_ON_ZERO_ACTIVE_CONNECTIONS,
    /// terminationDrainDuration, or a preStop hook on the proxy).
    pub graceful_exit: bool,
    /// Services selecting its pods, as `namespace/name`.
    pub services: Vec<String>,
    /// Headless Services (clusterIP: None) selecting its pods, as `namespace/name`.
    pub headless_services: Vec<String>,
    /// Whether the judged change moves it (revision change or restart bump).
    pub moving: bool,
    /// The step that moves it, when `moving`.
    pub step: Option<String>,
    /// The Istio version its running proxy was started with, as of after the judged change:
    /// meshplan's record in the lock (a restart bump or a manual restart it asked for), else
    /// the version of the revision that injected it before the change; null when it ran no
    /// proxy. Filled by the CLI, which knows the lock.
    pub proxy: Option<String>,
    /// The restart-relevant config hash its running proxy was started with (compare with
    /// `configHash.workloads`), on the same terms as `proxy`.
    pub proxy_config: Option<String>,
    /// The first step after the judged change that restarts it or lists it for a person;
    /// null when no later step does.
    pub next_restart: Option<String>,
    /// In a spec of several meshes: the mesh of its namespace (null when none claims it);
    /// absent for a single mesh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh: Option<Option<String>>,
    /// The data plane its pods join: `ambient`, `sidecar` or `none`; absent when nothing in
    /// the mesh is ambient (docs/facts.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataplane: Option<String>,
}

/// One Service.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceFacts {
    /// The object.
    pub object: ObjectRef,
    /// `Service/namespace/name`.
    pub key: String,
    /// Source file.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// `clusterIP: None`.
    pub headless: bool,
    /// Its selector (empty: selects nothing).
    pub selector: BTreeMap<String, String>,
    /// Keys of the workloads it selects.
    pub workloads: Vec<String>,
    /// Whether any selected workload is injected.
    pub selects_injected: bool,
    /// Ports with their detected protocol.
    pub ports: Vec<PortFacts>,
}

/// One Service port and the protocol Istio would use for it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortFacts {
    /// Port name ("" when unnamed).
    pub name: String,
    /// Port number.
    pub port: i64,
    /// `appProtocol`, when set.
    pub app_protocol: Option<String>,
    /// Protocol as Istio detects it: http, http2, https, grpc, grpc-web, tcp, tls, mongo,
    /// mysql, redis, udp, … or `unknown` (auto-detection).
    pub protocol: String,
    /// Where the protocol came from: `appProtocol`, `name`, `port` (well-known), `udp`, or `none`.
    pub source: String,
}

/// One PodDisruptionBudget.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbFacts {
    /// The object.
    pub object: ObjectRef,
    /// `namespace/name`.
    pub key: String,
    /// Source file.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// Workload keys it selects.
    pub workloads: Vec<String>,
    /// `minAvailable` as written (int or percentage string).
    pub min_available: Option<serde_json::Value>,
    /// `maxUnavailable` as written.
    pub max_unavailable: Option<serde_json::Value>,
    /// Pods it expects: the replicas of the workloads it selects, summed (as the
    /// disruption controller counts them).
    pub expected_pods: i64,
    /// Disruptions it allows with all expected pods healthy (0: it blocks every eviction).
    pub disruptions_allowed: i64,
}

/// One installed revision.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionFacts {
    /// Revision name.
    pub name: String,
    /// Istio version it runs.
    pub version: String,
    /// Tags pointing at it.
    pub tags: Vec<String>,
}

/// Catalogue facts for the versions in play.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionFacts {
    /// The date rules use for "today" (YYYY-MM-DD, from `--today` or the clock).
    pub today: String,
    /// Kubernetes minor of the spec.
    pub kubernetes: String,
    /// The spec's target version.
    pub target: VersionFact,
    /// Every version installed at some point of the judged change, target included.
    pub installed: Vec<VersionFact>,
}
