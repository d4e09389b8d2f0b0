//! Real repositories: `spec.manifests` entries built the way Flux, Argo CD and kustomize
//! build them (`{kustomize}`, `{helm}`, `{flux}`, `{argocd}`), with the real kustomize
//! (`tools/bin/kubectl kustomize`) and the real helm, on a fixture shaped like a Flux
//! monorepo and on `fluxcd/flux2-kustomize-helm-example` from the shared data.

use crate::common::{TODAY, copy_tree, git, meshplan, root, shared_data, tool};
use meshplan::inventory::{self, BuildKind, BuildSource, Limits, Source, Tools};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The Flux monorepo fixture.
pub(crate) fn monorepo() -> PathBuf {
    root().join("tests/fixtures/realrepos/monorepo")
}

/// The real tools, as absolute paths.
fn tools() -> Tools {
    Tools {
        kustomize: Some(tool("kubectl")),
        helm: Some(tool("helm")),
        chart_dir: None,
    }
}

/// A copy of the monorepo whose spec's `manifests` is `entries` (YAML flow items).
pub(crate) fn repo_with(entries: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&monorepo(), dir.path());
    let spec = std::fs::read_to_string(dir.path().join("meshplan.yaml")).expect("spec");
    let list: String = entries.iter().map(|e| format!("    - {e}\n")).collect();
    let spec = spec.replace("    - {flux: clusters/prod}\n", &list);
    std::fs::write(dir.path().join("meshplan.yaml"), spec).expect("write spec");
    dir
}

/// Runs meshplan in `dir` with the real tools; (exit code, stdout, stderr).
pub(crate) fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = meshplan()
        .arg(args[0])
        .arg("-C")
        .arg(dir)
        .args(["--today", TODAY, "--kustomize"])
        .arg(tool("kubectl"))
        .arg("--helm")
        .arg(tool("helm"))
        .args(&args[1..])
        .output()
        .expect("meshplan runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(crate) fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// `Kind/namespace/name` → workload facts.
fn workloads(facts: &Value) -> BTreeMap<String, Value> {
    facts["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .map(|w| {
            let o = &w["object"];
            (
                format!(
                    "{}/{}/{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["namespace"].as_str().unwrap_or(""),
                    o["name"].as_str().unwrap_or("")
                ),
                w.clone(),
            )
        })
        .collect()
}

/// The 1-based line of the `n`th (0-based) document of a fixture file.
fn doc_line(file: &str, n: usize) -> u64 {
    let text = std::fs::read_to_string(monorepo().join(file)).expect("fixture");
    let mut starts = vec![1u64];
    for (i, l) in text.lines().enumerate() {
        if l == "---" {
            starts.push(i as u64 + 2);
        }
    }
    starts[n]
}

#[test]
fn kustomize_entry_sees_overlays_with_origin_file_and_line() {
    let dir = repo_with(&["{kustomize: apps/prod}"]);
    let (code, out, err) = run(dir.path(), &["facts", "--format", "json"]);
    assert_eq!(code, 0, "stderr: {err}");
    let w = workloads(&json(&out));
    let deployments: Vec<&String> = w.keys().filter(|k| k.starts_with("Deployment/")).collect();
    // namePrefix and namespace are the overlays': the same base Deployment three times.
    assert_eq!(
        deployments,
        [
            "Deployment/team-a/a-web",
            "Deployment/team-b/web",
            "Deployment/team-c/web"
        ]
    );
    let line = doc_line("apps/base/shop/web.yaml", 1);
    for key in deployments {
        assert_eq!(w[key]["file"], "apps/base/shop/web.yaml", "{key}");
        assert_eq!(w[key]["line"], line, "{key}");
        // The origin annotation kustomize added for meshplan is gone again.
        assert!(
            w[key]["podAnnotations"]
                .as_object()
                .is_none_or(|a| a.is_empty()),
            "{key}"
        );
    }
    // Its PDB is found through the overlay's namespace.
    assert_eq!(
        w["Deployment/team-b/web"]["pdbs"],
        serde_json::json!(["team-b/web"])
    );
}

