//! MP402 gateway-owns-loadbalancer end to end, through the CLI on copies of the examples: a
//! blue/green colour that gets a LoadBalancer of its own is refused whatever produced it —
//! `spec.gateways[].values` (`render`, `check`), a `--charts` template, or a hand edit of
//! the committed files (`check`, beside MP502) — while in-place gateways may have one, and
//! `spec.gateways[].values` such as `resources` reach the real gateway chart, which accepts
//! them (real Helm).

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::{copy_tree, root, run_in as run, shared_data, tool};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A copy of `examples/<name>` in a fresh temporary directory.
fn example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("examples").join(name), dir.path());
    dir
}

/// Adds `values` (YAML flow text) to the gateway of the copied spec, and sets its strategy.
fn gateway_values(dir: &Path, strategy: &str, values: &str) {
    let file = dir.join("meshplan.yaml");
    let spec = std::fs::read_to_string(&file).unwrap();
    assert!(spec.contains("      strategy: blue-green\n"), "{spec}");
    let spec = spec.replace(
        "      strategy: blue-green\n",
        &format!("      strategy: {strategy}\n      values: {values}\n"),
    );
    std::fs::write(&file, spec).unwrap();
}

/// (rule, file, line, object name) of every diagnostic of rule `code` in a JSON report.
fn findings(json: &str, code: &str) -> Vec<(String, String, u64, String)> {
    let report: Value = serde_json::from_str(json).unwrap();
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == code)
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["object"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn mp402(file: &str, line: u64, release: &str) -> (String, String, u64, String) {
    ("MP402".into(), file.into(), line, release.into())
}

/// The last YAML document of a file.
fn last_doc(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    docs.into_iter().last().unwrap()
}

/// `helm template` of the real gateway chart of `version` with `values`: the objects.
fn helm_gateway(version: &str, release: &str, values: &Value) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("values.yaml");
    std::fs::write(&file, meshplan::render::canonical::to_yaml(values)).unwrap();
    let chart = shared_data().join(format!("istio-charts/{version}/gateway"));
    let out = Command::new(tool("helm"))
        .args(["template", release])
        .arg(&chart)
        .args(["-n", "istio-ingress", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "helm rejected the values: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_saphyr::from_multiple::<Value>(&String::from_utf8(out.stdout).unwrap())
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

#[test]
fn loadbalancer_values_refuse_the_render_naming_the_file_and_force_renders_them() {
    let dir = example("bookinfo");
    let d = dir.path();
    gateway_values(
        d,
        "blue-green",
        "{service: {type: LoadBalancer}, resources: {requests: {cpu: 250m}}}",
    );
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        !d.join("rendered").exists(),
        "a refused render writes nothing"
    );
    assert!(
        err.contains("deny[MP402]")
            && err.contains("rendered/istio-ingress/ingress-blue.yaml:1")
            && err.contains("(service.type LoadBalancer)"),
        "{err}"
    );
    // --out moves the file the finding names.
    let (code, _, err) = run(d, &["render", "--step", "all", "--out", "preview"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("preview/istio-ingress/ingress-blue.yaml:1"),
        "{err}"
    );
    // check sees the change before it is rendered, in JSON with file and line.
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        findings(&out, "MP402"),
        [mp402(
            "rendered/istio-ingress/ingress-blue.yaml",
            1,
            "ingress-blue"
        )]
    );
    let (code, _, err) = run(d, &["render", "--step", "all", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("deny findings overridden by --force"), "{err}");
    let release = last_doc(&d.join("rendered/istio-ingress/ingress-blue.yaml"));
    let values = &release["spec"]["values"];
    assert_eq!(values["service"]["type"], "LoadBalancer");
    assert_eq!(values["resources"]["requests"]["cpu"], "250m");
    assert_eq!(values["labels"]["meshplan.dev/colour"], "blue");
    // The real chart makes that LoadBalancer: what MP402 is about.
    let objects = helm_gateway("1.26.8", "ingress-blue", values);
    let service = objects.iter().find(|o| o["kind"] == "Service").unwrap();
    assert_eq!(service["spec"]["type"], "LoadBalancer");
    // Once committed as rendered, check still reports it, now in the committed file.
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&out, "MP402"),
        [mp402(
            "rendered/istio-ingress/ingress-blue.yaml",
            1,
            "ingress-blue"
        )]
    );
    assert!(findings(&out, "MP502").is_empty(), "{out}");
}

#[test]
fn resource_values_reach_the_real_gateway_chart() {
    let dir = example("bookinfo");
    let d = dir.path();
    gateway_values(
        d,
        "blue-green",
        "{resources: {requests: {cpu: 250m, memory: 128Mi}}, nodeSelector: {pool: edge}}",
    );
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("MP402"), "{err}");
    let release = last_doc(&d.join("rendered/istio-ingress/ingress-blue.yaml"));
    let values = &release["spec"]["values"];
    assert_eq!(values["service"]["type"], "None");
    let version = release["spec"]["chart"]["spec"]["version"]
        .as_str()
        .unwrap();
    let objects = helm_gateway(version, "ingress-blue", values);
    assert!(
        !objects.iter().any(|o| o["kind"] == "Service"),
        "no Service of the chart's own"
    );
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["resources"]["requests"]["cpu"], "250m");
    assert_eq!(pod["nodeSelector"]["pool"], "edge");
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn an_in_place_gateway_may_have_its_own_loadbalancer() {
    let dir = example("bookinfo");
    let d = dir.path();
    gateway_values(d, "in-place", "{service: {type: LoadBalancer}}");
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert!(findings(&out, "MP402").is_empty(), "{out}");
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("MP402"), "{err}");
}

