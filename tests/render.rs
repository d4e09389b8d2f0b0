//! Render stage, end to end: golden trees per delivery (insta), every rendered object valid
//! against the real schemas, the rendered Helm values accepted by the real Istio charts with
//! the real Helm, byte-identical output across processes/locales/working directories, and
//! all-or-nothing writes.
//!
//! Helm is taken from `$MESHPLAN_HELM`, else `tools/bin/helm`, else installed by
//! `scripts/install-helm.sh` (npm). If that fails the Helm test fails: it never passes silently.

use meshplan::diagnostic::ObjectRef;
use meshplan::render::schema::{self, Checked};
use meshplan::render::{
    Charts, RenderGateway, RenderModel, RenderNamespace, RenderRevision, RenderedTree, RestartBump,
    render, write_tree,
};
use meshplan::spec::model::{
    Delivery, GatewayService, GatewayStrategy, IstioConfig, NativeSidecars, ServicePort,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const DELIVERIES: [(Delivery, &str); 3] = [
    (Delivery::FluxHelm, "flux-helm"),
    (Delivery::ArgocdHelm, "argocd-helm"),
    (Delivery::IstioOperator, "istio-operator"),
];

fn revision(version: &str, tags: &[&str]) -> RenderRevision {
    RenderRevision {
        name: version.replace('.', "-"),
        version: version.to_string(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

fn gateway(colours: &[(&str, &str)], active: &str) -> RenderGateway {
    RenderGateway {
        name: "ingress".into(),
        namespace: "istio-ingress".into(),
        strategy: GatewayStrategy::BlueGreen,
        colours: colours
            .iter()
            .map(|(c, r)| (c.to_string(), r.to_string()))
            .collect(),
        active: Some(active.to_string()),
        service: GatewayService {
            service_type: "LoadBalancer".into(),
            ports: vec![
                ServicePort {
                    name: "http2".into(),
                    port: 80,
                    target_port: Some(80),
                    protocol: Some("TCP".into()),
                },
                ServicePort {
                    name: "https".into(),
                    port: 443,
                    target_port: None,
                    protocol: None,
                },
            ],
        },
        values: Map::new(),
        restarts: BTreeMap::new(),
    }
}

fn namespace(name: &str, rev: &str, elsewhere: bool) -> RenderNamespace {
    RenderNamespace {
        name: name.into(),
        labels: [
            ("istio.io/rev".to_string(), rev.to_string()),
            ("mesh".to_string(), "enabled".to_string()),
        ]
        .into(),
        defined_elsewhere: elsewhere,
        remove: vec![],
    }
}

/// A new cluster: one revision, one blue/green gateway (blue only), two namespaces, one of
/// which the user's manifests define.
pub(crate) fn new_cluster(delivery: Delivery) -> RenderModel {
    RenderModel {
        cluster: "prod-eu-1".into(),
        delivery,
        chart_repository: "https://istio-release.storage.googleapis.com/charts".into(),
        hub: None,
        argocd: Default::default(),
        values: Map::new(),
        config: IstioConfig::default(),
        revisions: vec![revision("1.26.8", &["default"])],
        default_revision: Some("1-26-8".into()),
        gateways: vec![gateway(&[("blue", "1-26-8")], "blue")],
        namespaces: vec![
            namespace("bookinfo", "default", false),
            namespace("shop", "default", true),
        ],
        restarts: vec![],
        tenant: None,
    }
}

fn restart(api: &str, kind: &str, ns: &str, name: &str, value: &str) -> RestartBump {
    RestartBump {
        object: ObjectRef {
            api_version: api.into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        },
        value: value.into(),
    }
}

/// Mid-upgrade: 1-24-6 (tag `prod`, default) beside 1-26-8 (tag `canary`), blue on 1-24-6
/// active, green on 1-26-8, one namespace moved and three workloads restarted. Extra values
/// and config exercise the merge.
pub(crate) fn mid_upgrade(delivery: Delivery) -> RenderModel {
    let values = json!({"pilot": {"resources": {"requests": {"cpu": "250m"}}},
                        "meshConfig": {"accessLogFile": "/dev/stdout"}});
    RenderModel {
        cluster: "prod-eu-1".into(),
        delivery,
        chart_repository: "https://istio-release.storage.googleapis.com/charts".into(),
        hub: Some("registry.example.com/istio".into()),
        argocd: Default::default(),
        values: serde_json::from_value(values).expect("object"),
        config: IstioConfig {
            num_trusted_proxies: 2,
            ..IstioConfig::default()
        },
        revisions: vec![
            revision("1.26.8", &["canary"]),
            revision("1.24.6", &["prod", "default"]),
        ],
        default_revision: Some("1-24-6".into()),
        gateways: vec![RenderGateway {
            // Restarted once on its revision (a numTrustedProxies change).
            restarts: BTreeMap::from([("green".to_string(), "1-26-8.1".to_string())]),
            ..gateway(&[("blue", "1-24-6"), ("green", "1-26-8")], "blue")
        }],
        namespaces: vec![
            namespace("bookinfo", "1-26-8", true),
            namespace("shop", "prod", false),
        ],
        restarts: vec![
            restart(
                "apps/v1",
                "Deployment",
                "bookinfo",
                "reviews-v1",
                "1-26-8.1",
            ),
            restart(
                "apps/v1",
                "StatefulSet",
                "bookinfo",
                "ratings-db",
                "1-26-8.1",
            ),
            restart("apps/v1", "DaemonSet", "bookinfo", "log-agent", "1-26-8.2"),
        ],
        tenant: None,
    }
}

fn scenarios() -> Vec<(String, RenderModel)> {
    let mut out = Vec::new();
    for (delivery, name) in DELIVERIES {
        out.push((format!("{name}-new-cluster"), new_cluster(delivery)));
        out.push((format!("{name}-mid-upgrade"), mid_upgrade(delivery)));
    }
    out
}

/// The whole tree as one text: each file under a header line, in path order.
fn tree_text(tree: &RenderedTree) -> String {
    tree.iter()
        .map(|(path, text)| format!("##### {path}\n{text}"))
        .collect()
}

pub(crate) fn docs(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .expect("rendered YAML parses")
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

#[test]
fn golden_trees() {
    let charts = Charts::embedded();
    for (name, model) in scenarios() {
        let tree = render(&model, &charts).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(format!("render_{name}"), tree_text(&tree));
    }
}

/// Every document of every golden tree validates against the real schema of its kind; the
/// kustomization lists every file exactly once and restart patches target their workload.
#[test]
fn every_rendered_object_fits_the_real_schemas() {
    let charts = Charts::embedded();
    for (name, model) in scenarios() {
        let tree = render(&model, &charts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut validated = 0;
        for (path, text) in &tree {
            for doc in docs(text) {
                let kind = doc["kind"]
                    .as_str()
                    .expect("the object has a kind")
                    .to_string();
                match schema::check(&doc).expect("schemas compile") {
                    Checked::Valid => validated += 1,
                    Checked::NoSchema => assert!(
                        path.ends_with("kustomization.yaml") || path.starts_with("restarts/"),
                        "{name}: {path}: {kind} has no schema"
                    ),
                    Checked::Invalid(e) => panic!("{name}: {path}: {kind}: {e:?}"),
                }
            }
        }
        assert!(validated >= 5, "{name}: only {validated} objects validated");

        // The root lists every resource file; each directory's patches form a Component
        // (its own kustomization.yaml), and together they cover every file exactly once.
        let k = &docs(&tree["kustomization.yaml"])[0];
        assert_eq!(k["kind"], "Kustomization", "{name}");
        assert!(
            k.get("patches").is_none(),
            "{name}: patches live in components"
        );
        let mut listed: Vec<String> = k["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let mut patches: Vec<(String, Value)> = Vec::new();
        for (path, text) in &tree {
            let Some(dir) = path.strip_suffix("/kustomization.yaml") else {
                continue;
            };
            let c = &docs(text)[0];
            assert_eq!(c["kind"], "Component", "{name}: {path}");
            assert_eq!(c["apiVersion"], "kustomize.config.k8s.io/v1alpha1");
            for p in c["patches"].as_array().expect("patches") {
                let rel = p["path"].as_str().expect("path");
                assert!(
                    !rel.contains(".."),
                    "{name}: {rel} stays inside the component"
                );
                let full = format!("{dir}/{rel}");
                listed.push(full.clone());
                patches.push((full, p["target"].clone()));
            }
        }
        listed.sort();
        let files: Vec<String> = tree
            .keys()
            .filter(|p| !p.ends_with("kustomization.yaml"))
            .cloned()
            .collect();
        assert_eq!(
            listed, files,
            "{name}: root and components list every file once"
        );
        for (path, target) in &patches {
            let doc = &docs(&tree[path])[0];
            assert_eq!(target["kind"], doc["kind"], "{name}: {path}");
            assert_eq!(target["name"], doc["metadata"]["name"], "{name}: {path}");
        }
    }
}

/// Breaking each embedded template on purpose (as a `--charts` override) makes the render fail
/// with an error naming that template and the offending object: the schema check is live.
#[test]
fn a_broken_template_fails_the_render_naming_it() {
    let embedded = Charts::embedded();
    let breakages = [
        ("flux-helm/release.yaml.j2", "interval: 10m", "interval: 10"),
        (
            "flux-helm/source.yaml.j2",
            "url: {{ source.url }}",
            "uri: {{ source.url }}",
        ),
        (
            "argocd-helm/application.yaml.j2",
            "project: {{ argocd.project }}",
            "projekt: {{ argocd.project }}",
        ),
        (
            "common/service.yaml.j2",
            "type: {{ gateway.type }}",
            "type: 7",
        ),
        ("common/namespace.yaml.j2", "labels:", "labls:"),
        ("common/namespace-patch.yaml.j2", "labels:", "labels: [] #"),
        (
            "istio-operator/istiooperator.yaml.j2",
            "kind: IstioOperator",
            "kind: IstioOperatr",
        ),
        (
            "common/restart-patch.yaml.j2",
            "  name: {{ restart.name }}",
            "  nam: x",
        ),
    ];
    for (template, from, to) in breakages {
        let text = embedded.source(template).expect("embedded template");
        assert!(
            text.contains(from),
            "{template} no longer contains `{from}`"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(template);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
        let charts = Charts::from_dir(dir.path()).expect("charts dir");
        let delivery = match template.split('/').next() {
            Some("argocd-helm") => Delivery::ArgocdHelm,
            Some("istio-operator") => Delivery::IstioOperator,
            _ => Delivery::FluxHelm,
        };
        let err = render(&mid_upgrade(delivery), &charts)
            .expect_err(&format!("{template} broken with `{to}` still renders"));
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(
            !err.is_internal(),
            "a user template's fault is exit 2: {message}"
        );
    }
}

/// Every delivery installs the same values: the Argo CD Applications and the IstioOperators
/// carry what the HelmReleases carry.
#[test]
fn deliveries_agree_on_values() {
    let charts = Charts::embedded();
    let flux = render(&mid_upgrade(Delivery::FluxHelm), &charts).expect("flux");
    let argo = render(&mid_upgrade(Delivery::ArgocdHelm), &charts).expect("argo");
    let iop = render(&mid_upgrade(Delivery::IstioOperator), &charts).expect("iop");
    for file in [
        "istio-system/istio-base.yaml",
        "istio-system/istiod-1-24-6.yaml",
        "istio-system/istiod-1-26-8.yaml",
        "istio-ingress/ingress-green.yaml",
    ] {
        let f = docs(&flux[file]);
        let a = docs(&argo[file]);
        assert_eq!(
            f[0]["spec"]["values"], a[0]["spec"]["source"]["helm"]["valuesObject"],
            "{file}"
        );
    }
    let op = &docs(&iop["istio-system/istiooperator-1-26-8.yaml"])[0];
    let istiod = &docs(&flux["istio-system/istiod-1-26-8.yaml"])[0]["spec"]["values"];
    assert_eq!(op["spec"]["meshConfig"], istiod["meshConfig"]);
    assert_eq!(op["spec"]["revision"], "1-26-8");
    assert_eq!(op["spec"]["values"]["revisionTags"], istiod["revisionTags"]);
    let green = &op["spec"]["components"]["ingressGateways"][1];
    assert_eq!(green["name"], "ingress-green");
    assert_eq!(green["k8s"]["service"]["type"], "ClusterIP");
}

/// `helm template <release> <chart> -n <ns> -f values.yaml` with the real chart of `version`.
pub(crate) fn helm_template(
    helm: &Path,
    version: &str,
    chart: &str,
    release: &str,
    ns: &str,
    values: &Value,
    skip_schema: bool,
) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("values.yaml");
    std::fs::write(&file, meshplan::render::canonical::to_yaml(values)).expect("write values");
    let chart_dir = format!("{ROOT}/../shared/data/istio-charts/{version}/{chart}");
    let out = Command::new(helm)
        .args(["template", release, &chart_dir, "-n", ns, "-f"])
        .arg(&file)
        .args(skip_schema.then_some("--skip-schema-validation"))
        .output()
        .expect("helm runs");
    assert!(
        out.status.success(),
        "helm template {release} ({chart} {version}) rejected the rendered values:\n{}\nvalues:\n{}",
        String::from_utf8_lossy(&out.stderr),
        meshplan::render::canonical::to_yaml(values)
    );
    docs(&String::from_utf8(out.stdout).expect("UTF-8"))
}

/// Validates gateway values against the `$defs/values` of the chart's `values.schema.json`,
/// the part Helm 4 cannot apply on the older charts.
fn values_fit_gateway_schema(version: &str, values: &Value) {
    let path = format!("{ROOT}/../shared/data/istio-charts/{version}/gateway/values.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON");
    let mut defs = schema["$defs"]["values"].clone();
    defs["$defs"] = schema["$defs"].clone();
    let validator = jsonschema::draft7::new(&defs).expect("chart schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(values)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "gateway {version} values: {errors:?}");
    let mut wrong = values.clone();
    wrong["service"]["type"] = json!(1);
    assert!(
        !validator.is_valid(&wrong),
        "the gateway {version} schema checks service.type"
    );
}

/// The rendered HelmRelease values, fed to the real charts, install what meshplan means.
#[test]
fn rendered_values_work_with_the_real_istio_charts() {
    let helm = crate::common::tool("helm");
    let charts = Charts::embedded();
    let mut models = vec![mid_upgrade(Delivery::FluxHelm)];
    let mut old = new_cluster(Delivery::FluxHelm);
    old.revisions = vec![revision("1.22.8", &["default"])];
    old.default_revision = Some("1-22-8".into());
    old.gateways = vec![gateway(&[("blue", "1-22-8"), ("green", "1-22-8")], "green")];
    // spec.gateways[].values reach the chart: checked against its schema and by Helm below.
    old.gateways[0].values = serde_json::from_value(
        json!({"resources": {"requests": {"cpu": "250m"}}, "nodeSelector": {"pool": "edge"}}),
    )
    .expect("object");
    old.config.compatibility_version = Some("1.21".into());
    old.config.native_sidecars = NativeSidecars::Disabled;
    models.push(old);
    let mut checked = BTreeMap::new();
    for model in models {
        let tree = render(&model, &charts).expect("renders");
        let release = |path: &str| docs(&tree[path]).pop().expect("HelmRelease last");
        let base = release("istio-system/istio-base.yaml");
        let version = base["spec"]["chart"]["spec"]["version"]
            .as_str()
            .expect("version");
        let objects = helm_template(
            &helm,
            version,
            "base",
            "istio-base",
            "istio-system",
            &base["spec"]["values"],
            false,
        );
        let validator = objects
            .iter()
            .find(|o| o["kind"] == "ValidatingWebhookConfiguration")
            .expect("default validator");
        let default = model.default_revision.clone().expect("default");
        assert_eq!(
            validator["webhooks"][0]["clientConfig"]["service"]["name"],
            format!("istiod-{default}")
        );

        for rev in &model.revisions {
            let hr = release(&format!("istio-system/istiod-{}.yaml", rev.name));
            let objects = helm_template(
                &helm,
                &rev.version,
                "istiod",
                &format!("istiod-{}", rev.name),
                "istio-system",
                &hr["spec"]["values"],
                false,
            );
            let deployment = objects
                .iter()
                .find(|o| o["kind"] == "Deployment")
                .expect("istiod Deployment");
            assert_eq!(
                deployment["metadata"]["name"],
                format!("istiod-{}", rev.name)
            );
            assert_eq!(deployment["metadata"]["labels"]["istio.io/rev"], rev.name);
            // Nothing the release installs claims another revision.
            for o in &objects {
                let label = &o["metadata"]["labels"]["istio.io/rev"];
                assert!(
                    label.is_null() || *label == rev.name,
                    "{} {} labelled istio.io/rev={label}",
                    o["kind"],
                    o["metadata"]["name"]
                );
            }
            let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
                .as_array()
                .expect("istiod env");
            let native = env
                .iter()
                .find(|e| e["name"] == "ENABLE_NATIVE_SIDECARS")
                .map(|e| e["value"].clone());
            match model.config.native_sidecars {
                NativeSidecars::Auto => assert_eq!(native, None, "auto leaves the chart default"),
                NativeSidecars::Enabled => assert_eq!(native, Some(json!("true"))),
                NativeSidecars::Disabled => assert_eq!(native, Some(json!("false"))),
            }
            let injector = objects
                .iter()
                .find(|o| {
                    o["kind"] == "MutatingWebhookConfiguration"
                        && o["metadata"]["name"] == format!("istio-sidecar-injector-{}", rev.name)
                })
                .unwrap_or_else(|| panic!("injector webhook of {} rendered", rev.name));
            assert_eq!(injector["metadata"]["labels"]["istio.io/rev"], rev.name);
            for tag in &rev.tags {
                assert!(
                    objects
                        .iter()
                        .any(|o| o["kind"] == "MutatingWebhookConfiguration"
                            && o["metadata"]["name"] == format!("istio-revision-tag-{tag}")),
                    "tag {tag} of {} rendered",
                    rev.name
                );
            }
            let mesh = objects
                .iter()
                .find(|o| {
                    o["kind"] == "ConfigMap"
                        && o["metadata"]["name"] == format!("istio-{}", rev.name)
                })
                .and_then(|o| o["data"]["mesh"].as_str())
                .expect("mesh config");
            let mesh: Value = serde_saphyr::from_str(mesh).expect("mesh parses");
            assert_eq!(
                mesh["defaultConfig"]["gatewayTopology"]["numTrustedProxies"],
                model.config.num_trusted_proxies
            );
            assert_eq!(mesh["enablePrometheusMerge"], true);
            if let Some(hub) = &model.hub {
                let image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
                    .as_str()
                    .expect("image");
                assert!(image.starts_with(&format!("{hub}/")), "{image}");
            }
            checked.insert(format!("istiod {}", rev.version), true);
        }

        for gw in &model.gateways {
            for (colour, rev) in &gw.colours {
                let hr = release(&format!("{}/{}-{colour}.yaml", gw.namespace, gw.name));
                let version = hr["spec"]["chart"]["spec"]["version"]
                    .as_str()
                    .expect("version");
                let skip = hr["spec"]["install"]["disableSchemaValidation"] == true;
                assert_eq!(
                    skip,
                    hr["spec"]["upgrade"]["disableSchemaValidation"] == true
                );
                if skip {
                    // Helm 4 cannot use this chart's schema (see values::chart_schema_is_broken):
                    // prove that it fails without the flag, and check the values against the
                    // schema's own definition here instead.
                    let chart_dir = format!("{ROOT}/../shared/data/istio-charts/{version}/gateway");
                    let plain = Command::new(&helm)
                        .args(["template", "x", &chart_dir])
                        .output()
                        .expect("helm runs");
                    assert!(
                        !plain.status.success(),
                        "gateway {version}'s schema works in Helm now"
                    );
                    values_fit_gateway_schema(version, &hr["spec"]["values"]);
                }
                let objects = helm_template(
                    &helm,
                    version,
                    "gateway",
                    &format!("{}-{colour}", gw.name),
                    &gw.namespace,
                    &hr["spec"]["values"],
                    skip,
                );
                assert!(
                    !objects.iter().any(|o| o["kind"] == "Service"),
                    "the gateway chart must render no Service of its own in blue/green mode"
                );
                let deployment = objects
                    .iter()
                    .find(|o| o["kind"] == "Deployment")
                    .expect("gateway Deployment");
                let pod = &deployment["spec"]["template"]["metadata"]["labels"];
                assert_eq!(pod["istio.io/rev"], rev.as_str());
                assert_eq!(
                    pod["istio"],
                    gw.name.as_str(),
                    "the traffic Service selects istio={}",
                    gw.name
                );
                assert_eq!(pod["meshplan.dev/colour"], colour.as_str());
                let annotations = &deployment["spec"]["template"]["metadata"]["annotations"];
                assert_eq!(
                    annotations["meshplan.dev/restarted-for"].as_str(),
                    gw.restarts.get(colour).map(String::as_str),
                    "a restarted colour carries the bump on its pods, the other none"
                );
                // Merged over the chart's own pod annotations, which stay.
                assert_eq!(annotations["inject.istio.io/templates"], "gateway");
                if !gw.values.is_empty() {
                    // Merged over the chart's own defaults by Helm, like any values file.
                    let spec = &deployment["spec"]["template"]["spec"];
                    assert_eq!(
                        spec["containers"][0]["resources"]["requests"]["cpu"],
                        "250m"
                    );
                    assert_eq!(spec["nodeSelector"]["pool"], "edge");
                }
                checked.insert(format!("gateway {version}"), true);
            }
        }
    }
    let expected: Vec<&str> = vec![
        "gateway 1.22.8",
        "gateway 1.24.6",
        "gateway 1.26.8",
        "istiod 1.22.8",
        "istiod 1.24.6",
        "istiod 1.26.8",
    ];
    assert_eq!(
        checked.keys().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
}

/// The bytes of a render do not depend on the process, time zone, locale or working
/// directory: the same model is rendered in a child process (this test binary, running only
/// `render::determinism_child`) with `TZ`, `LANG`/`LC_ALL` changed and another working
/// directory, and its tree compared byte for byte with this process's.
#[test]
fn output_is_byte_identical_across_processes_and_locales() {
    let here = tree_json();
    let dir = tempfile::tempdir().expect("tempdir");
    let out_file = dir.path().join("tree.json");
    let exe = std::env::current_exe().expect("test binary");
    let status = Command::new(exe)
        .args(["--exact", "render::determinism_child", "--test-threads=1"])
        .env("MESHPLAN_RENDER_CHILD_OUT", &out_file)
        .env("TZ", "Pacific/Chatham")
        .env("LANG", "tr_TR.UTF-8")
        .env("LC_ALL", "tr_TR.UTF-8")
        .current_dir(dir.path())
        .output()
        .expect("child runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let there = std::fs::read_to_string(&out_file).expect("child wrote its tree");
    assert_eq!(here, there);
    assert_eq!(here, tree_json(), "two renders in one process");
}

fn tree_json() -> String {
    let charts = Charts::embedded();
    let trees: BTreeMap<String, RenderedTree> = scenarios()
        .into_iter()
        .map(|(name, m)| (name, render(&m, &charts).expect("renders")))
        .collect();
    serde_json::to_string(&trees).expect("serializes")
}

/// Child half of the determinism test: writes its render where the parent asks. Run alone it
/// still checks that every scenario renders.
#[test]
fn determinism_child() {
    let text = tree_json();
    if let Ok(path) = std::env::var("MESHPLAN_RENDER_CHILD_OUT") {
        std::fs::write(path, text).expect("write tree");
    }
}

/// A write that fails halfway (a path that cannot be created) leaves the previous tree as it was.
#[test]
fn a_failed_write_leaves_the_previous_tree() {
    let charts = Charts::embedded();
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("rendered");
    let first = render(&new_cluster(Delivery::FluxHelm), &charts).expect("renders");
    write_tree(&first, &out).expect("first write");
    let read = |dir: &Path| -> RenderedTree {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e
                    .path()
                    .strip_prefix(dir)
                    .expect("under")
                    .to_string_lossy()
                    .replace('\\', "/");
                (rel, std::fs::read_to_string(e.path()).expect("read"))
            })
            .collect()
    };
    assert_eq!(read(&out), first);

    let mut second = render(&mid_upgrade(Delivery::FluxHelm), &charts).expect("renders");
    // `namespaces/shop.yaml` exists as a file, so a file beneath it cannot be created.
    second.insert("namespaces/shop.yaml/oops.yaml".into(), "x: 1\n".into());
    assert!(write_tree(&second, &out).is_err());
    assert_eq!(read(&out), first);
    let leftovers: Vec<_> = std::fs::read_dir(root.path()).expect("readable").collect();
    assert_eq!(leftovers.len(), 1, "no staging directories left behind");
}
