//! The upgrade example end to end: from the committed render of Istio 1.22.8 in
//! `examples/upgrade-1.22-to-1.26`, `meshplan render` is run step after step until the plan
//! is empty. After each step the lock is checked, the tree validates against the real
//! schemas, `check` sees no drift, and the whole rendered tree is pinned as a snapshot.

use crate::common::{check_json, copy_tree, findings, root, run_in as run};
use serde_json::Value;
use std::path::Path;

/// Validates every rendered document under `dir/rendered` (the lock aside) against the real
/// schemas; returns how many had a schema.
fn validate_rendered(dir: &Path, name: &str) -> usize {
    use meshplan::render::schema::{Checked, check};
    let mut validated = 0;
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
            match check(&doc).expect("schemas compile") {
                Checked::Invalid(e) => panic!("{name}: {}: {e:?}", path.display()),
                Checked::Valid => validated += 1,
                Checked::NoSchema => {}
            }
        }
    }
    validated
}

fn lock(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("rendered/meshplan.lock")).expect("lock");
    serde_saphyr::from_str(&text).expect("lock parses")
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

/// Every file under `rendered/`, in path order, as one reviewable text.
fn tree_text(dir: &Path) -> String {
    let base = dir.join("rendered");
    let mut files: Vec<_> = walkdir::WalkDir::new(&base)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().to_path_buf())
        .collect();
    files.sort();
    let mut out = String::new();
    for f in files {
        let rel = f
            .strip_prefix(&base)
            .expect("below")
            .to_string_lossy()
            .replace('\\', "/");
        out.push_str(&format!(
            "##### {rel}\n{}",
            std::fs::read_to_string(&f).expect("utf-8")
        ));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[test]
fn upgrade_from_1_22_to_1_26_step_by_step() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);

    // Where the example starts: 1.22.8 installed, nothing in progress, no drift.
    let start = lock(d);
    assert_eq!(revisions(&start), ["1-22-8=1.22.8"]);
    assert_eq!(start["namespaces"]["bookinfo"], "1-22-8");
    assert!(start.get("upgrade").is_none(), "{start}");
    let (_, report) = check_json(d);
    assert!(
        findings(&report, "MP502").is_empty(),
        "the committed render is current: {report}"
    );

    let (code, plan, plan_err) = run(d, &["plan", "--format", "json"]);

    assert_eq!(code, 0, "{plan_err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan json");
    assert_eq!(
        plan["hops"],
        serde_json::json!(["1.22.8", "1.24.6", "1.26.8"])
    );
    let names: Vec<String> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(names.len(), 10, "{names:?}");

    for (i, name) in names.iter().enumerate() {
        let (code, out, err) = run(d, &["render"]);
        assert_eq!(code, 0, "render {name}: {err}");
        assert!(
            out.starts_with(&format!("rendered step \"{name}\" ({}/10)", i + 1)),
            "{out}"
        );
        let l = lock(d);
        let (hop, kind) = name.split_once(": ").expect("hop-prefixed step names");
        let new = format!("1-{}", hop.trim_start_matches("1.").replace('.', "-"));
        let revs = revisions(&l);
        match kind {
            // A new revision beside the old one; the idle gateway colour on it.
            "install" => {
                assert_eq!(revs.len(), 2, "{name}: {revs:?}");
                assert!(revs.contains(&format!("{new}={hop}")), "{name}: {revs:?}");
                let gw = &l["gateways"]["istio-ingress/ingress"];
                assert_eq!(
                    gw["colours"].as_object().map(|c| c.len()),
                    Some(2),
                    "{name}: {gw}"
                );
            }
            "wave canary" => assert_eq!(l["namespaces"]["podinfo"], new.as_str(), "{name}"),
            "wave main" => {
                assert_eq!(l["namespaces"]["bookinfo"], new.as_str(), "{name}");
                let w = &l["workloads"]["Deployment/bookinfo/productpage-v1"];
                assert_eq!(w["proxy"], hop, "{name}: {w}");
            }
            // The traffic Service now selects the colour on the new revision.
            "gateway" => {
                let gw = &l["gateways"]["istio-ingress/ingress"];
                let active = gw["active"].as_str().expect("active");
                assert_eq!(gw["colours"][active], new.as_str(), "{name}: {gw}");
            }
            "cleanup" => assert_eq!(revs, [format!("{new}={hop}")], "{name}"),
            other => panic!("unexpected step kind {other}"),
        }
        // What was rendered is what check would render: no drift, and valid objects.
        let (_, report) = check_json(d);
        assert!(findings(&report, "MP502").is_empty(), "{name}: {report}");
        validate_rendered(d, name);
        let snapshot = format!("step_{:02}_{}", i + 1, name.replace([':', ' ', '.'], "_"));
        insta::assert_snapshot!(snapshot, tree_text(d));
    }

    let (code, out, _) = run(d, &["render"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("nothing to render"), "{out}");
    let end = lock(d);
    assert_eq!(revisions(&end), ["1-26-8=1.26.8"]);
    assert_eq!(end["tags"]["default"], "1-26-8");
    assert!(end.get("upgrade").is_none(), "{end}");
    let (code, plan, plan_err) = run(d, &["plan", "--format", "json"]);

    assert_eq!(code, 0, "{plan_err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan json");
    assert_eq!(plan["steps"], serde_json::json!([]), "the plan is empty");
}