#[test]
fn flux_entry_follows_kustomizations_substitutions_and_local_charts() {
    let dir = repo_with(&["{flux: clusters/prod}"]);
    let (code, out, err) = run(dir.path(), &["facts", "--format", "json"]);
    assert_eq!(code, 0, "stderr: {err}");
    let w = workloads(&json(&out));
    let keys: Vec<&String> = w.keys().collect();
    assert_eq!(
        keys,
        [
            "Deployment/echo/echo",
            "Deployment/team-a/a-web",
            "Deployment/team-b/web",
            "Deployment/team-c/web"
        ]
    );
    // postBuild: `${web_replicas:=2}` takes the ConfigMap's 3.
    assert_eq!(w["Deployment/team-b/web"]["replicas"], 3);
    // The repository's own chart, rendered by helm with the release's values.
    assert_eq!(w["Deployment/echo/echo"]["replicas"], 2);
    assert_eq!(
        w["Deployment/echo/echo"]["file"],
        "charts/echo/templates/deployment.yaml"
    );
    assert_eq!(w["Deployment/echo/echo"]["line"], 1);

    // The remote chart is MP504 on its HelmRelease, at its line; nothing fails.
    let (code, out, err) = run(dir.path(), &["check", "--format", "json"]);
    // The overlays include none of meshplan's Components yet: MP505 on each Deployment a
    // wave restarts and each of the user's Namespaces a wave relabels, naming the Flux
    // Kustomization that builds it and the Component it lacks.
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    let mp505: Vec<String> = json(&out)["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "MP505")
        .map(|d| {
            let msg = d["message"].as_str().unwrap_or("");
            let o = &d["object"];
            let component = if o["kind"] == "Namespace" { "namespaces" } else { "restarts" };
            let from = format!(
                "its build (Flux Kustomization flux-system/apps) does not include rendered/{component}"
            );
            assert!(msg.starts_with(&from), "{msg}");
            assert_eq!(d["severity"], "deny");
            format!(
                "{}/{}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["namespace"].as_str().unwrap_or(""),
                o["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        mp505,
        [
            "Deployment/team-a/a-web",
            "Deployment/team-b/web",
            "Deployment/team-c/web",
            "Namespace//team-a",
            "Namespace//team-b",
            "Namespace//team-c"
        ]
    );
    let report = json(&out);
    let mp504: Vec<&Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "MP504")
        .collect();
    assert_eq!(mp504.len(), 1, "{mp504:?}");
    let d = mp504[0];
    assert_eq!(d["severity"], "info");
    assert_eq!(d["object"]["kind"], "HelmRelease");
    assert_eq!(d["object"]["namespace"], "podinfo");
    assert_eq!(d["file"], "infra/sources/podinfo.yaml");
    assert_eq!(d["line"], doc_line("infra/sources/podinfo.yaml", 2));
    let msg = d["message"].as_str().unwrap_or("");
    assert!(msg.contains("its workloads are not judged"), "{msg}");
}

#[test]
fn chart_dir_renders_a_pulled_chart_instead_of_mp504() {
    let dir = repo_with(&["{flux: clusters/prod}"]);
    let charts = tempfile::tempdir().expect("tempdir");
    // A pulled chart as `helm pull --untar` lays it out, under <chart>-<version>/.
    copy_tree(
        &monorepo().join("charts/echo"),
        &charts.path().join("podinfo-6.14.1"),
    );
    let (code, out, err) = run(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--chart-dir",
            charts.path().to_str().expect("utf-8"),
        ],
    );
    // Exit 1 for MP505 only: the overlays are not wired yet.
    assert_eq!(code, 1, "stderr: {err}");
    let report = json(&out);
    assert!(
        !report["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .any(|d| d["rule"] == "MP504"),
        "{out}"
    );
    let (code, out, _) = run(
        dir.path(),
        &[
            "facts",
            "--format",
            "json",
            "--chart-dir",
            charts.path().to_str().expect("utf-8"),
        ],
    );
    assert_eq!(code, 0);
    let w = workloads(&json(&out));
    // Reported at the HelmRelease that installs it: the chart is not in the repository.
    let podinfo = &w["Deployment/podinfo/podinfo"];
    assert_eq!(podinfo["file"], "infra/sources/podinfo.yaml");
    assert_eq!(podinfo["line"], doc_line("infra/sources/podinfo.yaml", 2));
}

#[test]
fn argocd_entry_builds_kustomize_and_helm_sources_of_this_repository() {
    let dir = repo_with(&["{argocd: argocd}"]);
    let (code, out, err) = run(dir.path(), &["facts", "--format", "json"]);
    assert_eq!(code, 0, "stderr: {err}");
    let w = workloads(&json(&out));
    let keys: Vec<&String> = w.keys().collect();
    assert_eq!(keys, ["Deployment/echo/echo", "Deployment/team-b/web"]);
    // valuesObject wins over the chart's values.yaml.
    assert_eq!(w["Deployment/echo/echo"]["replicas"], 4);
    let (code, out, _) = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    // The Application's kustomization includes neither Component: the restarted
    // Deployment and the relabelled Namespace each say which one they lack.
    let mp505: Vec<String> = json(&out)["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "MP505")
        .map(|d| d["message"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        mp505,
        [
            "its build (kustomize apps/prod/team-b) does not include rendered/restarts: the restart bump never reaches this workload",
            "its build (kustomize apps/prod/team-b) does not include rendered/namespaces: the revision label never reaches this namespace"
        ]
    );
    let report = json(&out);
    let mp504: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "MP504")
        .map(|d| {
            format!(
                "{}/{}",
                d["object"]["kind"].as_str().unwrap_or(""),
                d["object"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(mp504, ["Application/podinfo"]);
}

#[test]
fn helm_entry_renders_a_local_chart_with_its_values_files() {
    let dir = repo_with(&[
        "{helm: {chart: charts/echo, release: shop, namespace: team-b, values: [charts/echo/values.yaml]}}",
    ]);
    std::fs::write(dir.path().join("charts/echo/values.yaml"), "replicas: 5\n").expect("write");
    let (code, out, err) = run(dir.path(), &["facts", "--format", "json"]);
    assert_eq!(code, 0, "stderr: {err}");
    let w = workloads(&json(&out));
    assert_eq!(w["Deployment/team-b/shop"]["replicas"], 5);
    assert_eq!(
        w["Deployment/team-b/shop"]["file"],
        "charts/echo/templates/deployment.yaml"
    );
}

/// The line of `spec.manifests[0]` in a copy made by [`repo_with`].
pub(crate) fn entry_line(dir: &Path) -> usize {
    let spec = std::fs::read_to_string(dir.join("meshplan.yaml")).expect("spec");
    spec.lines()
        .position(|l| l.contains("manifests:"))
        .expect("manifests")
        + 2
}

#[test]
fn a_failed_build_is_exit_2_at_the_entry_with_the_tools_message() {
    let dir = repo_with(&["{kustomize: apps/prod}"]);
    std::fs::write(
        dir.path().join("apps/prod/kustomization.yaml"),
        "resources:\n  - team-a\n  - team-x\n",
    )
    .expect("write");
    let (code, out, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 2, "stdout: {out}\nstderr: {err}");
    let at = format!("meshplan.yaml:{}:", entry_line(dir.path()));
    assert!(err.contains(&at), "{err}");
    assert!(err.contains("{kustomize: apps/prod}"), "{err}");
    assert!(err.contains("team-x"), "kustomize's own message: {err}");
    assert!(!dir.path().join("rendered").exists());
}

#[test]
fn a_missing_kustomize_is_exit_2_at_the_entry() {
    let dir = repo_with(&["{kustomize: apps/prod}"]);
    let out = meshplan()
        .args(["check", "-C"])
        .arg(dir.path())
        .args(["--today", TODAY, "--kustomize", "/nonexistent/kustomize"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("meshplan.yaml:{}:", entry_line(dir.path()))),
        "{err}"
    );
    assert!(err.contains("/nonexistent/kustomize"), "{err}");
}

#[test]
fn a_substitution_variable_without_value_is_exit_2() {
    let dir = repo_with(&["{flux: clusters/prod}"]);
    let web = dir.path().join("apps/base/shop/web.yaml");
    let text = std::fs::read_to_string(&web).expect("read");
    std::fs::write(&web, text.replace("${cluster_env}", "${cluster_region}")).expect("write");
    let (code, _, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("meshplan.yaml:{}:", entry_line(dir.path()))),
        "{err}"
    );
    assert!(err.contains("`cluster_region` has no value"), "{err}");
    assert!(err.contains("Kustomization/flux-system/apps"), "{err}");
}

#[test]
fn entry_paths_leaving_the_repository_are_refused() {
    for entry in ["{kustomize: ../monorepo}", "{flux: clusters/../../x}"] {
        let dir = repo_with(&[entry]);
        let (code, _, err) = run(dir.path(), &["check"]);
        assert_eq!(code, 2, "{entry}: {err}");
        assert!(
            err.contains("must not leave the spec's directory"),
            "{entry}: {err}"
        );
    }
    // A symlink out of the repository is refused too.
    let dir = repo_with(&["{kustomize: apps/outside}"]);
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("kustomization.yaml"), "resources: []\n").expect("write");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("apps/outside")).expect("symlink");
    let (code, _, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("points outside the repository"), "{err}");
}

/// Loads `{flux: DIR}` of the real flux2-kustomize-helm-example.
fn load_flux_example(cluster: &str) -> inventory::Inventory {
    let repo = shared_data().join("gitops-repos/flux2-kustomize-helm-example");
    let source = Source::Build(Box::new(BuildSource {
        kind: BuildKind::Flux(format!("clusters/{cluster}")),
        root: PathBuf::new(),
        spec_file: PathBuf::from("meshplan.yaml"),
        line: 1,
        label: format!("{{flux: clusters/{cluster}}}"),
        tools: tools(),
    }));
    inventory::load(&repo, &[source], &Limits::default()).expect("the example loads")
}

/// `apiVersion/kind` → count.
fn counts(inv: &inventory::Inventory) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for o in &inv.objects {
        *out.entry(format!("{}/{}", o.id.api_version, o.id.kind))
            .or_insert(0) += 1;
    }
    out
}

#[test]
fn flux2_kustomize_helm_example_loads_every_object_the_controllers_apply() {
    for cluster in ["production", "staging"] {
        let inv = load_flux_example(cluster);
        let expected: BTreeMap<String, usize> = [
            // clusters/<cluster>: the three Kustomizations and the ArtifactGenerator.
            ("kustomize.toolkit.fluxcd.io/v1/Kustomization", 3),
            ("source.extensions.fluxcd.io/v1beta1/ArtifactGenerator", 1),
            // infrastructure/controllers (ExternalArtifact `infrastructure`).
            ("v1/Namespace", 3),
            ("source.toolkit.fluxcd.io/v1/OCIRepository", 2),
            ("helm.toolkit.fluxcd.io/v2/HelmRelease", 3),
            // infrastructure/configs.
            ("cert-manager.io/v1/ClusterIssuer", 1),
            ("gateway.networking.k8s.io/v1/Gateway", 1),
            ("gateway.networking.k8s.io/v1/GatewayClass", 1),
            // apps/<cluster> over apps/base/podinfo (ExternalArtifact `apps`).
            ("source.toolkit.fluxcd.io/v1/HelmRepository", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(counts(&inv), expected, "{cluster}");
        // Every object points at its file in the repository.
        for o in &inv.objects {
            assert!(
                shared_data()
                    .join("gitops-repos/flux2-kustomize-helm-example")
                    .join(&o.file)
                    .is_file(),
                "{cluster}: {} from {}",
                o.id.key(),
                o.file
            );
        }
        let release = inv
            .get("HelmRelease", "podinfo", "podinfo")
            .expect("podinfo release");
        assert_eq!(release.file, "apps/base/podinfo/release.yaml");
        assert_eq!(release.line, 1);
        // The cluster's overlay patched the values.
        let host = release
            .body
            .pointer("/spec/values/httpRoute/hostnames/0")
            .and_then(Value::as_str);
        assert_eq!(
            host,
            Some(if cluster == "production" {
                "podinfo.production"
            } else {
                "podinfo.staging"
            })
        );
        // Three remote charts: none of their workloads is judged, each says so.
        let mut unrendered: Vec<String> = inv.unrendered.iter().map(|u| u.object.key()).collect();
        unrendered.sort();
        assert_eq!(
            unrendered,
            [
                "HelmRelease/cert-manager/cert-manager",
                "HelmRelease/envoy-gateway-system/envoy-gateway",
                "HelmRelease/podinfo/podinfo"
            ],
            "{cluster}"
        );
    }
}

/// `kubectl kustomize apps/prod` of the user's overlays, with whichever of meshplan's
/// components exist: `Kind/namespace/name` (or `Kind/name`) → object.
pub(crate) fn build_apps(dir: &Path) -> BTreeMap<String, Value> {
    let components: Vec<&str> = ["restarts", "namespaces"]
        .into_iter()
        .filter(|c| {
            dir.join("rendered")
                .join(c)
                .join("kustomization.yaml")
                .is_file()
        })
        .collect();
    let list: String = components
        .iter()
        .map(|c| format!("  - ../../rendered/{c}\n"))
        .collect();
    std::fs::write(
        dir.join("apps/prod/kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - team-a\n  - team-b\n  - team-c\n{}",
            if list.is_empty() { String::new() } else { format!("components:\n{list}") }
        ),
    )
    .expect("write");
    let out = std::process::Command::new(tool("kubectl"))
        .arg("kustomize")
        .arg(dir.join("apps/prod"))
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<Value> = serde_saphyr::from_multiple(&String::from_utf8_lossy(&out.stdout))
        .expect("kustomize output");
    docs.into_iter()
        .map(|o| {
            let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
            let kind = o["kind"].as_str().unwrap_or("");
            let name = o["metadata"]["name"].as_str().unwrap_or("");
            let key = if ns.is_empty() {
                format!("{kind}/{name}")
            } else {
                format!("{kind}/{ns}/{name}")
            };
            (key, o)
        })
        .collect()
}

/// The keys whose object differs between two builds.
fn changed(before: &BTreeMap<String, Value>, after: &BTreeMap<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = before.keys().chain(after.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.retain(|k| before.get(k) != after.get(k));
    keys
}

/// Commits whatever changed in the checkout of `main` (a user's pull request, merged).
fn commit_all(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    if !git(dir, &["status", "--porcelain"]).trim().is_empty() {
        git(dir, &["commit", "-q", "-m", message]);
    }
}

/// A Flux monorepo in miniature, as a Git repository: three namespaces hold same-named
/// Deployments (one behind a `namePrefix`), one wave each. Every step of the upgrade is
/// committed by `meshplan commit` and merged into `main` as a pull request would be; after
/// each merge the real kustomize build of the overlays differs from the previous one in
/// exactly the step's planned restarts and relabelled namespaces, and each bump reaches its
/// own workload only, with a value it never had.
#[test]
fn each_step_changes_exactly_its_planned_restarts_and_relabels() {
    let dir = repo_with(&["{flux: clusters/prod}"]);
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "user.name", "Mesh Owner"]);
    git(d, &["config", "user.email", "owner@example.com"]);
    commit_all(d, "fleet");
    // The cluster runs 1.26.8, then upgrades to 1.28.10. The first step (install) renders
    // meshplan's Components, empty; the user wires them, and the rest of 1.26.8 renders
    // without forcing anything past MP505.
    let (code, _, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{err}");
    build_apps(d);
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    commit_all(d, "Istio 1.26.8, components wired into apps/prod");
    let spec = std::fs::read_to_string(d.join("meshplan.yaml")).expect("spec");
    std::fs::write(
        d.join("meshplan.yaml"),
        spec.replace("version: 1.26.8", "version: 1.28.10"),
    )
    .expect("write");
    commit_all(d, "upgrade to 1.28.10");
    let waves: BTreeMap<&str, &str> = [
        ("wave a", "team-a"),
        ("wave b", "team-b"),
        ("wave c", "team-c"),
    ]
    .into();
    let mut seen_waves = Vec::new();
    let mut bumped: BTreeMap<String, String> = BTreeMap::new();
    let mut merged = 0;
    for _ in 0..20 {
        let (code, out, err) = run(d, &["plan", "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let plan = json(&out);
        let Some(step) = plan["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["done"] == false)
            .cloned()
        else {
            break;
        };
        let name = step["name"].as_str().expect("name").to_string();
        let mut expected: Vec<String> = step["restarts"]
            .as_array()
            .expect("restarts")
            .iter()
            .map(|r| r.as_str().expect("string").to_string())
            .collect();
        let wave = name.rsplit_once(": ").map_or(name.as_str(), |(_, w)| w);
        if let Some(ns) = waves.get(wave) {
            expected.push(format!("Namespace/{ns}"));
            seen_waves.push(wave.to_string());
        }
        expected.sort();
        // A component rendered for the first time is wired in by the user first.
        let _ = build_apps(d);
        commit_all(d, "wire meshplan's components");
        let before = build_apps(d);
        let (code, _, err) = run(d, &["commit"]);
        assert_eq!(code, 0, "{name}: {err}");
        git(
            d,
            &[
                "merge",
                "-q",
                "--no-ff",
                "meshplan/prod",
                "-m",
                &format!("Merge pull request: {name}"),
            ],
        );
        git(d, &["branch", "-q", "-D", "meshplan/prod"]);
        merged += 1;
        let after = build_apps(d);
        assert_eq!(changed(&before, &after), expected, "step {name}");
        for key in &expected {
            if let Some(value) = after[key]
                .pointer("/spec/template/metadata/annotations/meshplan.dev~1restarted-for")
            {
                let value = value.as_str().expect("string").to_string();
                assert_ne!(bumped.get(key), Some(&value), "{name}: {key}");
                bumped.insert(key.clone(), value);
            }
        }
    }
    assert!(merged >= 8, "install, 2 x 3 waves, cleanup: {merged}");
    // Two hops (1.27, then 1.28), each moving the namespaces wave by wave.
    assert_eq!(
        seen_waves,
        ["wave a", "wave b", "wave c", "wave a", "wave b", "wave c"]
    );
    // Every Deployment was restarted onto the new revision in its own wave.
    for key in [
        "Deployment/team-a/a-web",
        "Deployment/team-b/web",
        "Deployment/team-c/web",
    ] {
        assert!(
            bumped.get(key).is_some_and(|v| v.starts_with("1-28-10.")),
            "{key}: {bumped:?}"
        );
    }
    // Nothing is left uncommitted: every change went through a merged pull request.
    assert_eq!(git(d, &["status", "--porcelain"]).trim(), "");
}
