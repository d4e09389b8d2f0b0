//! The renderer's own input: everything one plan step needs to be written as GitOps files,
//! already decided. The planner's output is glued to this type by the CLI, so the renderer
//! stays a pure function of a value that tests can build by hand.

use crate::diagnostic::ObjectRef;
use crate::spec::model::{Delivery, GatewayService, GatewayStrategy, IstioConfig};
use serde::Serialize;
use std::collections::BTreeMap;

/// The state of the mesh after one plan step, as the renderer needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderModel {
    /// The cluster's name (`metadata.name` of the spec).
    pub cluster: String,
    /// How the control plane is delivered.
    pub delivery: Delivery,
    /// Helm chart repository URL, or an `oci://` registry.
    pub chart_repository: String,
    /// Optional image hub (`global.hub`).
    pub hub: Option<String>,
    /// Argo CD project and namespace of the Applications (`delivery: argocd-helm`).
    pub argocd: crate::spec::model::ArgoCd,
    /// `spec.istio.values`, deep-merged over the istiod values meshplan writes.
    pub values: serde_json::Map<String, serde_json::Value>,
    /// Settings that shape the istiod values.
    pub config: IstioConfig,
    /// Installed control-plane revisions.
    pub revisions: Vec<RenderRevision>,
    /// The revision the `istio-base` chart's default validator points at, if any.
    pub default_revision: Option<String>,
    /// Managed ingress gateways.
    pub gateways: Vec<RenderGateway>,
    /// Namespaces in the mesh and their labels after this step.
    pub namespaces: Vec<RenderNamespace>,
    /// Pod-template annotation bumps that restart workloads.
    pub restarts: Vec<RestartBump>,
    /// The control plane's own namespace and discovery selectors: always for a mesh of
    /// several in one cluster, for a single mesh only when its spec sets them; None renders
    /// as meshplan always did (`istio-system`, every namespace discovered).
    pub tenant: Option<RenderTenant>,
}

/// Where a control plane runs and what it discovers, when not the defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderTenant {
    /// A mesh of several: its name (the value of its `meshplan.dev/mesh` label, put on its
    /// objects and namespaces); None for a single mesh.
    pub mesh: Option<String>,
    /// Its control plane's namespace (`spec.istio.namespace`).
    pub namespace: String,
    /// `meshConfig.discoverySelectors` of its istiod (none written when empty: Istio then
    /// discovers every namespace, as with an empty list).
    pub discovery_selectors: Vec<crate::spec::LabelSelector>,
}

/// One installed istiod revision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RenderRevision {
    /// Revision name, e.g. `1-24-6`.
    pub name: String,
    /// Exact Istio version of the revision, e.g. `1.24.6` (also the chart version).
    pub version: String,
    /// Revision tags served by this revision (e.g. `default`, `stable`).
    pub tags: Vec<String>,
}

/// One gateway with its colours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderGateway {
    /// Gateway name; releases are `<name>-<colour>`.
    pub name: String,
    /// Namespace the gateway runs in.
    pub namespace: String,
    /// Blue/green or in place.
    pub strategy: GatewayStrategy,
    /// Installed colours and the revision each runs on.
    pub colours: BTreeMap<String, String>,
    /// The colour the traffic Service selects (none: the Service selects every colour).
    pub active: Option<String>,
    /// The separately owned traffic Service.
    pub service: GatewayService,
    /// `spec.gateways[].values`, deep-merged over the values meshplan writes for each colour.
    pub values: serde_json::Map<String, serde_json::Value>,
    /// Colour → restart annotation value (`<revision>.<generation>`) for the colours meshplan
    /// restarted (`numTrustedProxies`, in-place upgrades); set as a pod annotation of that
    /// colour's Deployment, since a gateway is meshplan's own release, not a workload a
    /// Kustomize patch could reach.
    pub restarts: BTreeMap<String, String>,
}

/// One namespace in the mesh.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderNamespace {
    /// Namespace name.
    pub name: String,
    /// Labels to set: the spec's labels plus `istio.io/rev` (or the injection label).
    pub labels: BTreeMap<String, String>,
    /// A Namespace object exists in the user's manifests: emit a label patch, not a Namespace.
    pub defined_elsewhere: bool,
    /// Labels of the user's Namespace object the patch removes (`istio-injection=enabled`,
    /// which would otherwise beat `istio.io/rev` in Istio's webhooks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// One restart: the pod-template annotation `meshplan.dev/restarted-for` set to `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestartBump {
    /// The workload whose pod template is annotated.
    pub object: ObjectRef,
    /// `<revision>.<generation>`.
    pub value: String,
}

/// The pod-template annotation restart bumps set.
pub const RESTART_ANNOTATION: &str = "meshplan.dev/restarted-for";

/// The pod label that tells the colours of one gateway apart.
pub const COLOUR_LABEL: &str = "meshplan.dev/colour";

impl RenderModel {
    /// The namespace the control plane's releases go to.
    pub fn control_plane_namespace(&self) -> &str {
        self.tenant
            .as_ref()
            .map_or(super::ISTIO_NAMESPACE, |t| t.namespace.as_str())
    }

    /// A copy with every list sorted (and tags deduplicated), so the order the caller built
    /// the model in never reaches the output.
    pub fn normalized(&self) -> RenderModel {
        let mut m = self.clone();
        for r in &mut m.revisions {
            r.tags.sort();
            r.tags.dedup();
        }
        m.revisions.sort();
        m.gateways
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        m.namespaces.sort();
        m.restarts.sort_by(|a, b| {
            (
                &a.object.namespace,
                &a.object.kind,
                &a.object.name,
                &a.value,
            )
                .cmp(&(
                    &b.object.namespace,
                    &b.object.kind,
                    &b.object.name,
                    &b.value,
                ))
        });
        m
    }
}