/// Every bundled example renders, in every delivery, to objects that fit the real schemas
/// (Flux, Argo CD, IstioOperator, Kubernetes).
#[test]
fn every_example_renders_valid_objects_in_every_delivery() {
    let mut examples: Vec<_> = walkdir::WalkDir::new(root().join("examples"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "meshplan.yaml")
        .map(|e| e.path().parent().expect("parent").to_path_buf())
        .collect();
    examples.sort();
    assert!(examples.len() >= 10, "{examples:?}");
    let mut validated = 0;
    for example in &examples {
        for delivery in ["flux-helm", "argocd-helm", "istio-operator"] {
            let dir = tempfile::tempdir().expect("temp dir");
            let d = dir.path();
            copy_tree(example, d);
            let _ = std::fs::remove_dir_all(d.join("rendered"));
            let text = std::fs::read_to_string(d.join("meshplan.yaml")).expect("spec");
            // One document per mesh (examples/tenants has two): each gets the delivery.
            let mut specs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("spec parses");
            let mut docs = Vec::new();
            for spec in &mut specs {
                spec["spec"]["istio"]["delivery"] = Value::from(delivery);
                docs.push(serde_saphyr::to_string(&*spec).expect("spec serializes"));
            }
            std::fs::write(d.join("meshplan.yaml"), docs.join("---\n")).expect("write spec");
            let (code, _, err) = run(d, &["render", "--step", "all", "--force"]);
            let name = format!("{} ({delivery})", example.display());
            assert_eq!(code, 0, "{name}: {err}");
            validated += validate_rendered(d, &name);
        }
    }
    // Namespaces, releases or operators, Services: a handful per example and delivery.
    assert!(
        validated >= examples.len() * 3 * 4,
        "only {validated} objects validated"
    );
}

/// A Deployment of namespace `legacy` (not in the spec, never labelled) whose pod template
/// carries `labels` (YAML flow mapping), with one replica and a readiness probe so only the
/// revision rules have something to say about it.
fn legacy_deployment(name: &str, labels: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}, {labels}}}
    spec:
      containers:
      - name: app
        image: ghcr.io/stefanprodan/podinfo:6.14.1
        readinessProbe:
          httpGet: {{path: /readyz, port: 9898}}
"
    )
}

/// The upgrade example with the Deployments of namespace `legacy` added to its manifests.
fn example_with_legacy(d: &Path, deployments: &[(&str, &str)]) {
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);
    std::fs::create_dir_all(d.join("apps/legacy")).expect("mkdir");
    for (name, labels) in deployments {
        std::fs::write(
            d.join(format!("apps/legacy/{name}.yaml")),
            legacy_deployment(name, labels),
        )
        .expect("write deployment");
    }
    let spec = std::fs::read_to_string(d.join("meshplan.yaml")).expect("spec");
    let spec = spec.replace(
        "  output: rendered",
        "    - {path: \"apps/legacy/*.yaml\", namespace: legacy}\n  output: rendered",
    );
    std::fs::write(d.join("meshplan.yaml"), spec).expect("write spec");
}

/// The steps of `meshplan plan --format json` as (name, restarts).
fn planned_restarts(d: &Path) -> Vec<(String, Vec<String>)> {
    let (code, plan, err) = run(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan json");
    plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            let restarts = s["restarts"]
                .as_array()
                .expect("restarts")
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect();
            (s["name"].as_str().unwrap_or("").to_string(), restarts)
        })
        .collect()
}

