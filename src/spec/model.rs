//! The typed model of `meshplan.yaml` (apiVersion `meshplan.dev/v1alpha1`, kind `Mesh`).
//! Every field of DESIGN.md's spec is here with its documented default; unknown fields are
//! rejected. The JSON Schema printed by `meshplan schema` is derived from these types.

pub use super::manifest_entry::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole spec document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    /// Must be `meshplan.dev/v1alpha1`.
    #[schemars(extend("const" = "meshplan.dev/v1alpha1"))]
    pub api_version: String,
    /// Must be `Mesh`.
    #[schemars(extend("const" = "Mesh"))]
    pub kind: String,
    /// Names the cluster.
    pub metadata: Metadata,
    /// The desired mesh.
    pub spec: MeshSpec,
}

/// `metadata` of the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    /// The cluster's name; appears in output paths and commit messages.
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"))]
    pub name: String,
}

/// `spec` of the spec: the desired state of the mesh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MeshSpec {
    /// Minor version of the target cluster, e.g. "1.30".
    #[schemars(regex(pattern = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"))]
    pub kubernetes_version: String,
    /// The Istio control plane to run.
    pub istio: Istio,
    /// How upgrades proceed.
    #[serde(default)]
    pub upgrade: Upgrade,
    /// Ingress gateways meshplan manages.
    #[serde(default)]
    pub gateways: Vec<Gateway>,
    /// Namespaces in the mesh (labelled with the revision meshplan manages).
    #[serde(default)]
    pub namespaces: Vec<NamespaceEntry>,
    /// The workloads' manifests: globs relative to the spec file, or `{path, namespace}`.
    #[serde(default)]
    pub manifests: Vec<ManifestEntry>,
    /// Where rendered files and `meshplan.lock` go, relative to the spec file.
    #[serde(default = "default_output")]
    pub output: String,
    /// Extra Rego policy directories, relative to the spec file.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Per-rule overrides: `deny`, `warn`, `info` or `off`, keyed by rule code.
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Z]+[0-9]+$"}))]
    pub rules: BTreeMap<String, RuleSetting>,
    /// Waivers of one rule for one object.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// The cluster this mesh runs in; required (and equal) when `meshplan.yaml` holds several
    /// `Mesh` documents, one per tenant mesh, in which case `metadata.name` names the mesh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"))]
    pub cluster: Option<String>,
    /// The ambient data plane's node agents (`istio-cni`, `ztunnel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ambient: Option<super::ambient::Ambient>,
}

fn default_output() -> String {
    "rendered".to_string()
}

/// `spec.istio`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Istio {
    /// Desired control-plane version (exact patch, e.g. 1.24.3).
    #[schemars(regex(pattern = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"))]
    pub version: String,
    /// How the control plane is delivered.
    #[serde(default)]
    pub delivery: Delivery,
    /// Helm chart repository (or `oci://` registry) of the Istio charts.
    #[serde(default = "default_chart_repository")]
    pub chart_repository: String,
    /// Optional image hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
    /// Revision name; default derived from the version (1.24.3 → `1-24-3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Set by the loader of a spec of several meshes, never written by users: the mesh name
    /// that prefixes this mesh's derived revision names (`mesh-b-1-24-6`) because an
    /// earlier mesh of the file derives the same name (webhooks and istiod releases are
    /// named after revisions, cluster-wide).
    #[serde(skip)]
    #[schemars(skip)]
    pub revision_prefix: Option<String>,
    /// Revision tags pointing at the managed revision (`default` makes it serve
    /// `istio-injection=enabled` namespaces).
    #[serde(default)]
    pub revision_tags: Vec<String>,
    /// Extra istiod Helm values, deep-merged over meshplan's.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub values: serde_json::Map<String, serde_json::Value>,
    /// Settings whose change restarts workloads.
    #[serde(default)]
    pub config: IstioConfig,
    /// Where the Argo CD Applications live (`delivery: argocd-helm`).
    #[serde(default)]
    pub argocd: ArgoCd,
    /// The control plane's namespace (default `istio-system`); distinct per mesh of a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"))]
    pub namespace: Option<String>,
    /// The namespaces this mesh's istiod watches (`meshConfig.discoverySelectors`); default,
    /// in a spec of several meshes, the label `meshplan.dev/mesh=<name>`, which meshplan puts
    /// on the mesh's namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_selectors: Option<Vec<LabelSelector>>,
}

