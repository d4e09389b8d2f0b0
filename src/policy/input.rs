//! The one input document every rule reads (`docs/policy-input.md`, version 1), and a
//! generator of large synthetic inputs for performance tests and benchmarks.

use super::PolicyError;
use crate::diagnostic::ObjectRef;
use crate::facts::{Facts, NamespaceFacts, RevisionFacts, WorkloadFacts};
use crate::spec::MeshSpec;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The parts of the input document; the caller (the CLI) owns each of them.
#[derive(Debug, Clone, Copy)]
pub struct InputParts<'a> {
    /// `metadata.name` of the spec: the cluster.
    pub cluster: &'a str,
    /// The spec section, defaults applied.
    pub spec: &'a MeshSpec,
    /// The lock as JSON (null until the state stage exists).
    pub state: Option<&'a Value>,
    /// `{from, to, hops, steps: [{name, hop, done, restarts, manual}]}`.
    pub plan: &'a Value,
    /// The step judged alone, or None when every remaining step is judged at once.
    pub step: Option<&'a str>,
    /// The facts after the judged change.
    pub facts: &'a Facts,
    /// Rendered objects (null until the render stage exists).
    pub rendered: Option<&'a Value>,
}

/// Builds `{version, metadata, spec, state, plan, step, facts, rendered}`.
pub fn build_input(parts: InputParts<'_>) -> Result<Value, PolicyError> {
    let to_json = |what: &str, r: Result<Value, serde_json::Error>| {
        r.map_err(|e| PolicyError::Eval(format!("cannot serialize {what}: {e}")))
    };
    Ok(json!({
        "version": 1,
        "metadata": {"name": parts.cluster},
        "spec": to_json("spec", serde_json::to_value(parts.spec))?,
        "state": parts.state.cloned().unwrap_or(Value::Null),
        "plan": parts.plan.clone(),
        "step": parts.step.map_or(Value::Null, |s| json!({"name": s})),
        "facts": to_json("facts", serde_json::to_value(parts.facts))?,
        "rendered": parts.rendered.cloned().unwrap_or(Value::Null),
    }))
}

/// The restart-relevant config hash of synthetic inputs.
const SYNTHETIC_CONFIG: &str = "0000000000000000";