/// A pod template that pins `istio.io/rev` in a namespace without injection labels stays on
/// its revision: no wave restarts it, its restart bump keeps naming that revision while the
/// `default` tag moves (a changed value would restart it unplanned), and the cleanup that
/// would remove its revision is refused by MP202, pointing at the Deployment. A pod injected
/// by the default revision moves with the `default` tag, in the last wave.
#[test]
fn pinned_workload_stays_on_its_revision_and_blocks_the_cleanup() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    example_with_legacy(
        d,
        &[
            ("pinned", "istio.io/rev: 1-22-8"),
            ("opted-in", "sidecar.istio.io/inject: \"true\""),
        ],
    );
    // As if meshplan had restarted the pinned one before (an earlier in-place upgrade).
    let lock_path = d.join("rendered/meshplan.lock");
    let text = std::fs::read_to_string(&lock_path).expect("lock");
    let text = text.replace(
        "  Deployment/podinfo/podinfo:",
        "  Deployment/legacy/pinned:\n    generation: 1\n    proxy: \"1.22.8\"\n  Deployment/podinfo/podinfo:",
    );
    std::fs::write(&lock_path, text).expect("write lock");

    let steps = planned_restarts(d);
    assert_eq!(steps.len(), 10, "{steps:?}");
    for (name, restarts) in &steps {
        assert!(
            !restarts.iter().any(|r| r == "Deployment/legacy/pinned"),
            "{name} restarts the pinned workload: {restarts:?}"
        );
        let opted_in = restarts.iter().any(|r| r == "Deployment/legacy/opted-in");
        assert_eq!(
            opted_in,
            name.ends_with(": wave main"),
            "{name}: {restarts:?}"
        );
    }

    let patch = d.join("rendered/restarts/legacy/deployment-pinned.yaml");
    for name in ["install", "wave canary", "wave main", "gateway"] {
        let (code, out, err) = run(d, &["render"]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(out.contains(&format!("\"1.24.6: {name}\"")), "{out}");
        let text = std::fs::read_to_string(&patch).expect("the pinned workload's bump");
        assert!(
            text.contains("meshplan.dev/restarted-for: \"1-22-8.1\""),
            "{name}: {text}"
        );
        let (_, report) = check_json(d);
        assert!(findings(&report, "MP502").is_empty(), "{name}: {report}");
    }
    let opted_in =
        std::fs::read_to_string(d.join("rendered/restarts/legacy/deployment-opted-in.yaml"))
            .expect("the opted-in workload's bump");
    assert!(opted_in.contains("\"1-24-6.1\""), "{opted_in}");

    let lock_before = std::fs::read_to_string(&lock_path).expect("lock");
    let (code, _, err) = run(d, &["render"]);
    assert_eq!(code, 1, "the cleanup is refused: {err}");
    assert!(
        err.contains("MP202")
            && err
                .contains("removes revision 1-22-8, but it still injects Deployment/legacy/pinned"),
        "{err}"
    );
    assert!(err.contains("apps/legacy/pinned.yaml"), "located: {err}");
    assert_eq!(
        std::fs::read_to_string(&lock_path).expect("lock"),
        lock_before,
        "nothing written"
    );
}

/// Podinfo decommissioned while the cluster still runs 1.22.8: its namespace leaves the spec
/// and its Deployment the manifests. The plan releases the namespace first, in a step of its
/// own; that render drops the namespace and the restart bump, and the lock forgets both, so
/// `check` sees no drift and both cleanups pass (no label holds the old revisions).
#[test]
fn a_decommissioned_namespace_is_released_and_its_workloads_forgotten() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);
    std::fs::remove_dir_all(d.join("apps/podinfo")).expect("rm podinfo");
    let spec = std::fs::read_to_string(d.join("meshplan.yaml")).expect("spec");
    let mut edited = spec.clone();
    for line in [
        "      - name: canary\n        namespaces: [podinfo]\n",
        "    - name: podinfo\n",
        "    - {path: \"apps/podinfo/*.yaml\", namespace: podinfo}\n",
    ] {
        assert!(edited.contains(line), "{line}");
        edited = edited.replace(line, "");
    }
    std::fs::write(d.join("meshplan.yaml"), edited).expect("write spec");

    let steps = planned_restarts(d);
    assert_eq!(
        steps
            .first()
            .map(|(name, restarts)| (name.as_str(), restarts.len())),
        Some(("1.24.6: release", 0)),
        "{steps:?}"
    );
    // What the committed lock renders no longer patches the deleted Deployment.
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("MP502") && out.contains("deployment-podinfo.yaml"),
        "{out}"
    );

    let (code, out, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"1.24.6: release\""), "{out}");
    let l = lock(d);
    assert!(l["namespaces"].get("podinfo").is_none(), "{l}");
    assert!(
        l["workloads"].get("Deployment/podinfo/podinfo").is_none(),
        "{l}"
    );
    // The six bookinfo Deployments and the gateway colour's own Deployment.
    assert_eq!(l["workloads"].as_object().map(|w| w.len()), Some(7), "{l}");
    assert!(!d.join("rendered/namespaces/podinfo.yaml").exists());
    assert!(!d.join("rendered/restarts/podinfo").exists());
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP502").is_empty(), "{report}");

    for (name, _) in steps.iter().skip(1) {
        let (code, out, err) = run(d, &["render"]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(out.contains(&format!("\"{name}\"")), "{out}");
    }
    let end = lock(d);
    assert_eq!(revisions(&end), ["1-26-8=1.26.8"]);
    assert_eq!(
        end["namespaces"],
        serde_json::json!({"bookinfo": "1-26-8"}),
        "{end}"
    );
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP502").is_empty(), "{report}");
}