/// `spec.istio.argocd`: the Argo CD project and namespace of the rendered Applications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgoCd {
    /// The AppProject the Applications belong to.
    #[serde(default = "default_argocd_project")]
    #[schemars(length(min = 1))]
    pub project: String,
    /// The namespace Argo CD watches for Applications (where it is installed, unless
    /// `application.namespaces` lets it watch others).
    #[serde(default = "default_argocd_namespace")]
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), length(max = 63))]
    pub namespace: String,
}

impl Default for ArgoCd {
    fn default() -> Self {
        ArgoCd {
            project: default_argocd_project(),
            namespace: default_argocd_namespace(),
        }
    }
}

fn default_argocd_project() -> String {
    "default".to_string()
}

fn default_argocd_namespace() -> String {
    "argocd".to_string()
}

fn default_chart_repository() -> String {
    "https://istio-release.storage.googleapis.com/charts".to_string()
}

/// `spec.istio.delivery`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// Flux HelmRepository + HelmRelease per chart.
    #[default]
    FluxHelm,
    /// Argo CD Application per chart.
    ArgocdHelm,
    /// IstioOperator per revision, for `istioctl install -f`.
    IstioOperator,
    /// One Sail Operator `Istio` resource (`RevisionBased`) and `IstioRevisionTag`s.
    Sail,
}

/// `spec.istio.config`: settings whose change needs restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IstioConfig {
    /// meshConfig.enablePrometheusMerge.
    #[serde(default = "default_true")]
    pub prometheus_merge: bool,
    /// Helm `compatibilityVersion`, e.g. "1.23".
    #[serde(default)]
    #[schemars(regex(pattern = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"))]
    pub compatibility_version: Option<String>,
    /// meshConfig.defaultConfig.gatewayTopology.numTrustedProxies.
    #[serde(default)]
    pub num_trusted_proxies: u32,
    /// Native (init-container) sidecars.
    #[serde(default)]
    pub native_sidecars: NativeSidecars,
}

impl Default for IstioConfig {
    fn default() -> Self {
        IstioConfig {
            prometheus_merge: true,
            compatibility_version: None,
            num_trusted_proxies: 0,
            native_sidecars: NativeSidecars::Auto,
        }
    }
}

fn default_true() -> bool {
    true
}

/// `spec.istio.config.nativeSidecars`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NativeSidecars {
    /// On for Istio >= 1.27 on Kubernetes >= 1.33.
    #[default]
    Auto,
    /// Forced on.
    Enabled,
    /// Forced off.
    Disabled,
}

/// `spec.upgrade`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Upgrade {
    /// `revision` (canary) or `in-place`.
    #[serde(default)]
    pub strategy: Strategy,
    /// Tightens how many minors one hop may move (Istio allows 2 canary, 1 in place).
    #[serde(default = "default_max_minor_skip")]
    #[schemars(range(min = 1, max = 2))]
    pub max_minor_skip: u32,
    /// Most revisions installed at once.
    #[serde(default = "default_max_revisions")]
    #[schemars(range(min = 1))]
    pub max_revisions: u32,
    /// Most workloads one step may restart.
    #[serde(default = "default_max_restarts")]
    pub max_restarts_per_step: u32,
    /// Allow moving to an older version.
    #[serde(default)]
    pub allow_downgrade: bool,
    /// Order in which namespaces move; unlisted ones go last.
    #[serde(default)]
    pub waves: Vec<Wave>,
    /// Most workloads the pending next steps of all meshes of the cluster may restart
    /// together (MP315); unbounded when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_restarts_per_cluster: Option<u32>,
}

impl Default for Upgrade {
    fn default() -> Self {
        Upgrade {
            strategy: Strategy::Revision,
            max_minor_skip: default_max_minor_skip(),
            max_revisions: default_max_revisions(),
            max_restarts_per_step: default_max_restarts(),
            allow_downgrade: false,
            waves: Vec::new(),
            max_restarts_per_cluster: None,
        }
    }
}

fn default_max_minor_skip() -> u32 {
    1
}
fn default_max_revisions() -> u32 {
    2
}
fn default_max_restarts() -> u32 {
    200
}

