//! The istiod and gateway releases and how each delivery ships them: Flux HelmReleases,
//! Argo CD Applications, IstioOperator resources.

use super::*;

/// One Helm release of any delivery, before its template lays it out.
pub(super) struct Release {
    pub(super) name: String,
    pub(super) namespace: String,
    pub(super) chart: &'static str,
    pub(super) version: String,
    pub(super) values: Map<String, Value>,
    /// (name, namespace) of the releases it waits for (Flux `dependsOn`).
    pub(super) depends_on: Vec<(String, String)>,
    /// Argo CD sync wave.
    pub(super) wave: u32,
    /// Install without Helm's values-schema check (see [`values::chart_schema_is_broken`]).
    pub(super) skip_schema_validation: bool,
}

/// The releases of a Helm delivery: base, one istiod per revision, one gateway per colour.
pub(super) fn releases(m: &RenderModel) -> Result<Vec<Release>, RenderError> {
    let mut out = Vec::new();
    // The base chart carries the CRDs: it follows the newest installed revision.
    let newest = m
        .revisions
        .iter()
        .filter_map(|r| Version::parse(&r.version).ok().map(|v| (v, r)))
        .max_by_key(|(v, _)| *v);
    if let Some((_, rev)) = newest {
        out.push(Release {
            name: "istio-base".into(),
            namespace: ISTIO_NAMESPACE.into(),
            chart: "base",
            version: rev.version.clone(),
            values: values::base_values(m),
            depends_on: vec![],
            wave: 0,
            skip_schema_validation: false,
        });
    }
    for rev in &m.revisions {
        out.push(Release {
            name: format!("istiod-{}", rev.name),
            namespace: ISTIO_NAMESPACE.into(),
            chart: "istiod",
            version: rev.version.clone(),
            values: values::istiod_values(m, rev)?,
            depends_on: vec![("istio-base".into(), ISTIO_NAMESPACE.into())],
            wave: 1,
            skip_schema_validation: false,
        });
    }
    for g in &m.gateways {
        for (colour, rev_name) in &g.colours {
            let Some(rev) = m.revisions.iter().find(|r| &r.name == rev_name) else {
                return Err(RenderError::Model(format!(
                    "revision {rev_name} not installed"
                )));
            };
            let name = format!("{}-{colour}", g.name);
            let gateway_values = values::gateway_values(g, colour, rev_name);
            let as_value = Value::Object(gateway_values.clone());
            if let chart_values::ValuesCheck::Invalid(schema, errors) =
                chart_values::check("gateway", &rev.version, &as_value)
                    .map_err(RenderError::Internal)?
            {
                return Err(RenderError::Values {
                    gateway: format!("{}/{}", g.namespace, g.name),
                    release: name,
                    schema: schema.to_string(),
                    errors,
                });
            }
            out.push(Release {
                name,
                namespace: g.namespace.clone(),
                chart: "gateway",
                version: rev.version.clone(),
                values: gateway_values,
                depends_on: vec![(format!("istiod-{rev_name}"), ISTIO_NAMESPACE.into())],
                wave: 2,
                skip_schema_validation: values::chart_schema_is_broken("gateway", &rev.version),
            });
        }
    }
    Ok(out)
}

pub(super) fn release_path(rel: &Release) -> String {
    format!("{}/{}.yaml", rel.namespace, rel.name)
}

pub(super) fn render_flux(
    r: &mut Renderer,
    m: &RenderModel,
    labels: &Value,
) -> Result<(), RenderError> {
    emit_flux(r, m, labels, &releases(m)?)
}

/// Flux HelmReleases of `releases`, with the chart sources they need.
pub(super) fn emit_flux(
    r: &mut Renderer,
    m: &RenderModel,
    labels: &Value,
    releases: &[Release],
) -> Result<(), RenderError> {
    let url = m.chart_repository.trim_end_matches('/');
    let oci = url.starts_with("oci://");
    if !oci {
        let namespaces: BTreeSet<&str> = releases.iter().map(|r| r.namespace.as_str()).collect();
        for ns in namespaces {
            r.emit(
                format!("{ns}/helmrepository.yaml"),
                "flux-helm/source.yaml.j2",
                json!({"source": {"name": "istio", "namespace": ns, "url": url}, "labels": labels}),
                None,
            )?;
        }
    }
    for rel in releases {
        let depends_on: Vec<Value> = rel
            .depends_on
            .iter()
            .map(|(name, namespace)| json!({"name": name, "namespace": namespace}))
            .collect();
        r.emit(
            release_path(rel),
            "flux-helm/release.yaml.j2",
            json!({
                "release": {"name": rel.name, "namespace": rel.namespace, "chart": rel.chart,
                            "version": rel.version, "values": rel.values, "dependsOn": depends_on,
                            "skipSchemaValidation": rel.skip_schema_validation},
                "source": {"name": "istio", "namespace": rel.namespace, "url": url, "oci": oci},
                "labels": labels,
            }),
            None,
        )?;
    }
    Ok(())
}

pub(super) fn render_argocd(
    r: &mut Renderer,
    m: &RenderModel,
    labels: &Value,
) -> Result<(), RenderError> {
    let url = m.chart_repository.trim_end_matches('/');
    for rel in &releases(m)? {
        r.emit(
            release_path(rel),
            "argocd-helm/application.yaml.j2",
            json!({
                "release": {"name": rel.name, "namespace": rel.namespace, "chart": rel.chart,
                            "version": rel.version, "values": rel.values,
                            "wave": rel.wave.to_string(),
                            "skipSchemaValidation": rel.skip_schema_validation},
                "source": {"url": url},
                "argocd": {"project": m.argocd.project, "namespace": m.argocd.namespace},
                "labels": labels,
            }),
            None,
        )?;
    }
    Ok(())
}

pub(super) fn render_operator(
    r: &mut Renderer,
    m: &RenderModel,
    labels: &Value,
) -> Result<(), RenderError> {
    for rev in &m.revisions {
        let (mesh, vals) = values::operator_parts(m, rev)?;
        let gateways: Vec<Value> = m
            .gateways
            .iter()
            .flat_map(|g| {
                g.colours
                    .iter()
                    .filter(|(_, r)| **r == rev.name)
                    .map(move |(colour, _)| {
                        json!({"name": format!("{}-{colour}", g.name), "namespace": g.namespace,
                               "labels": {"app": format!("{}-{colour}", g.name), "istio": g.name,
                                          COLOUR_LABEL: colour},
                               "k8s": values::operator_gateway_k8s(g, colour)})
                    })
            })
            .collect();
        r.emit(
            format!("{ISTIO_NAMESPACE}/istiooperator-{}.yaml", rev.name),
            "istio-operator/istiooperator.yaml.j2",
            json!({
                "operator": {"name": format!("istiod-{}", rev.name), "revision": rev.name,
                             "version": rev.version, "hub": m.hub, "meshConfig": mesh,
                             "values": vals, "gateways": gateways},
                "labels": labels,
            }),
            None,
        )?;
    }
    Ok(())
}
