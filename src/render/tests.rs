//! Unit tests of the render pipeline on small hand-built models; the golden trees, the real
//! Helm checks and the determinism test live in `tests/render.rs`.

use super::*;
use crate::diagnostic::ObjectRef;
use crate::spec::model::{GatewayService, GatewayStrategy, IstioConfig, ServicePort};

fn model(delivery: Delivery) -> RenderModel {
    RenderModel {
        cluster: "prod-eu-1".into(),
        delivery,
        chart_repository: "https://istio-release.storage.googleapis.com/charts".into(),
        hub: None,
        argocd: Default::default(),
        values: Map::new(),
        config: IstioConfig::default(),
        revisions: vec![RenderRevision {
            name: "1-24-6".into(),
            version: "1.24.6".into(),
            tags: vec!["default".into()],
        }],
        default_revision: Some("1-24-6".into()),
        gateways: vec![RenderGateway {
            name: "ingress".into(),
            namespace: "istio-ingress".into(),
            strategy: GatewayStrategy::BlueGreen,
            colours: [("blue".to_string(), "1-24-6".to_string())].into(),
            active: Some("blue".into()),
            service: GatewayService {
                service_type: "LoadBalancer".into(),
                ports: vec![ServicePort {
                    name: "http2".into(),
                    port: 80,
                    target_port: Some(8080),
                    protocol: None,
                }],
            },
            values: serde_json::Map::new(),
            restarts: std::collections::BTreeMap::new(),
        }],
        namespaces: vec![RenderNamespace {
            name: "bookinfo".into(),
            labels: [("istio.io/rev".to_string(), "1-24-6".to_string())].into(),
            defined_elsewhere: true,
            remove: vec![],
        }],
        restarts: vec![RestartBump {
            object: ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "bookinfo".into(),
                name: "reviews-v1".into(),
            },
            value: "1-24-6.1".into(),
        }],
        tenant: None,
    }
}

fn docs(tree: &RenderedTree, path: &str) -> Vec<Value> {
    let text = tree
        .get(path)
        .unwrap_or_else(|| panic!("{path} rendered: {:?}", tree.keys()));
    serde_saphyr::from_multiple(text).expect("rendered YAML parses")
}

#[test]
fn flux_tree_has_the_designed_layout() {
    let tree = render(&model(Delivery::FluxHelm), &Charts::embedded()).expect("renders");
    let paths: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "istio-ingress/helmrepository.yaml",
            "istio-ingress/ingress-blue.yaml",
            "istio-ingress/ingress-service.yaml",
            "istio-system/helmrepository.yaml",
            "istio-system/istio-base.yaml",
            "istio-system/istiod-1-24-6.yaml",
            "kustomization.yaml",
            "namespaces/bookinfo.patch.yaml",
            "namespaces/istio-ingress.yaml",
            "namespaces/istio-system.yaml",
            "namespaces/kustomization.yaml",
            "restarts/bookinfo/deployment-reviews-v1.yaml",
            "restarts/kustomization.yaml",
        ]
    );
    let k = &docs(&tree, "kustomization.yaml")[0];
    let resources = k["resources"].as_array().expect("resources");
    // Namespaces first, then sources, releases, Services.
    assert_eq!(resources[0], "namespaces/istio-ingress.yaml");
    assert_eq!(
        resources.last().expect("non-empty"),
        "istio-ingress/ingress-service.yaml"
    );
    let components = tree
        .keys()
        .filter(|p| p.ends_with("/kustomization.yaml"))
        .count();
    assert_eq!(
        resources.len() + 2 + 1 + components,
        tree.len(),
        "every file but patches, the components and itself"
    );
    let restarts = &docs(&tree, "restarts/kustomization.yaml")[0];
    assert_eq!(restarts["kind"], "Component");
    assert_eq!(restarts["patches"][0]["target"]["group"], "apps");
    let svc = &docs(&tree, "istio-ingress/ingress-service.yaml")[0];
    assert_eq!(
        svc["spec"]["selector"],
        json!({"istio": "ingress", "meshplan.dev/colour": "blue"})
    );
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    let gw = &docs(&tree, "istio-ingress/ingress-blue.yaml")[0];
    assert_eq!(
        gw["spec"]["dependsOn"][0],
        json!({"name": "istiod-1-24-6", "namespace": "istio-system"})
    );
    assert_eq!(gw["spec"]["values"]["service"]["type"], "None");
    let restart = &docs(&tree, "restarts/bookinfo/deployment-reviews-v1.yaml")[0];
    assert_eq!(
        restart["spec"]["template"]["metadata"]["annotations"]["meshplan.dev/restarted-for"],
        "1-24-6.1"
    );
}

