//! No built-in rule grows faster than linearly with the workloads: each rule's time over
//! generated inputs of 1,000 and 8,000 workloads (with a Service and, for every other one, a
//! PodDisruptionBudget each, restarted by a wave of the plan; and a step transition moving
//! them) is compared in the same run. A linear rule takes about 8× as long
//! at 8,000; a rule that scans all objects per object takes about 64×. The threshold sits
//! between the two, and the smallest ratio of three interleaved rounds is compared, so a busy
//! machine does not fail it; a deliberately quadratic rule shows the check is not blind.

use meshplan::diagnostic::ObjectRef;
use meshplan::facts::{PdbFacts, PortFacts, ServiceFacts};
use meshplan::policy::{PolicySet, synthetic_input};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A rule is refused when 8× the workloads costs more than this many times the time...
const MAX_RATIO: f64 = 20.0;
/// ... and more than this many times the median rule's growth in the same round (linear
/// rules all grow alike; a quadratic one grows about 8x more).
const MAX_OVER_MEDIAN: f64 = 2.2;
/// Below this at the larger size, a rule is too cheap to time reliably.
const NOISE_FLOOR: Duration = Duration::from_millis(8);

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
    // The plan's wave restarts every workload, and the builds are checked (MP505 relates
    // each workload to its step's restart list and to its build).
    let keys: Vec<String> = (0..n)
        .map(|i| format!("Deployment/ns-{:05}/app-{i:06}", i / 50))
        .collect();
    input["plan"]["steps"] =
        serde_json::json!([{"name": "wave rest", "kind": "wave", "restarts": keys}]);
    let wiring: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| {
            (
                k.clone(),
                serde_json::json!({"build": "apps", "included": true}),
            )
        })
        .collect();
    input["facts"]["wiring"] = serde_json::json!({
        "checked": true, "component": "rendered/restarts",
        "namespacesComponent": "rendered/namespaces", "workloads": wiring,
        "namespaces": {}, "relabelled": {}});
    input
}

/// A step transition's input (the transition rules: MP101, MP105, MP202…) over `n`
/// workloads: a wave that moves their namespaces from 1.23.4 to 1.24.3 and restarts them.
fn step_input(n: usize) -> Value {
    let lock = |revision: &str, version: &str, generation: u64| {
        let workloads: serde_json::Map<String, Value> = (0..n)
            .map(|i| {
                let (namespace, name) = (format!("ns-{:05}", i / 50), format!("app-{i:06}"));
                let key = format!("Deployment/{namespace}/{name}");
                let entry = serde_json::json!({"kind": "Deployment", "namespace": namespace,
                    "name": name, "generation": generation, "proxy": version});
                (key, entry)
            })
            .collect();
        let namespaces: serde_json::Map<String, Value> = (0..n.div_ceil(50))
            .map(|i| (format!("ns-{i:05}"), Value::from(revision)))
            .collect();
        serde_json::json!({
            "revisions": [{"name": "1-23-4", "version": "1.23.4"}, {"name": "1-24-3", "version": "1.24.3"}],
            "tags": {}, "namespaces": namespaces, "gateways": {}, "workloads": workloads})
    };
    // Shaped as `build_step_input` shapes it: no facts, no rendered part.
    let mut input = synthetic_input(0);
    if let Some(fields) = input.as_object_mut() {
        fields.remove("facts");
        fields.remove("rendered");
    }
    input["step"] = serde_json::json!({
        "name": "wave rest", "kind": "wave", "hop": "1.24.3", "restarts": [], "manual": [],
        "stranded": [], "objects": {},
        "before": lock("1-23-4", "1.23.4", 0), "after": lock("1-24-3", "1.24.3", 1)});
    input
}

/// The rules whose time grows more than `MAX_RATIO` times from `small` to `large` inputs,
/// and more than `MAX_OVER_MEDIAN` times as much as the median rule's in the same round.
/// Three rounds, each timing the small input then the large one back to back, so both sides
/// of a ratio see the same machine; a rule is reported only when it stands out in all three
/// (a busy moment inflates one round's ratio, or every rule's, not one rule's three times).
fn superlinear(set: &PolicySet, small: &Value, large: &Value) -> Vec<String> {
    let mut best: BTreeMap<String, (f64, f64, Duration, Duration)> = BTreeMap::new();
    for _ in 0..3 {
        let little = set.rule_costs(small).expect("rules evaluate");
        let big = set.rule_costs(large).expect("rules evaluate");
        let ratios: Vec<(String, f64, Duration, Duration)> = little
            .into_iter()
            .zip(big)
            .map(|((code, l), (_, b))| (code, b.as_secs_f64() / l.as_secs_f64().max(1e-6), l, b))
            .collect();
        let mut sorted: Vec<f64> = ratios.iter().map(|r| r.1).collect();
        sorted.sort_by(f64::total_cmp);
        let median = sorted
            .get(sorted.len() / 2)
            .copied()
            .unwrap_or(1.0)
            .max(1e-6);
        for (code, ratio, l, b) in ratios {
            let over = ratio / median;
            let entry = best.entry(code).or_insert((ratio, over, l, b));
            if over < entry.1 {
                *entry = (ratio, over, l, b);
            }
        }
    }
    best.into_iter()
        .filter(|(_, (ratio, over, _, big))| {
            *big >= NOISE_FLOOR && *ratio > MAX_RATIO && *over > MAX_OVER_MEDIAN
        })
        .map(|(code, (ratio, over, little, big))| {
            format!("{code}: {little:?} -> {big:?} ({ratio:.1}x, {over:.1}x the median rule)")
        })
        .collect()
}

#[test]
fn no_built_in_rule_grows_faster_than_linearly() {
    let set = PolicySet::load(true, &[]).expect("built-ins compile");
    let inputs = [
        (input(1_000), input(8_000)),
        (step_input(1_000), step_input(8_000)),
    ];
    // A rule is reported only when it stands out in three separate measurements: a machine
    // busy with other tests can single out one rule once, not three times, while a rule that
    // scans all objects per object stands out every time.
    let mut slow: Option<Vec<String>> = None;
    for _ in 0..3 {
        let found: Vec<String> = inputs
            .iter()
            .flat_map(|(small, large)| superlinear(&set, small, large))
            .collect();
        let code = |line: &String| line.split(':').next().unwrap_or("").to_string();
        slow = Some(match slow {
            None => found,
            Some(before) => found
                .into_iter()
                .filter(|f| before.iter().any(|b| code(b) == code(f)))
                .collect(),
        });
        if slow.as_ref().is_some_and(Vec::is_empty) {
            break;
        }
    }
    let slow = slow.unwrap_or_default();
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
    // With the built-ins beside it, so the median rule is a linear one.
    let set = PolicySet::load(true, &[dir.path().to_path_buf()]).expect("the rule compiles");
    let slow = superlinear(&set, &input(125), &input(1_000));
    // The built-ins' verdict is the other test's; this one only shows the check can fail.
    assert!(
        slow.iter().any(|s| s.starts_with("XQ001")),
        "the quadratic rule is reported: {slow:?}"
    );
}