/// `spec.upgrade.strategy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Canary: a new revision beside the old, namespaces moved wave by wave.
    #[default]
    Revision,
    /// Upgrade the running revision in place.
    InPlace,
}

/// One wave of `spec.upgrade.waves`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Wave {
    /// The wave's name; the step is called `wave <name>`.
    pub name: String,
    /// Namespaces listed by name.
    #[serde(default)]
    #[schemars(inner(regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")))]
    pub namespaces: Vec<String>,
    /// Namespaces chosen by the labels given in `spec.namespaces`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels that must all match.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements.
    #[serde(default)]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl LabelSelector {
    /// Whether the selector matches a label set (an empty selector matches everything).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| {
                let value = labels.get(&e.key);
                match e.operator {
                    SelectorOperator::In => value.is_some_and(|v| e.values.contains(v)),
                    SelectorOperator::NotIn => value.is_none_or(|v| !e.values.contains(v)),
                    SelectorOperator::Exists => value.is_some(),
                    SelectorOperator::DoesNotExist => value.is_none(),
                }
            })
    }
}

/// One set-based requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: SelectorOperator,
    /// Values for `In` / `NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// Operator of a set-based requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SelectorOperator {
    /// The label's value is one of `values`.
    In,
    /// The label is absent or its value is none of `values`.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

/// One gateway of `spec.gateways`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Gateway {
    /// Gateway name (the release is `<name>-<colour>`).
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"))]
    pub name: String,
    /// Namespace the gateway runs in.
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"))]
    pub namespace: String,
    /// `blue-green` or `in-place`.
    #[serde(default)]
    pub strategy: GatewayStrategy,
    /// The separately owned traffic Service.
    #[serde(default)]
    pub service: GatewayService,
    /// Extra values for every colour's gateway chart release, deep-merged over meshplan's
    /// (for `istio-operator`: over the ingress gateway component's `k8s` block).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub values: serde_json::Map<String, serde_json::Value>,
}

/// `spec.gateways[].strategy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GatewayStrategy {
    /// Two colours behind a separately owned Service.
    #[default]
    BlueGreen,
    /// One gateway upgraded in place.
    InPlace,
}

/// `spec.gateways[].service`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayService {
    /// Service type.
    #[serde(default = "default_service_type", rename = "type")]
    pub service_type: String,
    /// Ports of the traffic Service.
    #[serde(default)]
    pub ports: Vec<ServicePort>,
}

impl Default for GatewayService {
    fn default() -> Self {
        GatewayService {
            service_type: default_service_type(),
            ports: Vec::new(),
        }
    }
}

fn default_service_type() -> String {
    "LoadBalancer".to_string()
}

/// One port of the traffic Service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServicePort {
    /// Port name (its prefix tells Istio the protocol).
    pub name: String,
    /// Service port.
    pub port: u16,
    /// Container port; defaults to `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u16>,
    /// TCP or UDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// One entry of `spec.namespaces`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceEntry {
    /// The namespace name.
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"))]
    pub name: String,
    /// Labels (used by wave selectors and rendered onto the Namespace).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `sidecar` (default) or `ambient` (`istio.io/dataplane-mode=ambient` rendered on it).
    #[serde(default, skip_serializing_if = "super::ambient::Dataplane::is_sidecar")]
    pub dataplane: super::ambient::Dataplane,
}

/// A per-rule override in `spec.rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleSetting {
    /// Make the rule block.
    Deny,
    /// Report only.
    Warn,
    /// List as a manual action.
    Info,
    /// Disable the rule.
    Off,
}

/// One waiver in `spec.exceptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Exception {
    /// The rule code waived, e.g. MP301.
    #[schemars(regex(pattern = r"^[A-Z]+[0-9]+$"))]
    pub rule: String,
    /// `Kind/namespace/name` (or `Kind/name` for cluster-scoped objects).
    #[schemars(regex(pattern = r"^[A-Z][A-Za-z0-9]*(/[^/]+){1,2}$"))]
    pub object: String,
    /// Why the waiver exists.
    pub reason: String,
    /// Last day the waiver applies (YYYY-MM-DD).
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub expires: String,
}