#[test]
fn oci_repositories_replace_the_helm_repository() {
    let mut m = model(Delivery::FluxHelm);
    m.chart_repository = "oci://registry.example/istio/charts/".into();
    let tree = render(&m, &Charts::embedded()).expect("renders");
    assert!(!tree.contains_key("istio-system/helmrepository.yaml"));
    let d = docs(&tree, "istio-system/istiod-1-24-6.yaml");
    assert_eq!(d[0]["kind"], "OCIRepository");
    assert_eq!(
        d[0]["spec"]["url"],
        "oci://registry.example/istio/charts/istiod"
    );
    assert_eq!(
        d[1]["spec"]["chartRef"],
        json!({"kind": "OCIRepository", "name": "istiod-1-24-6"})
    );
}

#[test]
fn a_user_template_writing_an_invalid_object_names_template_and_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("common")).expect("mkdir");
    let broken = Charts::embedded()
        .source("common/service.yaml.j2")
        .expect("embedded")
        .replace("selector:", "selectr:");
    std::fs::write(dir.path().join("common/service.yaml.j2"), broken).expect("write");
    let charts = Charts::from_dir(dir.path()).expect("charts");
    let err = render(&model(Delivery::FluxHelm), &charts).expect_err("schema rejects");
    let text = err.to_string();
    assert!(text.contains("common/service.yaml.j2"), "{text}");
    assert!(text.contains("Service/istio-ingress/ingress"), "{text}");
    assert!(text.contains("selectr"), "{text}");
    assert!(!err.is_internal());
}

#[test]
fn undefined_variables_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("common")).expect("mkdir");
    std::fs::write(
        dir.path().join("common/namespace.yaml.j2"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ namespace.nmae }}\n",
    )
    .expect("write");
    let charts = Charts::from_dir(dir.path()).expect("charts");
    let err = render(&model(Delivery::FluxHelm), &charts).expect_err("strict undefined");
    assert!(err.to_string().contains("namespace.yaml.j2:4"), "{err}");
}

#[test]
fn inconsistent_models_are_refused_as_our_bug() {
    let mut m = model(Delivery::ArgocdHelm);
    m.gateways[0].colours.insert("green".into(), "9-9-9".into());
    let err = render(&m, &Charts::embedded()).expect_err("colour on an unknown revision");
    assert!(
        err.is_internal() && err.to_string().contains("9-9-9"),
        "{err}"
    );
    // An active colour the gateway lacks comes from a hand-edited lock: the policies report
    // it (MP401/MP404); the render itself is the Service selecting that colour.
    let mut m = model(Delivery::ArgocdHelm);
    m.gateways[0].active = Some("green".into());
    let tree = render(&m, &Charts::embedded()).expect("renders");
    assert!(
        tree.values()
            .any(|t| t.contains("meshplan.dev/colour: green")),
        "the Service selects the colour the lock names"
    );

    let mut m = model(Delivery::ArgocdHelm);
    m.restarts[0].object.kind = "Job".into();
    assert!(render(&m, &Charts::embedded()).is_err_and(|e| e.is_internal()));

    let mut m = model(Delivery::ArgocdHelm);
    m.namespaces[0].name = "../etc".into();
    assert!(render(&m, &Charts::embedded()).is_err_and(|e| e.is_internal()));
}

