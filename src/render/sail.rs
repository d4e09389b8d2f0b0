//! `delivery: sail`: the control plane as one Sail Operator `Istio` resource with
//! `updateStrategy.type: RevisionBased`, and one `IstioRevisionTag` per revision tag.
//!
//! The `Istio` carries only the newest installed version: the operator creates the
//! `IstioRevision` `<Istio name>-v1-24-3` for it and keeps every older revision while a
//! namespace, tag or proxy still uses it, so an install step changes `spec.version` and the
//! cleanup step renders no change to it (the lock records that the operator deletes the
//! old revision after [`GRACE_PERIOD_SECONDS`]: `plan::operator`). The operator installs
//! no gateways, so the gateways' colours stay releases of Istio's `gateway` chart (Flux
//! HelmReleases, the operator docs' own way to add a gateway), without the `dependsOn` on
//! an istiod HelmRelease that a Sail mesh does not have. `docs/render.md` describes the
//! layout.

use super::model::RenderModel;
use super::values;
use super::{ISTIO_NAMESPACE, RenderError, Renderer};
use crate::catalog::Version;
use crate::catalog::sail::GRACE_PERIOD_SECONDS;
use crate::spec::sail_revision_name;
use serde_json::{Value, json};

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
        refuse_pruned(&vals)?;
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

/// Refuses values the `Istio` CRD's structural schema would drop on apply (a misspelt key
/// of `spec.istio.values` that the operator would never see).
fn refuse_pruned(values: &serde_json::Map<String, Value>) -> Result<(), RenderError> {
    let schema = super::schema::schema_of("sailoperator.io/v1", "Istio")
        .map_err(RenderError::Internal)?
        .and_then(|s| s.pointer("/properties/spec/properties/values"))
        .ok_or_else(|| RenderError::Internal("no spec.values in the Istio schema".into()))?;
    let dropped = super::pruning::pruned(schema, &Value::Object(values.clone()));
    if dropped.is_empty() {
        return Ok(());
    }
    Err(RenderError::UnsupportedAt {
        message: format!(
            "the Sail Istio's spec.values have no field {}: the API server would drop {} on apply, unseen by the operator (check the keys against Sail's Values API reference)",
            dropped.join(", "),
            if dropped.len() == 1 { "it" } else { "them" }
        ),
        field: &["spec", "istio", "values"],
    })
}

#[cfg(test)]
mod tests {
    use super::super::model::{RenderGateway, RenderRevision};
    use super::super::{Charts, RenderedTree, render};
    use super::*;
    use crate::spec::model::{Delivery, GatewayService, GatewayStrategy, IstioConfig};

    fn revision(version: &str, tags: &[&str]) -> RenderRevision {
        RenderRevision {
            name: sail_revision_name("prod", version),
            version: version.into(),
            tags: tags.iter().map(|t| (*t).to_string()).collect(),
        }
    }

    /// The mesh `prod` in the middle of a hop: 1.29.6 still serves the `default` tag,
    /// 1.30.3 runs the idle gateway colour.
    fn model() -> RenderModel {
        RenderModel {
            cluster: "prod".into(),
            delivery: Delivery::Sail,
            chart_repository: "https://istio-release.storage.googleapis.com/charts".into(),
            hub: Some("registry.example/istio".into()),
            argocd: Default::default(),
            values: serde_json::from_value(
                json!({"pilot": {"resources": {"requests": {"cpu": "500m"}}}}),
            )
            .expect("a mapping"),
            config: IstioConfig::default(),
            revisions: vec![revision("1.30.3", &[]), revision("1.29.6", &["default"])],
            default_revision: Some(sail_revision_name("prod", "1.29.6")),
            gateways: vec![RenderGateway {
                name: "ingress".into(),
                namespace: "istio-ingress".into(),
                strategy: GatewayStrategy::BlueGreen,
                colours: [
                    ("blue".to_string(), sail_revision_name("prod", "1.29.6")),
                    ("green".to_string(), sail_revision_name("prod", "1.30.3")),
                ]
                .into(),
                active: Some("blue".into()),
                service: GatewayService::default(),
                values: serde_json::Map::new(),
                restarts: Default::default(),
            }],
            namespaces: vec![],
            restarts: vec![],
        }
    }