/// A synthetic input with `workloads` moving, injected Deployments of 2 replicas spread over
/// namespaces of 50, for measuring rule cost at scale. Workload `i` has no PDB when `i` is
/// even (MP301), a container without readiness probe when `i % 5 == 0` (MP303), and a
/// grace period longer than its drain when `i % 7 == 0` (MP313); nothing else fires.
pub fn synthetic_input(workloads: usize) -> Value {
    // Kept whole on purpose: a benchmark fixture built as one document, field by field in the
    // order of docs/policy-input.md, so it can be checked against that page at a glance.
    let revision = "1-24-3".to_string();
    let namespaces: Vec<NamespaceFacts> = (0..workloads.div_ceil(50))
        .map(|n| NamespaceFacts {
            name: format!("ns-{n:05}"),
            revision: Some(revision.clone()),
            injected: true,
            managed: true,
            wave: Some("rest".into()),
            labels: BTreeMap::from([("istio.io/rev".into(), revision.clone())]),
            injection_label: None,
            rev_label: Some(revision.clone()),
            file: None,
            line: None,
            reason: "istio.io/rev selects it".into(),
            mesh: None,
            mesh_reason: None,
        })
        .collect();
    let workloads: Vec<WorkloadFacts> = (0..workloads)
        .map(|i| {
            let object = ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: format!("ns-{:05}", i / 50),
                name: format!("app-{i:06}"),
            };
            let pdbs = if i % 2 == 0 {
                Vec::new()
            } else {
                vec![format!("{}/{}", object.namespace, object.name)]
            };
            WorkloadFacts {
                key: object.key(),
                file: format!("apps/{}.yaml", object.namespace),
                line: 1,
                injected: true,
                revision: Some(revision.clone()),
                reason: "namespace label".into(),
                pod_labels: BTreeMap::from([("app".into(), object.name.clone())]),
                pod_annotations: BTreeMap::new(),
                pod_rev_label: None,
                replicas: 2,
                owner_kind: "Deployment".into(),
                restartable: true,
                sidecar: "legacy".into(),
                custom_proxy_image: None,
                disruption_allowed: (!pdbs.is_empty()).then_some(true),
                pdbs,
                blocking_pdbs: Vec::new(),
                containers_without_readiness: if i % 5 == 0 {
                    vec!["app".into()]
                } else {
                    Vec::new()
                },
                restart_policy: "Always".into(),
                termination_grace_period_seconds: if i % 7 == 0 { 60 } else { 5 },
                drain_duration_seconds: 5,
                graceful_exit: false,
                services: Vec::new(),
                headless_services: Vec::new(),
                moving: true,
                step: Some("wave rest".into()),
                // Restarted onto the target in this wave, as `LockTransition::apply` records it.
                proxy: Some("1.24.3".into()),
                proxy_config: Some(SYNTHETIC_CONFIG.into()),
                next_restart: None,
                mesh: None,
                dataplane: None,
                object,
            }
        })
        .collect();
    let facts = Facts {
        version: 1,
        namespaces,
        workloads,
        revisions: BTreeMap::from([(
            revision.clone(),
            RevisionFacts {
                name: revision.clone(),
                version: "1.24.3".into(),
                tags: vec!["default".into()],
            },
        )]),
        tags: BTreeMap::from([("default".into(), revision.clone())]),
        default_revision: Some(revision),
        config_hash: Some(crate::state::ConfigHash {
            workloads: SYNTHETIC_CONFIG.into(),
            gateways: SYNTHETIC_CONFIG.into(),
        }),
        versions: crate::facts::VersionFacts {
            today: "2025-01-15".into(),
            kubernetes: "1.30".into(),
            target: synthetic_version(),
            installed: vec![synthetic_version()],
        },
        ..Facts::default()
    };
    json!({
        "version": 1,
        "metadata": {"name": "synthetic"},
        "spec": {
            "kubernetesVersion": "1.30",
            "istio": {"version": "1.24.3", "config": {"nativeSidecars": "auto"}},
            "upgrade": {"maxRestartsPerStep": 1_000_000},
            "exceptions": []
        },
        "state": null,
        "plan": {"from": "1.23.4", "to": "1.24.3", "hops": ["1.23.4", "1.24.3"], "steps": []},
        "step": null,
        // Facts hold only strings, numbers and string-keyed maps, so this cannot fail.
        "facts": serde_json::to_value(&facts).unwrap_or(Value::Null),
        "rendered": null
    })
}

fn synthetic_version() -> crate::facts::VersionFact {
    crate::facts::VersionFact {
        version: "1.24.3".into(),
        minor: "1.24".into(),
        known: true,
        minor_known: true,
        eol_date: Some("2025-06-19".into()),
        end_of_life: false,
        kubernetes_supported: vec!["1.28".into(), "1.29".into(), "1.30".into(), "1.31".into()],
        kubernetes_ok: true,
        delivery_unsupported: None,
    }
}

