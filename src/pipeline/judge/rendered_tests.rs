//! Unit tests of `rendered`.

use super::*;
use crate::render::{RenderGateway, RenderModel, RenderRevision};
use crate::spec::model::{Delivery, GatewayService, IstioConfig};
use serde_json::json;

fn spec_gateways() -> Vec<Gateway> {
    serde_json::from_value(json!([
        {"name": "ingress", "namespace": "istio-ingress", "strategy": "blue-green"},
        {"name": "edge", "namespace": "istio-ingress", "strategy": "in-place"},
    ]))
    .expect("the test input parses")
}

fn gateway(name: &str, strategy: GatewayStrategy, values: Value) -> RenderGateway {
    RenderGateway {
        name: name.into(),
        namespace: "istio-ingress".into(),
        strategy,
        colours: [
            ("blue".to_string(), "1-24-6".to_string()),
            ("green".to_string(), "1-26-8".to_string()),
        ]
        .into(),
        active: Some("blue".into()),
        service: GatewayService::default(),
        values: serde_json::from_value(values).expect("the test input parses"),
        restarts: BTreeMap::new(),
    }
}

/// Two gateways on two revisions: `ingress` (blue/green) asks for a LoadBalancer in its
/// values, `edge` (in place) keeps meshplan's.
fn model(delivery: Delivery, repository: &str) -> RenderModel {
    let revision = |v: &str| RenderRevision {
        name: v.replace('.', "-"),
        version: v.into(),
        tags: vec![],
    };
    RenderModel {
        cluster: "c".into(),
        delivery,
        chart_repository: repository.into(),
        hub: None,
        argocd: Default::default(),
        values: serde_json::Map::new(),
        config: IstioConfig::default(),
        revisions: vec![revision("1.24.6"), revision("1.26.8")],
        default_revision: Some("1-24-6".into()),
        gateways: vec![
            gateway(
                "ingress",
                GatewayStrategy::BlueGreen,
                json!({"service": {"type": "LoadBalancer"}, "resources": {"limits": {"cpu": "1"}}}),
            ),
            gateway("edge", GatewayStrategy::InPlace, json!({})),
        ],
        namespaces: vec![],
        restarts: vec![],
    }
}

/// (gateway, colour, strategy, serviceType, kind/name, file, line) of each release.
type Row = (
    String,
    String,
    Option<GatewayStrategy>,
    Option<String>,
    String,
    String,
    u64,
);

