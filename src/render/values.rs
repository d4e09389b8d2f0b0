//! The Helm values meshplan writes for the Istio charts (`base`, `istiod`, `gateway`), decided
//! in Rust rather than in templates so every delivery (HelmRelease, Application,
//! IstioOperator) installs the same thing, and checked against the real charts by
//! `tests/render.rs` with the real Helm.
//!
//! Value names were checked against the charts' `values.yaml` in
//! `../shared/data/istio-charts/<1.22.8,1.24.6,1.26.8,1.28.10>/`: `revision`, `revisionTags`,
//! `compatibilityVersion`, `meshConfig`, `pilot.env`, `global.hub` (istiod);
//! `defaultRevision` (base); `revision`, `labels`, `service.type` (gateway, whose
//! `templates/service.yaml` renders no Service at all when `service.type` is `None`).

use super::RenderError;
use super::model::{COLOUR_LABEL, RESTART_ANNOTATION, RenderGateway, RenderModel, RenderRevision};
use crate::catalog::Version;
use crate::spec::model::NativeSidecars;
use serde_json::{Map, Value, json};

/// First Istio minor whose istiod chart is known (from the shared chart values) to take
/// `revisionTags`; older charts are not verified, so tags on them are refused, not dropped.
const REVISION_TAGS_SINCE: (u32, u32) = (1, 22);

/// Gateway charts before this minor ship a `values.schema.json` whose root combines `$ref`
/// with `additionalProperties: false`. Helm 3's draft-07 validator ignored keywords beside
/// `$ref`; Helm 4 (2020-12 semantics) applies them and rejects every value, even the chart's
/// own defaults (checked with Helm 4.1.4 on 1.22.8 and 1.24.6; 1.26.8 and 1.28.10 are fixed).
const GATEWAY_SCHEMA_FIXED_IN: (u32, u32) = (1, 26);

/// Whether `chart` at `version` must be installed without Helm's values-schema check. The
/// values meshplan writes for it are still checked against that schema by `tests/render.rs`.
pub fn chart_schema_is_broken(chart: &str, version: &str) -> bool {
    chart == "gateway"
        && Version::parse(version).is_ok_and(|v| v.minor_key() < GATEWAY_SCHEMA_FIXED_IN)
}

/// `base` chart values: the default validator points at the default revision, or is not
/// rendered at all (`""`) so it never points at an istiod that does not exist.
pub fn base_values(model: &RenderModel) -> Map<String, Value> {
    let mut v = Map::new();
    v.insert(
        "defaultRevision".into(),
        Value::String(model.default_revision.clone().unwrap_or_default()),
    );
    // The base charts from 1.24 on no longer default `global.remotePilotAddress`, yet
    // `templates/endpoints.yaml` passes it to `regexMatch`: Helm 4 (4.1.4 in our tests)
    // refuses to render a nil there, so the chart fails with no values at all. "" is the old default (no remote
    // istiod), so setting it changes nothing else.
    v.insert("global".into(), json!({"remotePilotAddress": ""}));
    v
}

/// The values meshplan decides for one revision's istiod, before the user's values.
fn own_istiod_values(model: &RenderModel, rev: &RenderRevision) -> Result<Value, RenderError> {
    let version = Version::parse(&rev.version)
        .map_err(|e| RenderError::Model(format!("revision {}: bad version `{}`", rev.name, e.0)))?;
    let mut v = json!({ "revision": rev.name });
    if !rev.tags.is_empty() {
        if version.minor_key() < REVISION_TAGS_SINCE {
            return Err(RenderError::UnsupportedAt {
                message: format!(
                    "revision tags ({}) on Istio {}: the renderer knows the istiod chart takes \
                     `revisionTags` from {}.{} on",
                    rev.tags.join(", "),
                    rev.version,
                    REVISION_TAGS_SINCE.0,
                    REVISION_TAGS_SINCE.1
                ),
                field: &["spec", "istio", "revisionTags"],
            });
        }
        v["revisionTags"] = json!(rev.tags);
    }
    if let Some(hub) = &model.hub {
        v["global"] = json!({ "hub": hub });
    }
    v["meshConfig"] = json!({
        "enablePrometheusMerge": model.config.prometheus_merge,
        "defaultConfig": {"gatewayTopology": {"numTrustedProxies": model.config.num_trusted_proxies}},
    });
    if let Some(cv) = &model.config.compatibility_version {
        v["compatibilityVersion"] = json!(cv);
    }
    // A tenant's istiod runs in its own namespace and discovers only its own namespaces
    // (Sail's "multiple meshes" layout); a single mesh keeps the chart's defaults.
    if let Some(t) = &model.tenant {
        v["global"]["istioNamespace"] = json!(t.namespace);
    }
    if let Some(t) = model
        .tenant
        .as_ref()
        .filter(|t| !t.discovery_selectors.is_empty())
    {
        v["meshConfig"]["discoverySelectors"] = t
            .discovery_selectors
            .iter()
            .map(label_selector)
            .collect::<Result<Vec<_>, _>>()?
            .into();
    }
    match model.config.native_sidecars {
        NativeSidecars::Auto => {}
        NativeSidecars::Enabled => v["pilot"] = json!({"env": {"ENABLE_NATIVE_SIDECARS": "true"}}),
        NativeSidecars::Disabled => {
            v["pilot"] = json!({"env": {"ENABLE_NATIVE_SIDECARS": "false"}})
        }
    }
    Ok(v)
}