/// A settled cluster whose manifests lose a Deployment: the committed render still patches
/// it (a Kustomize patch without its object breaks the build, and `check` reports it as
/// drift), so the plan, otherwise empty, gets a `release` step whose render drops the patch
/// and whose lock forgets the workload. Then nothing is left and nothing drifts.
#[test]
fn a_workload_deleted_from_a_settled_cluster_is_forgotten_by_a_release_step() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);
    std::fs::remove_file(d.join("apps/podinfo/deployment.yaml")).expect("rm deployment");
    let spec = std::fs::read_to_string(d.join("meshplan.yaml")).expect("spec");
    std::fs::write(
        d.join("meshplan.yaml"),
        spec.replace("version: 1.26.8", "version: 1.22.8"),
    )
    .expect("write spec");

    let steps = planned_restarts(d);
    assert_eq!(steps, [("release".to_string(), Vec::new())]);
    let (code, out, _) = run(d, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("deployment-podinfo.yaml"), "{out}");

    let (code, out, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"release\""), "{out}");
    let l = lock(d);
    assert!(
        l["workloads"].get("Deployment/podinfo/podinfo").is_none(),
        "{l}"
    );
    assert_eq!(
        l["namespaces"]["podinfo"], "1-22-8",
        "the namespace stays: {l}"
    );
    assert!(l.get("upgrade").is_none(), "{l}");
    assert!(!d.join("rendered/restarts/podinfo").exists());
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP502").is_empty(), "{report}");
    assert!(planned_restarts(d).is_empty());
}