    fn doc(tree: &RenderedTree, path: &str) -> Value {
        let text = tree
            .get(path)
            .unwrap_or_else(|| panic!("{path}: {:?}", tree.keys()));
        serde_saphyr::from_str(text).expect("one YAML document")
    }

    #[test]
    fn one_istio_at_the_newest_version_and_tags_by_revision_name() {
        let tree = render(&model(), &Charts::embedded()).expect("renders");
        let istio = doc(&tree, "istio-system/istio.yaml");
        assert_eq!(istio["metadata"]["name"], "prod");
        assert!(
            istio["metadata"].get("namespace").is_none(),
            "cluster-scoped"
        );
        assert_eq!(istio["spec"]["version"], "v1.30.3");
        assert_eq!(istio["spec"]["namespace"], "istio-system");
        assert_eq!(
            istio["spec"]["updateStrategy"],
            json!({"type": "RevisionBased", "inactiveRevisionDeletionGracePeriodSeconds": 30,
                   "updateWorkloads": false})
        );
        let values = &istio["spec"]["values"];
        assert!(values.get("revision").is_none() && values.get("revisionTags").is_none());
        assert_eq!(values["global"]["hub"], "registry.example/istio");
        assert_eq!(values["pilot"]["resources"]["requests"]["cpu"], "500m");
        assert_eq!(values["meshConfig"]["enablePrometheusMerge"], true);
        let tag = doc(&tree, "istio-system/revisiontag-default.yaml");
        assert_eq!(
            tag["spec"]["targetRef"],
            json!({"kind": "IstioRevision", "name": "prod-v1-29-6"})
        );
        // One Istio, whatever the number of revisions: no istiod or base release.
        assert!(
            !tree
                .keys()
                .any(|p| p.contains("istiod") || p.contains("istio-base"))
        );
    }

    #[test]
    fn gateway_colours_are_flux_releases_without_an_istiod_dependency() {
        let tree = render(&model(), &Charts::embedded()).expect("renders");
        for (colour, rev) in [("blue", "prod-v1-29-6"), ("green", "prod-v1-30-3")] {
            let release = doc(&tree, &format!("istio-ingress/ingress-{colour}.yaml"));
            assert_eq!(release["kind"], "HelmRelease");
            assert_eq!(release["spec"]["values"]["revision"], rev);
            assert!(release["spec"].get("dependsOn").is_none(), "{release}");
        }
        assert!(tree.contains_key("istio-ingress/helmrepository.yaml"));
        let kustomization = doc(&tree, "kustomization.yaml");
        let resources = kustomization["resources"].as_array().expect("resources");
        assert!(resources.contains(&json!("istio-system/istio.yaml")));
    }

    #[test]
    fn a_version_the_operator_does_not_install_is_refused_at_the_spec_version() {
        let mut m = model();
        m.revisions = vec![revision("1.27.9", &["default"])];
        m.default_revision = Some(sail_revision_name("prod", "1.27.9"));
        m.gateways.clear();
        let err = render(&m, &Charts::embedded()).expect_err("refused");
        match err {
            RenderError::UnsupportedAt { message, field } => {
                assert_eq!(field, ["spec", "istio", "version"]);
                assert!(
                    message.contains("Istio 1.27.9") && message.contains("end of life"),
                    "{message}"
                );
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn values_the_api_server_would_drop_are_refused_at_spec_istio_values() {
        let mut m = model();
        m.values = serde_json::from_value(json!({"pilot": {"replicas": 3, "env": {"A": "b"}}}))
            .expect("a mapping");
        let err = render(&m, &Charts::embedded()).expect_err("refused");
        match err {
            RenderError::UnsupportedAt { message, field } => {
                assert_eq!(field, ["spec", "istio", "values"]);
                assert!(message.contains("no field /pilot/replicas:"), "{message}");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_revision_not_named_as_the_operator_names_it_is_refused() {
        let mut m = model();
        m.revisions[0].name = "1-30-3".into();
        m.gateways.clear();
        let err = render(&m, &Charts::embedded()).expect_err("refused");
        assert!(
            matches!(&err, RenderError::Unsupported(msg) if msg.contains("prod-v1-30-3")),
            "{err}"
        );
    }
}