/// A label selector as Kubernetes writes it: empty parts left out.
fn label_selector(s: &crate::spec::LabelSelector) -> Result<Value, RenderError> {
    let mut out = Map::new();
    if !s.match_labels.is_empty() {
        out.insert("matchLabels".into(), json!(s.match_labels));
    }
    if !s.match_expressions.is_empty() {
        let exprs = serde_json::to_value(&s.match_expressions).map_err(|e| {
            RenderError::Internal(format!("a discovery selector does not serialize: {e}"))
        })?;
        out.insert("matchExpressions".into(), exprs);
    }
    Ok(Value::Object(out))
}

/// `istiod` chart values of one revision: meshplan's, with `spec.istio.values` deep-merged over.
pub fn istiod_values(
    model: &RenderModel,
    rev: &RenderRevision,
) -> Result<Map<String, Value>, RenderError> {
    let mut v = own_istiod_values(model, rev)?;
    deep_merge(&mut v, &Value::Object(model.values.clone()));
    Ok(into_map(v))
}

/// `gateway` chart values of one colour: its revision, labels telling the colours apart (the
/// chart's `istio` selector label is the gateway's name for every colour), and no Service of
/// the chart's own: traffic goes through the separately owned Service. `spec.gateways[].values`
/// are deep-merged over, so a user can override even these; policy MP402 judges the result.
/// A colour meshplan restarted carries the restart annotation on its pods (`podAnnotations`
/// merges over the chart's own key by key, so its defaults stay).
pub fn gateway_values(gw: &RenderGateway, colour: &str, revision: &str) -> Map<String, Value> {
    let mut v = json!({
        "revision": revision,
        "labels": {"istio": gw.name, COLOUR_LABEL: colour},
        "service": {"type": "None"},
    });
    if let Some(value) = gw.restarts.get(colour) {
        v["podAnnotations"] = json!({RESTART_ANNOTATION: value});
    }
    deep_merge(&mut v, &Value::Object(gw.values.clone()));
    into_map(v)
}

/// The `k8s` block (IstioOperator's KubernetesResourcesSpec) of one colour's ingress gateway
/// component: a ClusterIP Service, as the traffic Service is owned separately, with
/// `spec.gateways[].values` deep-merged over (`resources`, `nodeSelector`, `hpaSpec`, ...).
/// A colour meshplan restarted carries the restart annotation in `k8s.podAnnotations`.
pub fn operator_gateway_k8s(gw: &RenderGateway, colour: &str) -> Value {
    let mut k8s = json!({"service": {"type": "ClusterIP"}});
    if let Some(value) = gw.restarts.get(colour) {
        k8s["podAnnotations"] = json!({RESTART_ANNOTATION: value});
    }
    deep_merge(&mut k8s, &Value::Object(gw.values.clone()));
    k8s
}

