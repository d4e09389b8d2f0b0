//! `delivery: sail`: the control plane as one Sail Operator `Istio` resource with
//! `updateStrategy.type: RevisionBased`, and one `IstioRevisionTag` per revision tag.
//!
//! The `Istio` carries only the newest installed version: the operator creates the
//! `IstioRevision` `<Istio name>-v1-24-3` for it and keeps every older revision while a
//! namespace, tag or proxy still uses it, so an install step changes `spec.version` and the
//! cleanup step renders no change to it (the lock records that the operator deletes the old
//! revision after [`GRACE_PERIOD_SECONDS`]). The operator installs no gateways, so the
//! gateways' colours stay releases of Istio's `gateway` chart (Flux HelmReleases, the
//! operator docs' own way to add a gateway), without the `dependsOn` on an istiod
//! HelmRelease that a Sail mesh does not have. `docs/render.md` describes the layout.

use super::model::RenderModel;
use super::values;
use super::{ISTIO_NAMESPACE, RenderError, Renderer};
use crate::catalog::Version;
use crate::spec::{Delivery, sail_revision_name};
use crate::state::Lock;
use serde_json::{Value, json};

/// `spec.updateStrategy.inactiveRevisionDeletionGracePeriodSeconds` of the rendered
/// `Istio`: the operator's own default, written out so the lock can name it.
pub const GRACE_PERIOD_SECONDS: u64 = 30;

/// The `Istio`, its revision tags and the gateway releases of one step.
pub(super) fn render_sail(
    r: &mut Renderer,
    m: &RenderModel,
    labels: &Value,
) -> Result<(), RenderError> {
    let newest = m
        .revisions
        .iter()
        .filter_map(|rev| Version::parse(&rev.version).ok().map(|v| (v, rev)))
        .max_by_key(|(v, _)| *v)
        .map(|(_, rev)| rev);
    if let Some(rev) = newest {
        if let Some(reason) = crate::catalog::sail::unsupported(&rev.version) {
            return Err(RenderError::UnsupportedAt {
                message: format!(
                    "the Sail Operator cannot install Istio {}: {reason}",
                    rev.version
                ),
                field: &["spec", "istio", "version"],
            });
        }
        let expected = sail_revision_name(&m.cluster, &rev.version);
        if rev.name != expected {
            return Err(RenderError::Unsupported(format!(
                "revision `{}` runs Istio {}, but the Sail Operator names that revision of Istio `{}` `{expected}`",
                rev.name, rev.version, m.cluster
            )));
        }
        let mut vals = values::istiod_values(m, rev)?;
        // The operator sets the revision from the Istio's name and version; tags are the
        // IstioRevisionTags below (Sail's values have no `revisionTags`).
        vals.remove("revision");
        vals.remove("revisionTags");
        r.emit(
            format!("{ISTIO_NAMESPACE}/istio.yaml"),
            "sail/istio.yaml.j2",
            json!({
                "istio": {"name": m.cluster, "version": format!("v{}", rev.version),
                          "namespace": ISTIO_NAMESPACE, "values": vals,
                          "gracePeriodSeconds": GRACE_PERIOD_SECONDS},
                "labels": labels,
            }),
            None,
        )?;
    }
    for rev in &m.revisions {
        for tag in &rev.tags {
            r.emit(
                format!("{ISTIO_NAMESPACE}/revisiontag-{tag}.yaml"),
                "sail/revisiontag.yaml.j2",
                json!({"tag": {"name": tag, "revision": rev.name}, "labels": labels}),
                None,
            )?;
        }
    }
    let mut gateways: Vec<super::Release> = super::releases(m)?
        .into_iter()
        .filter(|rel| rel.chart == "gateway")
        .collect();
    for rel in &mut gateways {
        rel.depends_on.clear();
    }
    super::emit_flux(r, m, labels, &gateways)
}

/// Records in `next` (the lock after a step applied to `before`) the revisions the step
/// removed, which the Sail Operator deletes itself ([`crate::state::operator`]); for the
/// other deliveries, whose render deletes them, clears any such record.
pub fn record_deletions(spec: &crate::spec::Spec, before: &Lock, next: &mut Lock) {
    if spec.spec.istio.delivery == Delivery::Sail {
        let owner = format!("Istio/{}", spec.metadata.name);
        next.record_operator_deletions(before, &owner, GRACE_PERIOD_SECONDS);
    } else {
        next.operator_deletes.clear();
    }
}