fn rows(found: &[GatewayRelease]) -> Vec<Row> {
    let mut rows: Vec<Row> = found
        .iter()
        .map(|g| {
            (
                g.gateway.clone(),
                g.colour.clone(),
                g.strategy,
                g.service_type.clone(),
                format!("{}/{}", g.object.kind, g.object.name),
                g.file.clone(),
                g.line,
            )
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    rows
}

fn render_rows(delivery: Delivery, repository: &str) -> Vec<Row> {
    let tree =
        crate::render::render(&model(delivery, repository), &Charts::embedded()).expect("renders");
    rows(&gateway_releases(&tree, "rendered/", &spec_gateways()).expect("read"))
}

fn row(
    gateway: &str,
    colour: &str,
    strategy: GatewayStrategy,
    service_type: &str,
    object: &str,
    file: &str,
    line: u64,
) -> Row {
    (
        format!("istio-ingress/{gateway}"),
        colour.into(),
        Some(strategy),
        Some(service_type.into()),
        object.into(),
        format!("rendered/{file}"),
        line,
    )
}

#[test]
fn flux_releases_are_found_with_their_service_type() {
    use GatewayStrategy::{BlueGreen, InPlace};
    assert_eq!(
        render_rows(Delivery::FluxHelm, "https://charts.example"),
        [
            row(
                "edge",
                "blue",
                InPlace,
                "None",
                "HelmRelease/edge-blue",
                "istio-ingress/edge-blue.yaml",
                1
            ),
            row(
                "edge",
                "green",
                InPlace,
                "None",
                "HelmRelease/edge-green",
                "istio-ingress/edge-green.yaml",
                1
            ),
            row(
                "ingress",
                "blue",
                BlueGreen,
                "LoadBalancer",
                "HelmRelease/ingress-blue",
                "istio-ingress/ingress-blue.yaml",
                1
            ),
            row(
                "ingress",
                "green",
                BlueGreen,
                "LoadBalancer",
                "HelmRelease/ingress-green",
                "istio-ingress/ingress-green.yaml",
                1
            ),
        ]
    );
}

#[test]
fn flux_oci_releases_are_found_below_their_source() {
    let rows = render_rows(Delivery::FluxHelm, "oci://registry.example/istio");
    assert_eq!(rows.len(), 4);
    // The OCIRepository comes first in the file; the line is the HelmRelease's.
    assert!(
        rows.iter()
            .all(|r| r.4.starts_with("HelmRelease/") && r.6 > 1),
        "{rows:?}"
    );
}

#[test]
fn argocd_applications_are_found() {
    use GatewayStrategy::{BlueGreen, InPlace};
    assert_eq!(
        render_rows(Delivery::ArgocdHelm, "https://charts.example"),
        [
            row(
                "edge",
                "blue",
                InPlace,
                "None",
                "Application/edge-blue",
                "istio-ingress/edge-blue.yaml",
                1
            ),
            row(
                "edge",
                "green",
                InPlace,
                "None",
                "Application/edge-green",
                "istio-ingress/edge-green.yaml",
                1
            ),
            row(
                "ingress",
                "blue",
                BlueGreen,
                "LoadBalancer",
                "Application/ingress-blue",
                "istio-ingress/ingress-blue.yaml",
                1
            ),
            row(
                "ingress",
                "green",
                BlueGreen,
                "LoadBalancer",
                "Application/ingress-green",
                "istio-ingress/ingress-green.yaml",
                1
            ),
        ]
    );
}

#[test]
fn istio_operator_components_are_found_in_their_revisions_operator() {
    use GatewayStrategy::{BlueGreen, InPlace};
    let (old, new) = (
        "istio-system/istiooperator-1-24-6.yaml",
        "istio-system/istiooperator-1-26-8.yaml",
    );
    assert_eq!(
        render_rows(Delivery::IstioOperator, "https://charts.example"),
        [
            row(
                "edge",
                "blue",
                InPlace,
                "ClusterIP",
                "IstioOperator/istiod-1-24-6",
                old,
                1
            ),
            row(
                "edge",
                "green",
                InPlace,
                "ClusterIP",
                "IstioOperator/istiod-1-26-8",
                new,
                1
            ),
            row(
                "ingress",
                "blue",
                BlueGreen,
                "LoadBalancer",
                "IstioOperator/istiod-1-24-6",
                old,
                1
            ),
            row(
                "ingress",
                "green",
                BlueGreen,
                "LoadBalancer",
                "IstioOperator/istiod-1-26-8",
                new,
                1
            ),
        ]
    );
}

#[test]
fn hand_edited_files_are_read_as_they_are() {
    let tree: RenderedTree = [
        // Colour label gone, chart default Service: still the green colour of ingress.
        (
            "istio-ingress/ingress-green.yaml",
            "# edited\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ingress-green\n  namespace: istio-ingress\nspec:\n  chart:\n    spec: {chart: gateway}\n  values: {revision: 1-26-8}\n",
        ),
        // A gateway the spec does not list.
        (
            "other/lb-blue.yaml",
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: lb-blue, namespace: other}\nspec:\n  values:\n    labels: {meshplan.dev/colour: blue}\n    service: {type: LoadBalancer}\n",
        ),
        // Not a gateway: istiod, and a release of another chart named like a colour.
        (
            "istio-system/istiod.yaml",
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: istiod, namespace: istio-system}\nspec:\n  chart: {spec: {chart: istiod}}\n",
        ),
        (
            "istio-ingress/ingress-cache.yaml",
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: ingress-cache, namespace: istio-ingress}\nspec:\n  chart: {spec: {chart: redis}}\n",
        ),
        // Broken by hand: skipped, MP502 names it.
        ("istio-ingress/ingress-blue.yaml", "kind: [HelmRelease\n  : :\n"),
        ("notes.txt", "kind: HelmRelease\n"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_string(), t.to_string()))
    .collect();
    let found = gateway_releases(&tree, "", &spec_gateways()).expect("read");
    assert_eq!(
        rows(&found),
        [
            (
                "istio-ingress/ingress".to_string(),
                "green".to_string(),
                Some(GatewayStrategy::BlueGreen),
                None,
                "HelmRelease/ingress-green".to_string(),
                "istio-ingress/ingress-green.yaml".to_string(),
                2,
            ),
            (
                "other/lb".to_string(),
                "blue".to_string(),
                None,
                Some("LoadBalancer".to_string()),
                "HelmRelease/lb-blue".to_string(),
                "other/lb-blue.yaml".to_string(),
                1,
            ),
        ]
    );
}

#[test]
fn argocd_service_type_follows_parameters_then_values_object_then_values_string() {
    let app = |helm: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: ingress-blue, namespace: argocd}}\nspec:\n  destination: {{namespace: istio-ingress}}\n  source:\n    chart: gateway\n    helm:\n{helm}"
        )
    };
    let cases = [
        (
            "      values: \"service:\\n  type: LoadBalancer\\n\"\n",
            Some("LoadBalancer"),
        ),
        (
            "      values: \"service:\\n  type: LoadBalancer\\n\"\n      valuesObject: {service: {type: None}}\n",
            Some("None"),
        ),
        (
            "      valuesObject: {service: {type: None}}\n      parameters: [{name: service.type, value: LoadBalancer}]\n",
            Some("LoadBalancer"),
        ),
        // Aliases are refused like anywhere else: the string does not count.
        (
            "      values: \"a: &x 1\\nb: *x\\nservice: {type: None}\\n\"\n",
            None,
        ),
        ("      valuesObject: {revision: 1-24-6}\n", None),
    ];
    for (helm, want) in cases {
        let tree: RenderedTree =
            [("istio-ingress/ingress-blue.yaml".to_string(), app(helm))].into();
        let found = gateway_releases(&tree, "", &spec_gateways()).expect("read");
        assert_eq!(found.len(), 1, "{helm}");
        assert_eq!(
            found.first().and_then(|f| f.service_type.as_deref()),
            want,
            "{helm}"
        );
    }
}

#[test]
fn merge_keeps_one_of_each_and_both_sides_of_a_disagreement() {
    let tree = crate::render::render(
        &model(Delivery::FluxHelm, "https://c.example"),
        &Charts::embedded(),
    )
    .expect("renders");
    let a = gateway_releases(&tree, "rendered", &spec_gateways()).expect("read");
    let mut b = a.clone();
    if let Some(first) = b.first_mut() {
        first.service_type = Some("ClusterIP".into());
    }
    let merged = merge(vec![a.clone(), b]);
    assert_eq!(merged.len(), a.len() + 1);
    let input = to_input(None, &merged).expect("input");
    assert_eq!(input["gateways"][0]["serviceType"], "ClusterIP");
    assert_eq!(input["gateways"][0]["strategy"], "in-place");
    assert!(input.get("drift").is_none());
}