#[test]
fn input_order_does_not_reach_the_output() {
    let mut a = model(Delivery::IstioOperator);
    a.revisions.push(RenderRevision {
        name: "1-26-8".into(),
        version: "1.26.8".into(),
        tags: vec!["stable".into(), "canary".into()],
    });
    a.namespaces.push(RenderNamespace {
        name: "shop".into(),
        labels: Default::default(),
        defined_elsewhere: false,
        remove: vec![],
    });
    let mut b = a.clone();
    b.revisions.reverse();
    b.namespaces.reverse();
    b.revisions[0].tags.reverse();
    let charts = Charts::embedded();
    assert_eq!(
        render(&a, &charts).expect("a"),
        render(&b, &charts).expect("b")
    );
}

#[test]
fn values_cannot_inject_yaml_structure() {
    let mut m = model(Delivery::FluxHelm);
    let hostile = "x\nkind: Secret\n---\n- {a: b} # c: 'd'";
    m.namespaces[0].labels.insert("note".into(), hostile.into());
    m.values.insert(
        "extra".into(),
        json!({"k": hostile, "n": "1.30", "b": "yes"}),
    );
    let tree = render(&m, &Charts::embedded()).expect("renders");
    let ns = &docs(&tree, "namespaces/bookinfo.patch.yaml");
    assert_eq!(ns.len(), 1);
    assert_eq!(ns[0]["metadata"]["labels"]["note"], hostile);
    let istiod = &docs(&tree, "istio-system/istiod-1-24-6.yaml")[0];
    assert_eq!(
        istiod["spec"]["values"]["extra"],
        json!({"k": hostile, "n": "1.30", "b": "yes"})
    );
}

#[test]
fn exit_codes_follow_whose_fault_it_is() {
    use crate::{Error, ExitCode};
    let mut m = model(Delivery::FluxHelm);
    m.revisions[0].version = "1.21.6".into();
    let user = render(&m, &Charts::embedded()).expect_err("tags on 1.21 refused");
    assert_eq!(Error::from(user).exit_code(), ExitCode::Input);
    m.revisions[0].version = "latest".into();
    let ours = render(&m, &Charts::embedded()).expect_err("bad version in the model");
    assert_eq!(Error::from(ours).exit_code(), ExitCode::Internal);
}

#[test]
fn names_that_run_together_are_refused_not_overwritten() {
    let mut m = model(Delivery::FluxHelm);
    let mut other = m.gateways[0].clone();
    m.gateways[0].name = "a-b".into();
    m.gateways[0].colours = [("c".to_string(), "1-24-6".to_string())].into();
    m.gateways[0].active = None;
    other.name = "a".into();
    other.colours = [("b-c".to_string(), "1-24-6".to_string())].into();
    other.active = None;
    m.gateways.push(other);
    let err = render(&m, &Charts::embedded()).expect_err("a-b-c twice");
    assert!(!err.is_internal());
    assert!(
        err.to_string().contains("HelmRelease/istio-ingress/a-b-c"),
        "{err}"
    );
}

#[test]
fn ten_thousand_restarts_render_one_patch_each() {
    let mut m = model(Delivery::FluxHelm);
    m.restarts = (0..10_000)
        .map(|i| RestartBump {
            object: ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: format!("ns-{}", i % 100),
                name: format!("app-{i}"),
            },
            value: "1-24-6.1".into(),
        })
        .collect();
    let tree = render(&m, &Charts::embedded()).expect("renders");
    // 10 resource files, 10k restart patches, one namespace patch, the root kustomization
    // and two components (restarts/, namespaces/).
    assert_eq!(tree.len(), 10 + 10_000 + 2);
    let k: Value = serde_saphyr::from_str(&tree["restarts/kustomization.yaml"]).expect("parses");
    assert_eq!(k["patches"].as_array().map(Vec::len), Some(10_000));
}
