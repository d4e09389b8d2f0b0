//! Unit tests of the planner's rules that the integration tests (`tests/planner.rs`) do not
//! reach: hop limits, a catalogue without an intermediate minor, spec changes mid-upgrade,
//! steps left out because they change nothing, and wave assignment.

use super::*;
use crate::state::{GatewayState, RevisionState};
use std::path::Path;

fn spec(version: &str, upgrade: &str) -> Spec {
    let text = format!(
        "apiVersion: meshplan.dev/v1alpha1
kind: Mesh
metadata: {{name: prod}}
spec:
  kubernetesVersion: \"1.30\"
  istio: {{version: {version}}}
  upgrade: {{{upgrade}}}
  gateways: [{{name: ingress, namespace: istio-ingress}}]
  namespaces: [{{name: a, labels: {{tier: web}}}}, {{name: b}}, {{name: c, labels: {{tier: web}}}}]
"
    );
    crate::spec::parse(Path::new("meshplan.yaml"), &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Every step of a plan applied to `lock` (no facts: restarts are not needed here).
fn apply_all(plan: &Plan, lock: &Lock) -> Lock {
    plan.steps
        .iter()
        .filter(|s| !s.done)
        .fold(lock.clone(), |l, s| l.apply(plan, s))
}

fn installed(version: &str, upgrade: &str) -> Lock {
    let s = spec(version, upgrade);
    let plan = plan(&s, None, &Catalog::builtin());
    apply_all(&plan, &Lock::empty("prod"))
}

fn names(plan: &Plan) -> Vec<&str> {
    plan.steps.iter().map(|s| s.name.as_str()).collect()
}

#[test]
fn max_skip_is_istios_limit_tightened_by_the_spec() {
    let cases = [
        ("strategy: revision, maxMinorSkip: 2", 2),
        ("strategy: revision, maxMinorSkip: 1", 1),
        ("strategy: in-place, maxMinorSkip: 2", 1),
        ("strategy: in-place", 1),
    ];
    for (upgrade, want) in cases {
        assert_eq!(max_skip(&spec("1.26.8", upgrade)), want, "{upgrade}");
    }
}

#[test]
fn an_intermediate_minor_missing_from_the_catalogue_stops_the_plan() {
    let text = "schema_version: 1
minors:
  - minor: \"1.24\"
    patches: [{version: 1.24.6, date: 2025-05-01}]
  - minor: \"1.26\"
    patches: [{version: 1.26.8, date: 2025-12-01}]
";
    let catalog = Catalog::parse(Path::new("cat.yaml"), text).unwrap_or_else(|e| panic!("{e}"));
    let target = spec("1.26.8", "");
    let plan = plan(&target, Some(&installed("1.24.6", "")), &catalog);
    assert!(plan.steps.is_empty());
    assert_eq!(plan.problems.len(), 1);
    assert_eq!(plan.problems[0].rule, "MP108");
    assert_eq!(plan.problems[0].kind, ProblemKind::MissingMinor);
    assert!(
        plan.problems[0].message.contains("1.25"),
        "{:?}",
        plan.problems
    );
}

#[test]
fn waves_edited_mid_upgrade_replan_from_the_lock() {
    let target = spec(
        "1.26.8",
        "maxMinorSkip: 2, waves: [{name: first, namespaces: [a]}]",
    );
    let lock = installed("1.24.6", "");
    let first = plan(&target, Some(&lock), &Catalog::builtin());
    assert_eq!(
        names(&first),
        [
            "install",
            "wave first",
            "wave unlisted",
            "gateway",
            "cleanup"
        ]
    );
    let mid = first.steps[..2]
        .iter()
        .fold(lock.clone(), |l, s| l.apply(&first, s));
    // The user renames the last wave: the recorded steps no longer exist, so the planner
    // starts again from the lock, leaving out what is already done.
    let edited = spec(
        "1.26.8",
        "maxMinorSkip: 2, waves: [{name: first, namespaces: [a]}, {name: rest, namespaces: [b, c]}]",
    );
    let again = plan(&edited, Some(&mid), &Catalog::builtin());
    assert_eq!(names(&again), ["wave rest", "gateway", "cleanup"]);
    assert!(again.steps.iter().all(|s| !s.done));
    let done = apply_all(&again, &mid);
    assert_eq!(
        plan(&edited, Some(&done), &Catalog::builtin())
            .remaining()
            .count(),
        0
    );
    assert_eq!(
        done.namespaces
            .values()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        1
    );
}

#[test]
fn a_leftover_revision_is_only_cleaned_up() {
    let mut lock = installed("1.26.8", "");
    lock.revisions.push(RevisionState {
        name: "1-24-6".into(),
        version: "1.24.6".into(),
        installed_by: None,
    });
    lock.gateways.insert(
        "istio-ingress/ingress".into(),
        GatewayState {
            colours: BTreeMap::from([
                ("blue".into(), "1-24-6".into()),
                ("green".into(), "1-26-8".into()),
            ]),
            active: "green".into(),
        },
    );
    let target = spec("1.26.8", "");
    let p = plan(&target, Some(&lock), &Catalog::builtin());
    // Nothing uses 1-24-6, so it does not hold the plan back to 1.24.
    assert_eq!(p.from.as_deref(), Some("1.26.8"));
    assert_eq!(names(&p), ["cleanup"]);
    let done = apply_all(&p, &lock);
    assert_eq!(done.revisions.len(), 1);
    assert_eq!(
        plan(&target, Some(&done), &Catalog::builtin())
            .remaining()
            .count(),
        0
    );
}

#[test]
fn a_settled_cluster_has_nothing_to_do() {
    let lock = installed("1.26.8", "");
    let p = plan(&spec("1.26.8", ""), Some(&lock), &Catalog::builtin());
    assert_eq!(p.from.as_deref(), Some("1.26.8"));
    assert_eq!(p.hops, ["1.26.8"]);
    assert!(p.steps.is_empty());
    assert!(p.problems.is_empty());
}

#[test]
fn waves_take_listed_then_selected_namespaces_and_the_rest_last() {
    let s = spec(
        "1.26.8",
        "waves: [{name: one, namespaces: [c]}, {name: web, namespaceSelector: {matchLabels: {tier: web}}}]",
    );
    let got = s.waves();
    let want = vec![
        ("one".to_string(), vec!["c".to_string()]),
        ("web".to_string(), vec!["a".to_string()]),
        ("unlisted".to_string(), vec!["b".to_string()]),
    ];
    assert_eq!(got, want);
}

#[test]
fn only_a_multi_hop_plan_prefixes_step_names() {
    let lock = installed("1.24.6", "");
    let one = plan(&spec("1.25.5", ""), Some(&lock), &Catalog::builtin());
    assert!(one.steps.iter().all(|s| !s.name.contains(':')));
    let two = plan(&spec("1.26.8", ""), Some(&lock), &Catalog::builtin());
    assert!(
        two.steps
            .iter()
            .all(|s| s.name.starts_with(&format!("{}: ", s.hop)))
    );
}

#[test]
fn an_in_place_gateway_moves_and_restarts_in_the_gateway_step() {
    let text = "apiVersion: meshplan.dev/v1alpha1
kind: Mesh
metadata: {name: prod}
spec:
  kubernetesVersion: \"1.30\"
  istio: {version: VERSION}
  gateways: [{name: edge, namespace: gw, strategy: in-place}]
";
    let at = |v: &str| {
        crate::spec::parse(Path::new("meshplan.yaml"), &text.replace("VERSION", v))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let new = plan(&at("1.25.5"), None, &Catalog::builtin());
    let lock = apply_all(&new, &Lock::empty("prod"));
    let up = plan(&at("1.26.8"), Some(&lock), &Catalog::builtin());
    assert_eq!(names(&up), ["install", "gateway", "cleanup"]);
    // Install leaves an in-place gateway alone; the gateway step moves and restarts it.
    assert_eq!(up.steps[0].restarts, Vec::<String>::new());
    assert_eq!(up.steps[1].restarts, ["Deployment/gw/edge-blue"]);
    let done = apply_all(&up, &lock);
    let edge = &done.gateways["gw/edge"];
    assert_eq!(edge.colours["blue"], "1-26-8");
    assert_eq!(done.workloads["Deployment/gw/edge-blue"].generation, 1);
}