/// MP501 end to end on the upgrade example (Istio 1.22.8 rendered): flipping
/// `prometheusMerge` plans one restart step per wave and nothing is left unbumped, step by
/// step or all at once; a lock edited by hand to claim the new config already deployed
/// plans no restarts, and every injected workload is then reported with its manifest.
#[test]
fn a_config_change_without_restart_bumps_is_restart_not_bumped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);
    let spec_path = d.join("meshplan.yaml");
    let text = std::fs::read_to_string(&spec_path).expect("spec");
    let text = text.replace("version: 1.26.8", "version: 1.22.8").replace(
        "revisionTags: [default]",
        "revisionTags: [default]\n    config: {prometheusMerge: false}",
    );
    std::fs::write(&spec_path, &text).expect("spec written");
    let diagnostics = |args: &[&str]| -> (i32, Vec<Value>) {
        let mut all = vec!["check", "--format", "json"];
        all.extend_from_slice(args);
        let (code, out, err) = run(d, &all);
        let report: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("no JSON report (exit {code}): {e}\n{err}"));
        let deny = report["summary"]["deny"].as_u64().expect("summary.deny");
        assert_eq!(code, i32::from(deny > 0), "exit code vs {report}\n{err}");
        let list = report["diagnostics"]
            .as_array()
            .cloned()
            .expect("the report has a diagnostics array");
        (code, list)
    };
    let mp501 = |list: &[Value]| -> Vec<String> {
        let mut keys: Vec<String> = list
            .iter()
            .filter(|d| d["rule"] == "MP501")
            .map(|d| {
                let o = &d["object"];
                format!(
                    "{}/{}/{} {}:{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["namespace"].as_str().unwrap_or(""),
                    o["name"].as_str().unwrap_or(""),
                    d["file"].as_str().unwrap_or(""),
                    d["line"]
                )
            })
            .collect();
        keys.sort();
        keys
    };

    let (code, plan, plan_err) = run(d, &["plan", "--format", "json"]);

    assert_eq!(code, 0, "{plan_err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan json");
    let names: Vec<&str> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["restart canary", "restart main"]);
    assert!(mp501(&diagnostics(&[]).1).is_empty());
    // Judged alone, the first step leaves bookinfo on the old config: the next step has it.
    assert!(mp501(&diagnostics(&["--step", "next"]).1).is_empty());

    // Someone "saves" the restarts by writing the new hash into the lock.
    let spec = meshplan::spec::load(&spec_path).expect("spec loads");
    let hash = meshplan::state::ConfigHash::of(&spec.spec.spec.istio.config);
    let lock_path = d.join("rendered/meshplan.lock");
    let lock_text = std::fs::read_to_string(&lock_path).expect("lock");
    let old = lock(d)["configHash"]["workloads"]
        .as_str()
        .expect("configHash")
        .to_string();
    assert_ne!(old, hash.workloads);
    let edited = lock_text.replace(
        &format!("configHash:\n  workloads: {old}"),
        &format!("configHash:\n  workloads: {}", hash.workloads),
    );
    assert_ne!(edited, lock_text);
    std::fs::write(&lock_path, edited).expect("lock edited");
    let (code, plan, plan_err) = run(d, &["plan", "--format", "json"]);

    assert_eq!(code, 0, "{plan_err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan json");
    assert_eq!(
        plan["steps"],
        serde_json::json!([]),
        "no restart is planned"
    );
    let (code, list) = diagnostics(&[]);
    assert_eq!(code, 1, "deny findings");
    let found = mp501(&list);
    let want: Vec<String> = [
        "Deployment/bookinfo/details-v1 apps/bookinfo/bookinfo.yaml",
        "Deployment/bookinfo/productpage-v1 apps/bookinfo/bookinfo.yaml",
        "Deployment/bookinfo/ratings-v1 apps/bookinfo/bookinfo.yaml",
        "Deployment/bookinfo/reviews-v1 apps/bookinfo/bookinfo.yaml",
        "Deployment/bookinfo/reviews-v2 apps/bookinfo/bookinfo.yaml",
        "Deployment/bookinfo/reviews-v3 apps/bookinfo/bookinfo.yaml",
        "Deployment/podinfo/podinfo apps/podinfo/deployment.yaml",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let found_without_lines: Vec<String> = found
        .iter()
        .map(|f| f.rsplit_once(':').map_or(f.clone(), |(a, _)| a.to_string()))
        .collect();
    assert_eq!(found_without_lines, want, "{found:?}");
    assert!(
        found.iter().all(|f| !f.ends_with(":null")),
        "every finding has a line: {found:?}"
    );
    let msg = list
        .iter()
        .find(|d| d["rule"] == "MP501")
        .and_then(|d| d["message"].as_str())
        .unwrap_or("");
    assert!(msg.contains("prometheusMerge"), "{msg}");
}

