//! The forms of a `spec.manifests` entry: a glob, or a kustomize, Helm, Flux or Argo CD entry
//! point meshplan builds the way the controllers do (docs/inventory.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One entry of `spec.manifests`: a glob, a glob with a default namespace, or a directory
/// built the way Flux, Argo CD or kustomize will build it (see `docs/inventory.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ManifestEntry {
    /// A glob relative to the spec file.
    Glob(String),
    /// A glob whose namespace-less objects get `namespace`.
    WithNamespace(ManifestPath),
    /// `{kustomize: DIR}`: the real kustomize build of DIR.
    Kustomize(KustomizeEntry),
    /// `{helm: {chart, release, namespace, values}}`: a local chart rendered by `helm template`.
    Helm(HelmEntry),
    /// `{flux: DIR}`: a cluster's Flux entry point, followed as kustomize-controller would.
    Flux(FluxEntry),
    /// `{argocd: PATH}`: Argo CD Applications whose source is this repository.
    Argocd(ArgocdEntry),
}

impl ManifestEntry {
    /// The glob pattern, or the directory (chart) a built entry names.
    pub fn path(&self) -> &str {
        match self {
            ManifestEntry::Glob(p) => p,
            ManifestEntry::WithNamespace(m) => &m.path,
            ManifestEntry::Kustomize(k) => &k.kustomize,
            ManifestEntry::Helm(h) => &h.helm.chart,
            ManifestEntry::Flux(f) => &f.flux,
            ManifestEntry::Argocd(a) => &a.argocd,
        }
    }

    /// The namespace given to objects without one, if the entry names it.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            ManifestEntry::WithNamespace(m) => m.namespace.as_deref(),
            ManifestEntry::Helm(h) => Some(&h.helm.namespace),
            _ => None,
        }
    }

    /// Whether the entry is built by a tool (kustomize, helm, Flux, Argo CD) rather than read.
    pub fn is_built(&self) -> bool {
        !matches!(
            self,
            ManifestEntry::Glob(_) | ManifestEntry::WithNamespace(_)
        )
    }

    /// The entry's key in `spec.manifests[i]` that names its path, for error locations.
    pub fn path_key(&self) -> Option<&'static str> {
        match self {
            ManifestEntry::Glob(_) => None,
            ManifestEntry::WithNamespace(_) => Some("path"),
            ManifestEntry::Kustomize(_) => Some("kustomize"),
            ManifestEntry::Helm(_) => Some("helm"),
            ManifestEntry::Flux(_) => Some("flux"),
            ManifestEntry::Argocd(_) => Some("argocd"),
        }
    }
}

/// `{path, namespace}` manifest entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManifestPath {
    /// A glob relative to the spec file.
    pub path: String,
    /// Namespace for objects that have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `{kustomize: DIR}` manifest entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KustomizeEntry {
    /// A directory holding a kustomization, relative to the spec file.
    pub kustomize: String,
}

/// `{helm: {...}}` manifest entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HelmEntry {
    /// The chart and how to render it.
    pub helm: HelmChart,
}

/// A local chart rendered with `helm template`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HelmChart {
    /// The chart directory, relative to the spec file.
    pub chart: String,
    /// The release name.
    pub release: String,
    /// The release namespace (namespaced objects without one land there).
    pub namespace: String,
    /// Values files relative to the spec file, later ones win.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// `{flux: DIR}` manifest entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FluxEntry {
    /// The cluster's Flux entry point (e.g. `clusters/production`), relative to the spec file.
    pub flux: String,
}

/// `{argocd: PATH}` manifest entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgocdEntry {
    /// A file or directory holding Argo CD Applications, relative to the spec file.
    pub argocd: String,
}
