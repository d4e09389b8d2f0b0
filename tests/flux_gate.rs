//! The Flux gate of `examples/flux-gate`: its Flux objects validate against the real CRDs
//! (source-controller v1.9.1 from the shared data, kustomize-controller v1.9.4 vendored in
//! `tests/fixtures/flux`), its Job and ServiceAccount against the Kubernetes 1.30 strict
//! schemas; the gate builds with the real Kustomize as kustomize-controller builds it (no load
//! restrictions inside the artifact), a new lock gives the Job a new pod template (so Flux's
//! `force` recreates it), and the Job's check container, run on the artifact of a revision,
//! passes the committed example and fails a hand edit of the render.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::{TODAY, copy_tree, root, shared_data, tool};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const EXAMPLE: &str = "examples/flux-gate";

/// The `openAPIV3Schema` of `version` in a CRD file, made strict: an object schema that lists
/// its properties rejects others, as `kubectl apply --validate=strict` and Flux's dry-run do,
/// so a misspelt field fails here rather than being pruned in the cluster.
fn crd_schema(path: &Path, version: &str) -> Value {
    let crd: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let v = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap_or_else(|| panic!("{}: no version {version}", path.display()));
    let mut schema = v["schema"]["openAPIV3Schema"].clone();
    strict(&mut schema);
    schema
}

fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let preserves = map.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
            if map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !preserves
            {
                map.insert("additionalProperties".into(), json!(false));
            }
            for (_, v) in map.iter_mut() {
                strict(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// A validator per `apiVersion`/`kind` of the objects the example applies.
fn validators() -> Vec<((&'static str, &'static str), jsonschema::Validator)> {
    let flux = shared_data().join("schemas/flux");
    let k8s = shared_data().join("schemas/kubernetes/v1.30.0-standalone-strict");
    let json_file =
        |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let schemas = [
        (
            ("source.toolkit.fluxcd.io/v1", "GitRepository"),
            crd_schema(
                &flux.join("source-controller-v1.9.1/source.toolkit.fluxcd.io_gitrepositories.yaml"),
                "v1",
            ),
        ),
        (
            ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
            crd_schema(
                &root().join(
                    "tests/fixtures/flux/kustomize-controller-v1.9.4/kustomize.toolkit.fluxcd.io_kustomizations.yaml",
                ),
                "v1",
            ),
        ),
        (("batch/v1", "Job"), json_file(&k8s.join("job-batch-v1.json"))),
        (
            ("v1", "ServiceAccount"),
            json_file(&k8s.join("serviceaccount-v1.json")),
        ),
        (("v1", "ConfigMap"), json_file(&k8s.join("configmap-v1.json"))),
    ];
    schemas
        .into_iter()
        .map(|(key, schema)| (key, jsonschema::validator_for(&schema).unwrap()))
        .collect()
}

/// Validates every object; returns the kinds that had no schema.
fn validate(docs: &[Value], what: &str) -> Vec<String> {
    let validators = validators();
    let mut unchecked = Vec::new();
    for doc in docs {
        let key = (
            doc["apiVersion"].as_str().unwrap(),
            doc["kind"].as_str().unwrap(),
        );
        match validators.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => {
                let errors: Vec<String> = v
                    .iter_errors(doc)
                    .map(|e| format!("{}: {e}", e.instance_path()))
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{what}: {}/{}: {errors:?}",
                    key.1,
                    doc["metadata"]["name"]
                );
            }
            None => unchecked.push(key.1.to_string()),
        }
    }
    unchecked.sort();
    unchecked
}

