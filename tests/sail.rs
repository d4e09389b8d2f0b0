//! `delivery: sail` end to end: a mesh the Sail Operator runs is upgraded from 1.28.10 to
//! 1.30.3 (the nearest range both the release catalogue and Sail Operator 1.30.3 install),
//! every step committed with `meshplan commit` and merged like a pull request; every
//! rendered document fits the real Sail CRDs; the cleanup leaves the old revision to the
//! operator (recorded in the lock) and MP202 still refuses it while something uses it; a
//! version the operator does not install is MP107 with the reason, and refused.

use crate::common::{check_json, copy_tree, edit_spec, findings, git, root, run_in as run};
use serde_json::Value;
use std::path::Path;

/// The Sail kinds meshplan renders.
const SAIL_KINDS: [&str; 2] = ["Istio", "IstioRevisionTag"];

/// Validates every rendered document under `dir/rendered` (the lock aside) against the
/// embedded schemas, which the unit tests pin to the shared CRDs; returns how many Sail
/// documents validated. A Sail document without a schema fails the test.
fn validate_rendered(dir: &Path, step: &str) -> usize {
    use meshplan::render::schema::{Checked, check};
    let mut sail = 0;
    for entry in walkdir::WalkDir::new(dir.join("rendered"))
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if !entry.file_type().is_file() || path.ends_with("meshplan.lock") {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("utf-8");
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("rendered YAML");
        for doc in docs {
            let is_sail = doc["apiVersion"] == "sailoperator.io/v1";
            if is_sail {
                let kind = doc["kind"].as_str().unwrap_or("");
                assert!(SAIL_KINDS.contains(&kind), "{step}: unexpected {kind}");
            }
            match check(&doc).expect("schemas compile") {
                Checked::Invalid(e) => panic!("{step}: {}: {e:?}", path.display()),
                Checked::Valid if is_sail => sail += 1,
                Checked::Valid => {}
                Checked::NoSchema => assert!(!is_sail, "{step}: no schema for {doc}"),
            }
        }
    }
    sail
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).expect("YAML")
}

fn lock(dir: &Path) -> Value {
    yaml(&dir.join("rendered/meshplan.lock"))
}