/// Splits istiod values into the parts of an IstioOperator: (`spec.meshConfig`,
/// `spec.values`). `revision` moves to `spec.revision` and `global.hub` to `spec.hub`.
pub fn operator_parts(
    model: &RenderModel,
    rev: &RenderRevision,
) -> Result<(Value, Value), RenderError> {
    let mut values = istiod_values(model, rev)?;
    values.remove("revision");
    let mesh = values.remove("meshConfig").unwrap_or_else(|| json!({}));
    if let Some(Value::Object(global)) = values.get_mut("global") {
        global.remove("hub");
        if global.is_empty() {
            values.remove("global");
        }
    }
    values.insert(
        "defaultRevision".into(),
        Value::String(model.default_revision.clone().unwrap_or_default()),
    );
    Ok((mesh, Value::Object(values)))
}

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Helm's merge of user values over defaults: mappings merge key by key, anything else
/// (scalars, lists, null) replaces.
pub fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, ov) in o {
                match b.get_mut(k) {
                    Some(bv) if bv.is_object() && ov.is_object() => deep_merge(bv, ov),
                    _ => {
                        b.insert(k.clone(), ov.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::model::{Delivery, GatewayService, GatewayStrategy, IstioConfig};
    use std::collections::BTreeMap;

    fn model() -> RenderModel {
        RenderModel {
            cluster: "c".into(),
            delivery: Delivery::FluxHelm,
            chart_repository: "https://example/charts".into(),
            hub: Some("registry.example/istio".into()),
            argocd: Default::default(),
            values: serde_json::from_value(json!({"pilot": {"env": {"A": "1"}}, "meshConfig": {"accessLogFile": "/dev/stdout"}}))
                .expect("the test input parses"),
            config: IstioConfig {
                native_sidecars: NativeSidecars::Enabled,
                compatibility_version: Some("1.23".into()),
                ..IstioConfig::default()
            },
            revisions: vec![],
            default_revision: None,
            gateways: vec![],
            namespaces: vec![],
            restarts: vec![],
            tenant: None,
        }
    }

    fn rev(version: &str, tags: &[&str]) -> RenderRevision {
        RenderRevision {
            name: version.replace('.', "-"),
            version: version.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn user_values_merge_over_meshplans() {
        let v = istiod_values(&model(), &rev("1.24.6", &["default"])).expect("values");
        let v = Value::Object(v);
        assert_eq!(v["revision"], "1-24-6");
        assert_eq!(v["revisionTags"], json!(["default"]));
        assert_eq!(v["global"]["hub"], "registry.example/istio");
        assert_eq!(v["compatibilityVersion"], "1.23");
        assert_eq!(
            v["pilot"]["env"],
            json!({"ENABLE_NATIVE_SIDECARS": "true", "A": "1"})
        );
        assert_eq!(v["meshConfig"]["enablePrometheusMerge"], true);
        assert_eq!(v["meshConfig"]["accessLogFile"], "/dev/stdout");
        assert_eq!(
            v["meshConfig"]["defaultConfig"]["gatewayTopology"]["numTrustedProxies"],
            0
        );
    }

    #[test]
    fn auto_native_sidecars_leave_the_chart_default() {
        let mut m = model();
        m.config.native_sidecars = NativeSidecars::Auto;
        m.values = Map::new();
        let v = istiod_values(&m, &rev("1.26.8", &[])).expect("values");
        assert!(!v.contains_key("pilot"));
        assert!(!v.contains_key("revisionTags"));
    }

    #[test]
    fn tags_on_an_unverified_chart_are_refused() {
        let err = istiod_values(&model(), &rev("1.21.6", &["default"])).expect_err("refused");
        assert!(!err.is_internal());
    }

    #[test]
    fn operator_parts_move_mesh_config_and_hub_out_of_values() {
        let mut m = model();
        m.default_revision = Some("1-24-6".into());
        let (mesh, values) = operator_parts(&m, &rev("1.24.6", &[])).expect("parts");
        assert_eq!(mesh["accessLogFile"], "/dev/stdout");
        assert!(values.get("meshConfig").is_none() && values.get("global").is_none());
        assert!(values.get("revision").is_none());
        assert_eq!(values["defaultRevision"], "1-24-6");
    }

    /// Blue/green gateway `istio-ingress/ingress` with `values` from the spec.
    fn ingress(values: Value) -> RenderGateway {
        RenderGateway {
            name: "ingress".into(),
            namespace: "istio-ingress".into(),
            strategy: GatewayStrategy::BlueGreen,
            colours: BTreeMap::new(),
            active: None,
            service: GatewayService::default(),
            values: serde_json::from_value(values).expect("the test input parses"),
            restarts: BTreeMap::new(),
        }
    }

    #[test]
    fn gateway_colours_differ_only_in_their_label() {
        let gw = ingress(json!({}));
        let blue = gateway_values(&gw, "blue", "1-24-6");
        assert_eq!(blue["service"], json!({"type": "None"}));
        assert_eq!(
            blue["labels"],
            json!({"istio": "ingress", "meshplan.dev/colour": "blue"})
        );
    }

    #[test]
    fn gateway_values_of_the_spec_merge_over_meshplans() {
        let values = json!({"service": {"type": "LoadBalancer"},
                            "resources": {"requests": {"cpu": "100m"}},
                            "labels": {"team": "edge"}});
        let gw = ingress(values);
        let blue = gateway_values(&gw, "blue", "1-24-6");
        assert_eq!(blue["service"], json!({"type": "LoadBalancer"}));
        assert_eq!(blue["resources"]["requests"]["cpu"], "100m");
        assert_eq!(
            blue["labels"],
            json!({"istio": "ingress", "meshplan.dev/colour": "blue", "team": "edge"})
        );
        let k8s = operator_gateway_k8s(&gw, "blue");
        assert_eq!(k8s["service"], json!({"type": "LoadBalancer"}));
        assert_eq!(k8s["resources"]["requests"]["cpu"], "100m");
    }

    #[test]
    fn a_restarted_colour_carries_the_bump_beside_the_spec_pod_annotations() {
        let mut gw = ingress(json!({"podAnnotations": {"team": "edge"}}));
        gw.restarts.insert("green".into(), "1-26-8.2".into());
        let green = gateway_values(&gw, "green", "1-26-8");
        assert_eq!(
            green["podAnnotations"],
            json!({"meshplan.dev/restarted-for": "1-26-8.2", "team": "edge"})
        );
        assert_eq!(
            gateway_values(&gw, "blue", "1-24-6").get("podAnnotations"),
            Some(&json!({"team": "edge"}))
        );
        assert_eq!(
            operator_gateway_k8s(&gw, "green")["podAnnotations"]["meshplan.dev/restarted-for"],
            "1-26-8.2"
        );
    }

    #[test]
    fn deep_merge_replaces_lists_and_scalars() {
        let mut a = json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        deep_merge(&mut a, &json!({"a": {"c": [3]}, "d": {"e": 1}}));
        assert_eq!(a, json!({"a": {"b": 1, "c": [3]}, "d": {"e": 1}}));
    }
}