fn yaml_docs(path: &Path) -> Vec<Value> {
    serde_saphyr::from_multiple(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The real Kustomize, with no load restrictions as kustomize-controller builds.
fn build(dir: &Path) -> Vec<Value> {
    let out = Command::new(tool("kubectl"))
        .args(["kustomize", "--load-restrictor", "LoadRestrictionsNone"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_saphyr::from_multiple(&String::from_utf8(out.stdout).unwrap()).unwrap()
}

#[test]
fn flux_objects_validate_against_the_real_crds() {
    let dir = root().join(EXAMPLE).join("clusters/prod");
    let mut docs = Vec::new();
    for file in ["gitops.yaml", "meshplan-gate.yaml", "mesh.yaml"] {
        docs.extend(yaml_docs(&dir.join(file)));
    }
    assert_eq!(docs.len(), 4);
    assert!(validate(&docs, "clusters/prod").is_empty());
    // The entry point builds, and holds the same objects.
    let names = |docs: &[Value]| -> Vec<String> {
        let mut n: Vec<String> = docs
            .iter()
            .map(|d| format!("{}/{}", d["kind"], d["metadata"]["name"]))
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&build(&dir)), names(&docs));

    // The gate is what the mesh waits for, on the same source.
    let by_name = |n: &str| docs.iter().find(|d| d["metadata"]["name"] == n).unwrap();
    for name in ["istio", "bookinfo"] {
        let k = by_name(name);
        assert!(
            k["spec"]["dependsOn"]
                .as_array()
                .unwrap()
                .contains(&json!({"name": "meshplan-gate"})),
            "{name}"
        );
        assert_eq!(
            k["spec"]["sourceRef"],
            by_name("meshplan-gate")["spec"]["sourceRef"]
        );
    }
    let gate = &by_name("meshplan-gate")["spec"];
    assert_eq!(
        (&gate["wait"], &gate["force"]),
        (&json!(true), &json!(true))
    );

    // The strict schemas do reject a misspelt field: the check above can fail.
    let mut typo = by_name("istio").clone();
    let deps = typo["spec"]
        .as_object_mut()
        .unwrap()
        .remove("dependsOn")
        .unwrap();
    typo["spec"]["dependOn"] = deps;
    let (_, kustomization) = validators()
        .into_iter()
        .find(|(k, _)| k.1 == "Kustomization")
        .unwrap();
    assert!(!kustomization.is_valid(&typo));
}

#[test]
fn the_gate_builds_and_its_job_is_recreated_when_the_lock_changes() {
    let built = build(&root().join(EXAMPLE).join("gate"));
    // Role and RoleBinding have no schema in the shared data; everything else is checked.
    assert_eq!(validate(&built, "gate"), ["Role", "RoleBinding"]);
    let job = built.iter().find(|d| d["kind"] == "Job").unwrap();
    let config_map = built.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let name = config_map["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("meshplan-gate-inputs-"), "{name}");
    let volumes = &job["spec"]["template"]["spec"]["volumes"];
    assert!(
        volumes
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["configMap"]["name"] == name),
        "the Job mounts the generated ConfigMap: {volumes}"
    );
    let example = root().join(EXAMPLE);
    assert_eq!(
        config_map["data"]["meshplan.lock"].as_str().unwrap(),
        std::fs::read_to_string(example.join("rendered/meshplan.lock")).unwrap()
    );
    assert!(
        built
            .iter()
            .all(|d| d["metadata"]["namespace"] == "flux-system")
    );
    let check = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(check["args"][0], "check");

    // The next upgrade step changes the lock: the Job's pod template changes with it.
    let copy = tempfile::tempdir().unwrap();
    copy_tree(&example, copy.path());
    let spec = copy.path().join("meshplan.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("version: 1.26.8", "version: 1.27.9")).unwrap();
    let (code, _, err) = crate::common::run_in(copy.path(), &["render"]);
    assert_eq!(code, 0, "{err}");
    let rebuilt = build(&copy.path().join("gate"));
    let new_job = rebuilt.iter().find(|d| d["kind"] == "Job").unwrap();
    assert_ne!(
        new_job["spec"]["template"], job["spec"]["template"],
        "a new lock must give the Job a new pod template"
    );
}

/// Packs `dir` as source-controller does (a tar.gz of the revision), unpacks it where the
/// Job's fetch container would, and runs the check container's arguments on it.
fn check_artifact(dir: &Path) -> (i32, String) {
    let artifact = tempfile::tempdir().unwrap();
    let tarball = artifact.path().join("artifact.tar.gz");
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let source = artifact.path().join("source");
    std::fs::create_dir(&source).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&source)
        .status()
        .unwrap();
    assert!(status.success());

    let job = yaml_docs(&root().join(EXAMPLE).join("gate/job.yaml"));
    let args: Vec<String> = job[0]["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace("/work/source", source.to_str().unwrap())
        })
        .collect();
    let out = crate::common::meshplan()
        .args(&args)
        .args(["--today", TODAY])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn the_gate_job_passes_the_example_and_fails_a_hand_edit() {
    let (code, text) = check_artifact(&root().join(EXAMPLE));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("0 deny"), "{text}");

    let copy = tempfile::tempdir().unwrap();
    copy_tree(&root().join(EXAMPLE), copy.path());
    let file = copy.path().join("rendered/istio-system/istiod-1-26-8.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replace("interval: \"10m\"", "interval: \"1m\"");
    assert_ne!(edited, text);
    std::fs::write(&file, edited).unwrap();
    let (code, text) = check_artifact(copy.path());
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("MP502"), "{text}");
}
