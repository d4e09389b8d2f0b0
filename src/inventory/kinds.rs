//! What the loader must know about kinds without a cluster to ask: which are cluster-scoped
//! (their objects get namespace `""`), and which are build-tool configuration rather than
//! objects a cluster ever sees (Kustomize files are skipped, not loaded).

/// Cluster-scoped kinds of Kubernetes and of the add-ons met in Istio meshes, sorted so a
/// binary search finds them. Any other kind is treated as namespaced, as kubectl does for a
/// CRD it does not know.
pub const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterSPIFFEID",
    "ClusterStaticEntry",
    "ClusterTrustBundle",
    "ComponentStatus",
    "CustomResourceDefinition",
    "FlowSchema",
    "GatewayClass",
    "IngressClass",
    // The Sail Operator's resources (sailoperator.io/v1, all cluster-scoped in its CRDs).
    "Istio",
    "IstioCNI",
    "IstioRevision",
    "IstioRevisionTag",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "ZTunnel",
];

/// Whether objects of `kind` live outside any namespace.
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.binary_search(&kind).is_ok()
}

/// Why a document with this apiVersion/kind is skipped, when it is Kustomize configuration
/// (a `kustomization.yaml`, a component, or a built-in transformer's config) rather than an
/// object: such files sit beside the manifests a glob like `apps/**/*.yaml` picks up.
pub(crate) fn kustomize_config(api_version: &str, kind: &str) -> Option<&'static str> {
    let group = group_of(api_version);
    if group == "kustomize.config.k8s.io" {
        Some("Kustomize configuration, not a cluster object")
    } else if api_version == "builtin" {
        Some("Kustomize built-in transformer configuration, not a cluster object")
    } else if kind == "Kustomization" && api_version.is_empty() {
        Some("Kustomize configuration (no apiVersion), not a cluster object")
    } else {
        None
    }
}

/// Why an object of this kind without `metadata.name` is skipped rather than refused: an
/// unnamed `IstioOperator` is input to `istioctl install -f`, never applied as an object
/// (a named one is a cluster object for the operator and loads normally).
pub(crate) fn unnamed_tool_config(api_version: &str, kind: &str) -> Option<&'static str> {
    (group_of(api_version) == "install.istio.io" && kind == "IstioOperator").then_some(
        "istioctl install configuration (IstioOperator without a name), not a cluster object",
    )
}

/// The API group of an apiVersion: `apps` for `apps/v1`, `""` for the core `v1`.
pub fn group_of(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((group, _)) => group,
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_scoped_table_is_sorted_and_unique() {
        // binary_search is only correct on a strictly sorted table.
        assert!(CLUSTER_SCOPED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn scope_of_common_kinds() {
        assert!(is_cluster_scoped("Namespace"));
        assert!(is_cluster_scoped("ClusterSPIFFEID"));
        for sail in [
            "Istio",
            "IstioCNI",
            "IstioRevision",
            "IstioRevisionTag",
            "ZTunnel",
        ] {
            assert!(is_cluster_scoped(sail), "{sail}");
        }
        assert!(!is_cluster_scoped("Deployment"));
        assert!(!is_cluster_scoped("RoleBinding"));
    }

    #[test]
    fn kustomize_kinds_are_recognised() {
        assert!(kustomize_config("kustomize.config.k8s.io/v1beta1", "Kustomization").is_some());
        assert!(kustomize_config("kustomize.config.k8s.io/v1alpha1", "Component").is_some());
        assert!(kustomize_config("builtin", "LabelTransformer").is_some());
        assert!(kustomize_config("apps/v1", "Deployment").is_none());
        assert!(unnamed_tool_config("install.istio.io/v1alpha1", "IstioOperator").is_some());
        assert!(unnamed_tool_config("apps/v1", "Deployment").is_none());
    }

    #[test]
    fn groups() {
        assert_eq!(group_of("v1"), "");
        assert_eq!(group_of("networking.istio.io/v1"), "networking.istio.io");
    }
}