fn revisions(lock: &Value) -> Vec<String> {
    lock["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| {
            format!(
                "{}={}",
                r["name"].as_str().unwrap_or(""),
                r["version"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// The Sail revision name of `version` in the example mesh.
fn rev(version: &str) -> String {
    format!("sail-demo-v{}", version.replace('.', "-"))
}

/// A Git repository holding the sail example as the Sail Operator runs it at `from`:
/// meshplan's whole render of the spec at that version, committed on `main`.
fn running_at(from: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/sail"), d);
    std::fs::remove_dir_all(d.join("rendered")).expect("remove the example's render");
    edit_spec(d, "version: 1.30.3", &format!("version: {from}"));
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "user.name", "Mesh Owner"]);
    git(d, &["config", "user.email", "owner@example.com"]);
    git(d, &["add", "-A"]);
    git(
        d,
        &[
            "commit",
            "-q",
            "-m",
            &format!("Istio {from} through the Sail Operator"),
        ],
    );
    dir
}

#[test]
fn sail_mesh_walks_from_1_28_to_1_30_every_step_committed_and_merged() {
    let dir = running_at("1.28.10");
    let d = dir.path();
    assert_eq!(revisions(&lock(d)), [format!("{}=1.28.10", rev("1.28.10"))]);
    let istio = yaml(&d.join("rendered/istio-system/istio.yaml"));
    assert_eq!(istio["metadata"]["name"], "sail-demo");
    assert_eq!(istio["spec"]["version"], "v1.28.10");
    assert_eq!(istio["spec"]["namespace"], "istio-system");
    assert_eq!(istio["spec"]["updateStrategy"]["type"], "RevisionBased");
    assert!(istio["spec"]["values"].get("revision").is_none(), "{istio}");
    assert_eq!(
        validate_rendered(d, "start"),
        2,
        "the Istio and the default tag"
    );

    edit_spec(d, "version: 1.28.10", "version: 1.30.3");
    git(d, &["commit", "-q", "-am", "Istio 1.30.3"]);
    let (code, plan, err) = run(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan JSON");
    assert_eq!(
        plan["hops"],
        serde_json::json!(["1.28.10", "1.29.6", "1.30.3"])
    );
    let names: Vec<String> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["name"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(names.len(), 10, "{names:?}");

    let mut old = "1.28.10".to_string();
    for name in &names {
        let (code, out, err) = run(d, &["commit"]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        git(
            d,
            &[
                "merge",
                "-q",
                "--no-ff",
                "meshplan/sail-demo",
                "-m",
                &format!("Merge pull request: {name}"),
            ],
        );
        git(d, &["branch", "-q", "-D", "meshplan/sail-demo"]);
        let changed = git(d, &["diff", "--name-only", "HEAD^1", "HEAD"]);
        let (hop, kind) = name.split_once(": ").expect("hop-prefixed step names");
        let l = lock(d);
        let revs = revisions(&l);
        let istio = yaml(&d.join("rendered/istio-system/istio.yaml"));
        let tag = yaml(&d.join("rendered/istio-system/revisiontag-default.yaml"));
        match kind {
            // The Istio asks for the hop's version: the operator adds its revision.
            "install" => {
                assert_eq!(
                    istio["spec"]["version"],
                    format!("v{hop}").as_str(),
                    "{name}"
                );
                assert!(
                    changed.contains("rendered/istio-system/istio.yaml"),
                    "{name}: {changed}"
                );
                assert_eq!(
                    revs,
                    [
                        format!("{}={old}", rev(&old)),
                        format!("{}={hop}", rev(hop))
                    ],
                    "{name}"
                );
                assert_eq!(
                    tag["spec"]["targetRef"]["name"],
                    rev(&old).as_str(),
                    "{name}"
                );
            }
            "wave canary" => {
                let ns = yaml(&d.join("rendered/namespaces/podinfo.yaml"));
                assert_eq!(
                    ns["metadata"]["labels"]["istio.io/rev"],
                    rev(hop).as_str(),
                    "{name}"
                );
                assert_eq!(l["namespaces"]["bookinfo"], rev(&old).as_str(), "{name}");
            }
            // The last wave moves the default tag to the new IstioRevision.
            "wave main" => {
                let ns = yaml(&d.join("rendered/namespaces/bookinfo.yaml"));
                assert_eq!(
                    ns["metadata"]["labels"]["istio.io/rev"],
                    rev(hop).as_str(),
                    "{name}"
                );
                assert_eq!(tag["spec"]["targetRef"]["kind"], "IstioRevision");
                assert_eq!(
                    tag["spec"]["targetRef"]["name"],
                    rev(hop).as_str(),
                    "{name}"
                );
                let w = &l["workloads"]["Deployment/bookinfo/productpage-v1"];
                assert_eq!(w["proxy"], hop, "{name}: {w}");
            }
            "gateway" => {
                let gw = &l["gateways"]["istio-ingress/ingress"];
                let active = gw["active"].as_str().expect("active");
                assert_eq!(gw["colours"][active], rev(hop).as_str(), "{name}: {gw}");
            }
            // The Istio is untouched: the operator deletes the old revision itself, and
            // the lock says so.
            "cleanup" => {
                assert!(!changed.contains("istio.yaml"), "{name}: {changed}");
                assert_eq!(revs, [format!("{}={hop}", rev(hop))], "{name}");
                assert_eq!(
                    l["operatorDeletes"],
                    serde_json::json!([{"revision": rev(&old), "version": old,
                                        "owner": "Istio/sail-demo", "gracePeriodSeconds": 30}]),
                    "{name}"
                );
                let message = git(d, &["log", "-1", "--format=%B", "HEAD^2"]);
                let line = format!(
                    "Revisions the operator deletes:\n- {} (Istio {old}): Istio/sail-demo deletes it once unused, after 30s\n",
                    rev(&old)
                );
                assert!(message.contains(&line), "{name}: {message}");
                old = hop.to_string();
            }
            other => panic!("unexpected step kind {other}"),
        }
        if kind != "cleanup" {
            assert!(l.get("operatorDeletes").is_none(), "{name}: {l}");
        }
        // The merged render is what check would render: no drift, valid Sail objects.
        let (code, report) = check_json(d);
        assert_eq!(code, 0, "{name}: {report}");
        assert!(findings(&report, "MP502").is_empty(), "{name}: {report}");
        assert!(findings(&report, "MP107").is_empty(), "{name}: {report}");
        assert_eq!(validate_rendered(d, name), 2, "{name}");
    }
    let (code, out, _) = run(d, &["commit"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("nothing to commit"), "{out}");
    let end = lock(d);
    assert_eq!(revisions(&end), [format!("{}=1.30.3", rev("1.30.3"))]);
    assert_eq!(end["tags"]["default"], rev("1.30.3").as_str());
    assert!(end.get("upgrade").is_none(), "{end}");
    assert_eq!(git(d, &["status", "--porcelain"]).trim(), "");
    // Ten merged pull requests on top of the two starting commits.
    let merges = git(d, &["rev-list", "--merges", "--count", "HEAD"]);
    assert_eq!(merges.trim(), "10");
}

/// A Deployment that pins the old revision by its own pod label keeps it through every
/// wave; the cleanup, which leaves that revision to the operator, is still refused (MP202).
#[test]
fn sail_cleanup_is_refused_while_a_pinned_workload_uses_the_old_revision() {
    let dir = running_at("1.29.6");
    let d = dir.path();
    std::fs::create_dir_all(d.join("apps/legacy")).expect("mkdir");
    std::fs::write(
        d.join("apps/legacy/pinned.yaml"),
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: pinned
spec:
  replicas: 1
  selector:
    matchLabels: {app: pinned}
  template:
    metadata:
      labels: {app: pinned, istio.io/rev: sail-demo-v1-29-6}
    spec:
      containers:
      - name: app
        image: ghcr.io/stefanprodan/podinfo:6.14.1
        readinessProbe:
          httpGet: {path: /readyz, port: 9898}
",
    )
    .expect("write deployment");
    edit_spec(
        d,
        "  output: rendered",
        "    - {path: \"apps/legacy/*.yaml\", namespace: legacy}\n  output: rendered",
    );
    edit_spec(d, "version: 1.29.6", "version: 1.30.3");
    for name in ["install", "wave canary", "wave main", "gateway"] {
        let (code, out, err) = run(d, &["render"]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains(&format!("\"{name}\"")), "{out}");
    }
    let before = std::fs::read(d.join("rendered/meshplan.lock")).expect("lock");
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let mp202 = findings(&report, "MP202");
    assert!(
        mp202.iter().any(|f| f["object"]["name"] == "pinned"
            && f["step"] == "cleanup"
            && f["message"]
                .as_str()
                .is_some_and(|m| m.contains("sail-demo-v1-29-6"))),
        "{report}"
    );
    let (code, out, err) = run(d, &["render"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("deny[MP202]") || out.contains("deny[MP202]"),
        "{out}{err}"
    );
    assert_eq!(
        std::fs::read(d.join("rendered/meshplan.lock")).expect("lock"),
        before
    );
}

/// A target the operator release marks end of life is MP107 with that reason, and the
/// step that would render it is refused (MP108 at `spec.istio.version`): nothing written.
#[test]
fn a_version_the_sail_operator_does_not_install_is_mp107_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/sail"), d);
    std::fs::remove_dir_all(d.join("rendered")).expect("remove the render");
    edit_spec(d, "version: 1.30.3", "version: 1.27.9");
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let mp107 = findings(&report, "MP107");
    assert_eq!(mp107.len(), 1, "{report}");
    let message = mp107[0]["message"].as_str().expect("message");
    assert!(
        message.contains("istio 1.27.9 cannot be installed by delivery sail")
            && message.contains("Sail Operator 1.30.3 marks Istio 1.27.9 end of life")
            && message.contains("1.28.0 to 1.30.3"),
        "{message}"
    );
    assert_eq!(mp107[0]["file"], "meshplan.yaml");
    let mp108 = findings(&report, "MP108");
    assert_eq!(mp108.len(), 1, "{report}");
    assert_eq!(mp108[0]["step"], "install");
    let (code, _, err) = run(d, &["render"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("meshplan.yaml:") && err.contains("MP108"),
        "{err}"
    );
    assert!(!d.join("rendered").exists(), "nothing is written");
    // A version the operator installs is neither.
    edit_spec(d, "version: 1.27.9", "version: 1.28.10");
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP107").is_empty(), "{report}");
    assert!(findings(&report, "MP108").is_empty(), "{report}");
}

/// The Sail CRD schemas refuse what the API server would: a version outside the enum (which
/// still lists the end-of-life versions the operator no longer installs: only
/// `catalog::sail` refuses those), a version without its `v`, an unknown update strategy.
/// So the validation above can fail.
#[test]
fn the_sail_schemas_refuse_what_the_operator_refuses() {
    use meshplan::render::schema::{Checked, check};
    let dir = running_at("1.29.6");
    let istio = yaml(&dir.path().join("rendered/istio-system/istio.yaml"));
    assert_eq!(check(&istio).expect("schemas compile"), Checked::Valid);
    for (pointer, bad) in [
        ("/spec/version", "v1.31.0"),
        ("/spec/version", "1.29.6"),
        ("/spec/updateStrategy/type", "Canary"),
    ] {
        let mut doc = istio.clone();
        *doc.pointer_mut(pointer).expect("field") = Value::from(bad);
        let Checked::Invalid(errors) = check(&doc).expect("schemas compile") else {
            panic!("{pointer}: {bad} accepted");
        };
        assert!(errors.iter().any(|(at, _)| at == pointer), "{errors:?}");
    }
    let tag = yaml(
        &dir.path()
            .join("rendered/istio-system/revisiontag-default.yaml"),
    );
    assert_eq!(check(&tag).expect("schemas compile"), Checked::Valid);
    let mut bad = tag.clone();
    bad["spec"]["targetRef"]["kind"] = Value::from("Deployment");
    assert!(matches!(check(&bad), Ok(Checked::Invalid(_))));
}

/// What `delivery: sail` cannot express is refused at its line, exit 2, nothing written.
#[test]
fn sail_refuses_a_revision_name_and_the_in_place_strategy() {
    for (from, to, field) in [
        (
            "    delivery: sail",
            "    delivery: sail\n    revision: canary",
            "revision",
        ),
        (
            "    strategy: revision",
            "    strategy: in-place",
            "strategy",
        ),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        copy_tree(&root().join("examples/sail"), d);
        std::fs::remove_dir_all(d.join("rendered")).expect("remove the render");
        edit_spec(d, from, to);
        let line = std::fs::read_to_string(d.join("meshplan.yaml"))
            .expect("spec")
            .lines()
            .position(|l| l.trim_start().starts_with(&format!("{field}:")))
            .expect("the field")
            + 1;
        for cmd in ["check", "render"] {
            let (code, _, err) = run(d, &[cmd]);
            assert_eq!(code, 2, "{cmd} {field}: {err}");
            assert!(err.contains(&format!("meshplan.yaml:{line}:")), "{err}");
            assert!(err.contains("delivery: sail"), "{err}");
        }
        assert!(!d.join("rendered").exists());
    }
}

/// `helm template` of a real chart of the shared data with `values`; returns the
/// rendered manifests, failing the test when the chart refuses them.
fn helm_template(
    chart: &str,
    version: &str,
    release: &str,
    namespace: &str,
    values: &Value,
) -> String {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), serde_json::to_string(values).expect("JSON")).expect("write");
    let out = std::process::Command::new(crate::common::tool("helm"))
        .args(["template", release])
        .arg(crate::common::shared_data().join(format!("istio-charts/{version}/{chart}")))
        .args(["-n", namespace, "-f"])
        .arg(file.path())
        .output()
        .expect("helm runs");
    assert!(
        out.status.success(),
        "helm template {chart} {version}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// What the Sail Operator and Flux install from the render, checked with the real Helm
/// 4.1.4 and the real 1.28.10 charts: the `Istio`'s `spec.values` with the revision the
/// operator sets are values the istiod chart accepts and that produce
/// `istiod-sail-demo-v1-28-10`; the gateway colour's HelmRelease values install a gateway
/// whose pods the same revision injects.
#[test]
fn sail_values_install_with_the_real_1_28_charts() {
    let dir = running_at("1.28.10");
    let d = dir.path();
    let istio = yaml(&d.join("rendered/istio-system/istio.yaml"));
    let mut values = istio["spec"]["values"].clone();
    values["revision"] = Value::from(rev("1.28.10"));
    let istiod = helm_template("istiod", "1.28.10", "istiod", "istio-system", &values);
    assert!(
        istiod.contains("name: istiod-sail-demo-v1-28-10\n"),
        "no istiod Deployment of the revision"
    );
    assert!(
        istiod.contains("enablePrometheusMerge: true"),
        "meshConfig reaches the chart"
    );
    let release = yaml(&d.join("rendered/istio-ingress/ingress-blue.yaml"));
    assert_eq!(release["spec"]["chart"]["spec"]["version"], "1.28.10");
    let gateway = helm_template(
        "gateway",
        "1.28.10",
        "ingress-blue",
        "istio-ingress",
        &release["spec"]["values"],
    );
    assert!(
        gateway.contains(&format!("istio.io/rev: \"{}\"", rev("1.28.10"))),
        "{gateway}"
    );
    assert!(
        !gateway.contains("kind: Service\n"),
        "the traffic Service is owned apart"
    );
}

/// A `spec.istio.values` key the `Istio` CRD does not have would be dropped by the API
/// server, unseen by the operator: `check` reports it (MP108 at `spec.istio.values`), and
/// `render` refuses it at that line, writing nothing.
#[test]
fn sail_values_the_api_server_would_drop_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/sail"), d);
    std::fs::remove_dir_all(d.join("rendered")).expect("remove the render");
    edit_spec(
        d,
        "    revisionTags: [default]\n",
        "    revisionTags: [default]\n    values:\n      pilot: {replicas: 2, autoscaleMin: 2}\n",
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let mp108 = findings(&report, "MP108");
    assert_eq!(mp108.len(), 1, "{report}");
    let message = mp108[0]["message"].as_str().expect("message");
    assert!(message.contains("no field /pilot/replicas:"), "{message}");
    assert!(!message.contains("autoscaleMin"), "{message}");
    assert_eq!(mp108[0]["line"], 18, "the line of `values:`");
    let (code, _, err) = run(d, &["render"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("meshplan.yaml:18:"), "{err}");
    assert!(!d.join("rendered").exists());
}

/// A Sail `Istio` already in the manifests is a control plane the lock does not record
/// (MP207), and, named as the mesh, the very object meshplan would render (MP208): the
/// Sail kinds are cluster-scoped, so both name `Istio/sail-demo`.
#[test]
fn a_sail_istio_in_the_manifests_is_unmanaged_and_collides() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/sail"), d);
    std::fs::remove_dir_all(d.join("rendered")).expect("remove the render");
    std::fs::create_dir_all(d.join("apps/istio")).expect("mkdir");
    std::fs::write(
        d.join("apps/istio/istio.yaml"),
        "apiVersion: sailoperator.io/v1
kind: Istio
metadata:
  name: sail-demo
spec:
  namespace: istio-system
  version: v1.29.6
  updateStrategy: {type: RevisionBased}
",
    )
    .expect("write the Istio");
    edit_spec(
        d,
        "  output: rendered",
        "    - apps/istio/*.yaml\n  output: rendered",
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let unmanaged = findings(&report, "MP207");
    assert_eq!(unmanaged.len(), 1, "{report}");
    assert!(
        unmanaged[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("revision sail-demo-v1-29-6")),
        "{report}"
    );
    let collision = findings(&report, "MP208");
    assert_eq!(collision.len(), 1, "{report}");
    assert_eq!(
        collision[0]["object"],
        serde_json::json!({"apiVersion": "sailoperator.io/v1", "kind": "Istio",
                           "namespace": "", "name": "sail-demo"})
    );
    assert_eq!(collision[0]["file"], "apps/istio/istio.yaml");
}

/// A hand edit of the rendered `Istio` (someone bumps its version outside the plan) is
/// drift, MP502, at that file, like any hand edit of the render.
#[test]
fn a_hand_edited_istio_is_drift() {
    let dir = running_at("1.29.6");
    let d = dir.path();
    let (code, report) = check_json(d);
    assert_eq!(code, 0, "{report}");
    assert!(findings(&report, "MP502").is_empty(), "{report}");
    let path = d.join("rendered/istio-system/istio.yaml");
    let text = std::fs::read_to_string(&path).expect("istio.yaml");
    std::fs::write(&path, text.replace("v1.29.6", "v1.30.3")).expect("hand edit");
    let (code, report) = check_json(d);
    assert_eq!(code, 1, "{report}");
    let drift = findings(&report, "MP502");
    assert_eq!(drift.len(), 1, "{report}");
    assert_eq!(drift[0]["file"], "rendered/istio-system/istio.yaml");
}