#[test]
fn a_hand_edited_loadbalancer_in_committed_files_is_mp402_and_mp502() {
    let dir = example("upgrade-1.22-to-1.26");
    let d = dir.path();
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert!(findings(&out, "MP402").is_empty() && code == 0, "{out}");
    let file = d.join("rendered/istio-ingress/ingress-blue.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    assert!(original.contains("      type: None\n"));
    std::fs::write(
        &file,
        original.replace("      type: None\n", "      type: LoadBalancer\n"),
    )
    .unwrap();
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let blue = "rendered/istio-ingress/ingress-blue.yaml";
    assert_eq!(findings(&out, "MP402"), [mp402(blue, 1, "ingress-blue")]);
    assert_eq!(
        findings(&out, "MP502"),
        [("MP502".to_string(), blue.to_string(), 1, String::new())]
    );
    // Without a type at all the chart default, LoadBalancer, applies.
    std::fs::write(
        &file,
        original.replace("    service:\n      type: None\n", ""),
    )
    .unwrap();
    let (code, out, _) = run(d, &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("(service.type unset, so the chart default LoadBalancer)")
            && out.contains(&format!("--> {blue}:1:1")),
        "{out}"
    );
    // A file broken beyond parsing is MP502's alone.
    std::fs::write(&file, "spec: [unclosed\n").unwrap();
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    assert!(findings(&out, "MP402").is_empty(), "{out}");
    assert_eq!(findings(&out, "MP502").len(), 1, "{out}");
}

#[test]
fn a_charts_template_giving_colours_a_loadbalancer_is_refused() {
    let dir = example("bookinfo");
    let d = dir.path();
    let charts = d.join("my-charts/flux-helm");
    std::fs::create_dir_all(&charts).unwrap();
    let template =
        std::fs::read_to_string(root().join("charts/flux-helm/release.yaml.j2")).unwrap();
    let own = "  values: {{ release.values }}";
    assert!(template.contains(own));
    let template = template.replace(
        own,
        "{%- if release.chart == \"gateway\" %}\n  values:\n    revision: {{ release.values.revision }}\n    labels: {{ release.values.labels }}\n    service:\n      type: LoadBalancer\n{%- else %}\n  values: {{ release.values }}\n{%- endif %}",
    );
    std::fs::write(charts.join("release.yaml.j2"), template).unwrap();
    let (code, _, err) = run(d, &["render", "--step", "all", "--charts", "my-charts"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("deny[MP402]") && err.contains("rendered/istio-ingress/ingress-blue.yaml:1"),
        "{err}"
    );
    assert!(!d.join("rendered").exists());
    let (code, out, _) = run(d, &["check", "--format", "json", "--charts", "my-charts"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        findings(&out, "MP402"),
        [mp402(
            "rendered/istio-ingress/ingress-blue.yaml",
            1,
            "ingress-blue"
        )]
    );
}

/// On 1.23.6, the last version the IstioOperator delivery supports (MP110 refuses 1.24 on),
/// so the only deny finding is the one under test.
#[test]
fn istio_operator_values_land_in_the_component_k8s_block() {
    let dir = example("bookinfo");
    let d = dir.path();
    let file = d.join("meshplan.yaml");
    let spec = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        spec.replace("delivery: flux-helm", "delivery: istio-operator")
            .replace("version: 1.26.8", "version: 1.23.6"),
    )
    .unwrap();
    gateway_values(
        d,
        "blue-green",
        "{service: {type: LoadBalancer}, resources: {requests: {cpu: 250m}}}",
    );
    let operator = "rendered/istio-system/istiooperator-1-23-6.yaml";
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("deny[MP402]") && err.contains(&format!("{operator}:1")),
        "{err}"
    );
    assert!(!err.contains("deny[MP110]"), "{err}");
    let (code, _, err) = run(d, &["render", "--step", "all", "--force"]);
    assert_eq!(code, 0, "{err}");
    let doc = last_doc(&d.join(operator));
    let blue = &doc["spec"]["components"]["ingressGateways"][1];
    assert_eq!(blue["name"], "ingress-blue");
    assert_eq!(blue["k8s"]["service"]["type"], "LoadBalancer");
    assert_eq!(blue["k8s"]["resources"]["requests"]["cpu"], "250m");
}

/// A misspelt key in `spec.gateways[].values` is refused before anything is written, at the
/// spec's `values` line, by the gateway chart's own values schema (1.26 allows no unknown
/// key): by `render` and, since it renders the next state, by `check` too (exit 2).
#[test]
fn values_the_gateway_chart_schema_refuses_are_an_error_at_the_spec_line() {
    let dir = example("bookinfo");
    let d = dir.path();
    gateway_values(d, "blue-green", "{servce: {type: LoadBalancer}}");
    let spec = std::fs::read_to_string(d.join("meshplan.yaml")).unwrap();
    let line = spec
        .lines()
        .position(|l| l.contains("values: {servce"))
        .unwrap()
        + 1;
    for cmd in ["render", "check"] {
        let (code, _, err) = run(d, &[cmd]);
        assert_eq!(code, 2, "{cmd}: {err}");
        assert!(
            err.contains(&format!("meshplan.yaml:{line}:")),
            "{cmd}: {err}"
        );
        assert!(err.contains("servce"), "{cmd}: {err}");
        assert!(err.contains("spec.gateways[0].values"), "{cmd}: {err}");
    }
    assert!(!d.join("rendered").exists(), "nothing is written");
}

/// A gateway colour installed by the team's own manifests (a Flux HelmRelease of the gateway
/// chart named after a spec gateway's colour) is judged like meshplan's render: with the
/// chart's default Service (LoadBalancer) it is MP402, at its manifest's line.
#[test]
fn a_colour_release_in_the_manifests_is_judged_too() {
    let dir = example("bookinfo");
    let d = dir.path();
    let release = "# the team's own green colour, beside meshplan's render\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ingress-green\n  namespace: istio-ingress\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: gateway\n      version: 1.26.8\n      sourceRef: {kind: HelmRepository, name: istio}\n  values:\n    revision: 1-26-8\n";
    std::fs::write(d.join("apps/bookinfo/gateway-green.yaml"), release).unwrap();
    let (code, out, err) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        findings(&out, "MP402"),
        [mp402(
            "apps/bookinfo/gateway-green.yaml",
            3,
            "ingress-green"
        )]
    );
    // With its own Service disabled it is fine.
    let fixed = release.replace(
        "    revision: 1-26-8\n",
        "    revision: 1-26-8\n    service: {type: None}\n",
    );
    std::fs::write(d.join("apps/bookinfo/gateway-green.yaml"), fixed).unwrap();
    let (code, out, err) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(findings(&out, "MP402").is_empty(), "{out}{err}");
}
