//! No built-in rule grows faster than linearly with the workloads: each rule's time over
//! generated inputs of 1,000 and 4,000 workloads (with a Service and, for every other one, a
//! PodDisruptionBudget each) is compared in the same run. A linear rule takes about 4× as long
//! at 4,000; a rule that scans all objects per object takes about 16×. The threshold sits
//! between the two, and the smallest ratio of three interleaved rounds is compared, so a busy
//! machine does not fail it; a deliberately quadratic rule shows the check is not blind.

use meshplan::diagnostic::ObjectRef;
use meshplan::facts::{PdbFacts, PortFacts, ServiceFacts};
use meshplan::policy::{PolicySet, synthetic_input};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A rule is refused when 4× the workloads costs more than this many times the time.
const MAX_RATIO: f64 = 10.0;
/// Below this at the larger size, a rule is too cheap to time reliably.
const NOISE_FLOOR: Duration = Duration::from_millis(4);

/// `synthetic_input(n)` with one Service per workload and a PDB for every odd one, so rules
/// that relate workloads to Services or PDBs are exercised too.
fn input(n: usize) -> Value {
    let mut input = synthetic_input(n);
    let mut services = Vec::with_capacity(n);
    let mut pdbs = Vec::new();
    for i in 0..n {
        let namespace = format!("ns-{:05}", i / 50);
        let name = format!("app-{i:06}");
        let workload = format!("Deployment/{namespace}/{name}");
        let service = ObjectRef {
            api_version: "v1".into(),
            kind: "Service".into(),
            namespace: namespace.clone(),
            name: name.clone(),
        };
        services.push(ServiceFacts {
            key: service.key(),
            object: service,
            file: format!("apps/{namespace}.yaml"),
            line: 1,
            headless: false,
            selector: BTreeMap::from([("app".to_string(), name.clone())]),
            workloads: vec![workload.clone()],
            selects_injected: true,
            ports: vec![PortFacts {
                name: "http".into(),
                port: 80,
                app_protocol: None,
                protocol: "http".into(),
                source: "name".into(),
            }],
        });
        if i % 2 == 1 {
            let pdb = ObjectRef {
                api_version: "policy/v1".into(),
                kind: "PodDisruptionBudget".into(),
                namespace: namespace.clone(),
                name: name.clone(),
            };
            pdbs.push(PdbFacts {
                key: format!("{namespace}/{name}"),
                object: pdb,
                file: format!("apps/{namespace}.yaml"),
                line: 1,
                workloads: vec![workload],
                min_available: Some(Value::from(1)),
                max_unavailable: None,
                expected_pods: 2,
                disruptions_allowed: 1,
            });
        }
    }
    input["facts"]["services"] = serde_json::to_value(services).expect("services serialize");
    input["facts"]["pdbs"] = serde_json::to_value(pdbs).expect("pdbs serialize");
    input
}

/// The rules whose time grows more than `MAX_RATIO` times from `small` to `large` inputs.
/// Three rounds, each timing the small input then the large one back to back, so both sides
/// of a ratio see the same machine; a rule is reported only when its smallest ratio of the
/// three is too large (a busy moment inflates one round's ratio, not all three).
fn superlinear(set: &PolicySet, small: &Value, large: &Value) -> Vec<String> {
    let mut best: BTreeMap<String, (f64, Duration, Duration)> = BTreeMap::new();
    for _ in 0..3 {
        let little = set.rule_costs(small).expect("rules evaluate");
        let big = set.rule_costs(large).expect("rules evaluate");
        for ((code, l), (_, b)) in little.into_iter().zip(big) {
            let ratio = b.as_secs_f64() / l.as_secs_f64().max(1e-6);
            let entry = best.entry(code).or_insert((ratio, l, b));
            if ratio < entry.0 {
                *entry = (ratio, l, b);
            }
        }
    }
    best.into_iter()
        .filter(|(_, (ratio, _, big))| *big >= NOISE_FLOOR && *ratio > MAX_RATIO)
        .map(|(code, (ratio, little, big))| format!("{code}: {little:?} -> {big:?} ({ratio:.1}x)"))
        .collect()
}

#[test]
fn no_built_in_rule_grows_faster_than_linearly() {
    let set = PolicySet::load(true, &[]).expect("built-ins compile");
    let slow = superlinear(&set, &input(1_000), &input(4_000));
    assert!(
        slow.is_empty(),
        "rules that grow faster than linearly with the workloads (index a fact instead of \
         scanning all objects per object):\n{}",
        slow.join("\n")
    );
}

#[test]
fn a_rule_that_scans_every_workload_per_workload_is_caught() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("quadratic.rego"),
        r#"package custom.quadratic

metadata := {"code": "XQ001", "name": "quadratic", "severity": "warn"}

warn contains {"msg": w.key} if {
	some w in input.facts.workloads
	count([o | some o in input.facts.workloads; o.object.namespace == w.object.namespace; o.key < w.key]) > 1000000
}

warn contains {"msg": "never"} if {
	some w in input.facts.workloads
	some o in input.facts.workloads
	o.key == w.key
	o.replicas > 100
}
"#,
    )
    .expect("write the rule");
    let set = PolicySet::load(false, &[dir.path().to_path_buf()]).expect("the rule compiles");
    let slow = superlinear(&set, &input(250), &input(1_000));
    assert_eq!(slow.len(), 1, "the quadratic rule is reported: {slow:?}");
    assert!(slow[0].starts_with("XQ001"), "{slow:?}");
}