/// The input of one step's transition rules: `input.step` carries the step with the lock
/// `before` and `after` it; `input.facts` and `input.rendered` are absent (undefined, not
/// null, so rules over facts stay quiet without tripping strict builtins: they are judged
/// once, over the facts input). See docs/policy-input.md.
pub fn build_step_input(
    cluster: &str,
    spec: &MeshSpec,
    state: Option<&Value>,
    plan: &Value,
    step: Value,
) -> Result<Value, PolicyError> {
    let spec = serde_json::to_value(spec)
        .map_err(|e| PolicyError::Eval(format!("cannot serialize spec: {e}")))?;
    Ok(json!({
        "version": 1,
        "metadata": {"name": cluster},
        "spec": spec,
        "state": state.cloned().unwrap_or(Value::Null),
        "plan": plan.clone(),
        "step": step,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::VersionFact;
    use crate::policy::{PolicySet, count_by_code};
    use std::path::Path;

    const RELEASES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/istio-releases/supported-releases.yaml"
    );

    /// A version fact from the real release table, judged as the catalogue would.
    fn fact(version: &str, kubernetes: &str, today: &str) -> VersionFact {
        let text = std::fs::read_to_string(RELEASES).expect("release data readable");
        let doc: Value = serde_saphyr::from_str(&text).expect("release data parses");
        let minor = version.rsplit_once('.').map_or(version, |(m, _)| m);
        let release = doc["releases"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["version"] == minor))
            .expect("minor in the release table");
        let supported: Vec<String> = release["k8s_supported"]
            .as_array()
            .expect("k8s_supported list")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let eol = release["eol_date"].as_str().map(str::to_string);
        VersionFact {
            version: version.into(),
            minor: minor.into(),
            known: true,
            minor_known: true,
            end_of_life: eol.as_deref().is_some_and(|d| d < today),
            eol_date: eol,
            kubernetes_ok: supported.iter().any(|k| k == kubernetes),
            kubernetes_supported: supported,
            delivery_unsupported: None,
        }
    }

    fn input(kubernetes: &str, today: &str, installed: &[&str], target: &str) -> Value {
        let text = format!(
            "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata: {{name: prod}}\nspec:\n  kubernetesVersion: \"{kubernetes}\"\n  istio: {{version: {target}}}\n"
        );
        let spec = crate::spec::parse(Path::new("meshplan.yaml"), &text).expect("spec parses");
        let facts = Facts {
            version: 1,
            versions: crate::facts::VersionFacts {
                today: today.into(),
                kubernetes: kubernetes.into(),
                target: fact(target, kubernetes, today),
                installed: installed
                    .iter()
                    .map(|v| fact(v, kubernetes, today))
                    .collect(),
            },
            ..Facts::default()
        };
        let mut hops = vec![json!(installed.first().copied().unwrap_or(target))];
        hops.push(json!(target));
        let plan = json!({"from": hops[0], "to": target, "hops": hops, "steps": []});
        build_input(InputParts {
            cluster: &spec.metadata.name,
            spec: &spec.spec,
            state: None,
            plan: &plan,
            step: Some("install"),
            facts: &facts,
            rendered: None,
        })
        .expect("input builds")
    }

    #[test]
    fn input_has_contract_shape_with_spec_defaults() {
        let doc = input("1.30", "2025-01-15", &["1.23.4", "1.24.3"], "1.24.3");
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["metadata"]["name"], "prod");
        assert_eq!(doc["spec"]["upgrade"]["maxRestartsPerStep"], 200);
        assert_eq!(doc["spec"]["istio"]["config"]["nativeSidecars"], "auto");
        assert_eq!(doc["step"], json!({"name": "install"}));
        assert_eq!(doc["state"], Value::Null);
        assert_eq!(doc["facts"]["versions"]["target"]["kubernetesOk"], true);
        assert!(doc["facts"]["defaultRevision"].is_null());
    }

    #[test]
    fn real_release_data_drives_kubernetes_and_eol_rules() {
        let set = PolicySet::load(true, &[]).expect("built-ins compile");
        let codes = |doc: &Value| count_by_code(&set.evaluate(doc).expect("evaluates"));
        // 1.24 supports Kubernetes 1.28-1.31 and was supported until June 2025; 1.23's
        // support ended in April 2025.
        let fine = codes(&input(
            "1.30",
            "2025-01-15",
            &["1.23.4", "1.24.3"],
            "1.24.3",
        ));
        assert_eq!(fine.get("MP103"), None);
        assert_eq!(fine.get("MP104"), None);
        // MP104 judges what runs: the lock's revisions (here 1.23.4 still installed).
        let mut running = input("1.30", "2025-05-01", &["1.23.4", "1.24.3"], "1.24.3");
        running["state"] = json!({"revisions": [{"name": "1-23-4", "version": "1.23.4"}]});
        let old_installed = codes(&running);
        assert_eq!(
            old_installed.get("MP104"),
            Some(&1),
            "only 1.23 is past end of life"
        );
        let too_new = codes(&input("1.33", "2025-01-15", &["1.24.3"], "1.24.3"));
        assert_eq!(too_new.get("MP103"), Some(&1));
        let late = codes(&input("1.30", "2026-01-01", &["1.24.3"], "1.24.3"));
        assert_eq!(late.get("MP104"), Some(&1));
    }
}