/// `numTrustedProxies` restarts only the gateways: the `gateway-restart` step renders the
/// restart annotation on the colour's pods, and nothing is reported; a lock edited to claim
/// the new config plans nothing, and MP501 names the gateway colour at `istio.config`.
#[test]
fn trusted_proxies_restart_the_gateway_colours_or_are_restart_not_bumped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);
    let spec_path = d.join("meshplan.yaml");
    let text = std::fs::read_to_string(&spec_path)
        .expect("spec")
        .replace("version: 1.26.8", "version: 1.22.8")
        .replace(
            "revisionTags: [default]",
            "revisionTags: [default]\n    config: {numTrustedProxies: 2}",
        );
    std::fs::write(&spec_path, &text).expect("spec written");
    let mp501 = |d: &Path| -> Vec<Value> {
        let (_, report) = check_json(d);
        report["diagnostics"]
            .as_array()
            .cloned()
            .expect("the report has a diagnostics array")
            .into_iter()
            .filter(|x| x["rule"] == "MP501")
            .collect()
    };

    // Hand-edited lock first, in a copy: no step, so the gateway is reported.
    let edited = tempfile::tempdir().expect("temp dir");
    copy_tree(d, edited.path());
    let spec = meshplan::spec::load(&spec_path).expect("spec loads");
    let hash = meshplan::state::ConfigHash::of(&spec.spec.spec.istio.config);
    let lock_path = edited.path().join("rendered/meshplan.lock");
    let lock_text = std::fs::read_to_string(&lock_path).expect("lock");
    let old = lock(d)["configHash"]["gateways"]
        .as_str()
        .expect("configHash")
        .to_string();
    let changed = lock_text.replace(
        &format!("  gateways: {old}"),
        &format!("  gateways: {}", hash.gateways),
    );
    assert_ne!(changed, lock_text);
    std::fs::write(&lock_path, changed).expect("lock edited");
    let found = mp501(edited.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["object"]["name"], "ingress-blue");
    assert_eq!(found[0]["file"], "meshplan.yaml");
    let config_line = text
        .lines()
        .position(|l| l.contains("config: {numTrustedProxies"))
        .map(|i| i + 1);
    assert_eq!(found[0]["line"].as_u64(), config_line.map(|l| l as u64));

    // Planned by meshplan: one gateway-restart step, nothing reported, the pods bumped.
    assert!(mp501(d).is_empty());
    let (code, out, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("rendered step \"gateway-restart\""),
        "{out}"
    );
    let release = std::fs::read_to_string(d.join("rendered/istio-ingress/ingress-blue.yaml"))
        .expect("release");
    assert!(
        release.contains("meshplan.dev/restarted-for: \"1-22-8.1\""),
        "{release}"
    );
    assert!(mp501(d).is_empty());
    let (_, report) = check_json(d);
    assert!(findings(&report, "MP502").is_empty(), "{report}");
}

/// A namespace dropped from the spec keeps the lock's label until its `release` step is
/// applied, and the facts say so: injected by its revision before, by nothing after.
#[test]
fn a_dropped_namespace_is_injected_until_it_is_released() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);
    let spec = std::fs::read_to_string(d.join("meshplan.yaml"))
        .expect("spec")
        .replace("version: 1.26.8", "version: 1.22.8")
        .replace("      - name: canary\n        namespaces: [podinfo]\n", "")
        .replace("    - name: podinfo\n", "");
    std::fs::write(d.join("meshplan.yaml"), spec).expect("write spec");
    let revision_of = |d: &Path| -> (Value, Value) {
        let (code, out, err) = run(d, &["facts", "--step", "current", "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let facts: Value = serde_json::from_str(&out).expect("facts json");
        let ns = facts["namespaces"]
            .as_array()
            .and_then(|a| a.iter().find(|n| n["name"] == "podinfo"))
            .map(|n| n["revision"].clone())
            .expect("podinfo namespace");
        let w = facts["workloads"]
            .as_array()
            .and_then(|a| {
                a.iter().find(|w| {
                    w["object"]["name"] == "podinfo" && w["object"]["kind"] == "Deployment"
                })
            })
            .map(|w| w["revision"].clone())
            .expect("podinfo Deployment");
        (ns, w)
    };
    assert_eq!(
        revision_of(d),
        (Value::from("1-22-8"), Value::from("1-22-8")),
        "the committed render still labels podinfo"
    );
    let (code, out, err) = run(d, &["render"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("rendered step \"release\""), "{out}");
    assert_eq!(revision_of(d), (Value::Null, Value::Null));
}

/// What lands in one pull request is judged as one transition too: `render --step all`
/// across the example's two hops moves every proxy 1.22 → 1.26 at once and is refused
/// (MP101, named after the whole change); the steps of one hop together pass.
#[test]
fn step_all_across_hops_is_refused_as_one_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join("examples/upgrade-1.22-to-1.26"), d);
    let committed = std::fs::read_to_string(d.join("rendered/meshplan.lock")).expect("lock");
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused: deny findings remain"), "{err}");
    assert!(
        err.contains(
            "deny[MP101]: the proxy of Deployment/bookinfo/productpage-v1 moves from 1.22.8 to 1.26.8, 4 minors where at most 2 are supported"
        ),
        "{err}"
    );
    assert!(
        err.contains("step: 1.24.6: install .. 1.26.8: cleanup"),
        "{err}"
    );
    let now = std::fs::read_to_string(d.join("rendered/meshplan.lock")).expect("lock");
    assert_eq!(committed, now, "nothing is written");

    // The first hop alone (steps 1-5) is a safe change.
    let (code, out, err) = run(d, &["render", "--step", "5"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(1-5/10)"), "{out}");
    // The rest at once crosses no more than one hop either.
    let (code, _, err) = run(d, &["render", "--step", "all"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("MP101"), "{err}");
}
