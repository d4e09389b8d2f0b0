//! Tests of applying steps to locks.

use super::*;
use crate::facts::MeshView;
use crate::state::tests::running;

fn gateway(key: &str, strategy: GatewayStrategy) -> PlannedGateway {
    let (namespace, name) = key.split_once('/').unwrap_or(("", key));
    PlannedGateway {
        key: key.into(),
        namespace: namespace.into(),
        name: name.into(),
        strategy,
    }
}

fn step(kind: StepKind, revision: &str, hop: &str) -> Step {
    Step {
        name: format!("{kind:?}"),
        hop: hop.into(),
        kind,
        revision: revision.into(),
        ..Step::default()
    }
}

#[test]
fn a_revision_hop_moves_colours_labels_and_tags_then_cleans_up() {
    let gws = [
        gateway("gw/bg", GatewayStrategy::BlueGreen),
        gateway("gw/ip", GatewayStrategy::InPlace),
    ];
    let lock = running();
    let installed = lock.transform(&gws, &step(StepKind::Install, "1-26-8", "1.26.8"));
    assert_eq!(installed.revision_version("1-26-8"), Some("1.26.8"));
    assert_eq!(installed.revision_version("1-24-6"), Some("1.24.6"));
    let bg = &installed.gateways["gw/bg"];
    assert_eq!(
        (bg.colours["green"].as_str(), bg.active.as_str()),
        ("1-26-8", "blue")
    );
    assert_eq!(installed.gateways["gw/ip"], lock.gateways["gw/ip"]);

    let mut wave = step(StepKind::Wave, "1-26-8", "1.26.8");
    wave.namespaces = vec!["shop".into()];
    wave.label = "1-26-8".into();
    wave.tags = vec!["default".into()];
    let moved = installed.transform(&gws, &wave);
    assert_eq!(moved.namespaces["shop"], "1-26-8");
    assert_eq!(moved.tags["default"], "1-26-8");

    let switched = moved.transform(&gws, &step(StepKind::Gateway, "1-26-8", "1.26.8"));
    assert_eq!(switched.gateways["gw/bg"].active, "green");
    assert_eq!(switched.gateways["gw/ip"].colours["blue"], "1-26-8");

    let clean = switched.transform(&gws, &step(StepKind::Cleanup, "1-26-8", "1.26.8"));
    assert_eq!(clean.revisions.len(), 1);
    assert_eq!(clean.gateways["gw/bg"].colours.len(), 1);
    assert_eq!(clean.gateways["gw/bg"].colours["green"], "1-26-8");
}

#[test]
fn cleanup_forgets_gateways_no_longer_in_the_spec() {
    let gws = [gateway("gw/bg", GatewayStrategy::BlueGreen)];
    let lock = running();
    let clean = lock.transform(&gws, &step(StepKind::Cleanup, "1-24-6", "1.24.6"));
    assert_eq!(clean.gateways.keys().collect::<Vec<_>>(), ["gw/bg"]);
}

#[test]
fn release_unlabels_only_its_namespaces() {
    let mut lock = running();
    lock.namespaces.insert("gone".into(), "1-24-6".into());
    let mut release = step(StepKind::Release, "", "1.24.6");
    release.namespaces = vec!["gone".into()];
    let next = lock.transform(&[], &release);
    assert_eq!(next.namespaces.keys().collect::<Vec<_>>(), ["shop"]);
    assert_eq!((next.revisions, next.tags), (lock.revisions, lock.tags));
}

#[test]
fn apply_bumps_restarts_records_manual_and_tracks_the_upgrade() {
    let lock = running();
    let mut first = step(StepKind::Install, "1-26-8", "1.26.8");
    first.name = "install".into();
    let mut second = step(StepKind::Wave, "1-26-8", "1.26.8");
    second.name = "wave all".into();
    second.namespaces = vec!["shop".into()];
    second.label = "1-26-8".into();
    second.restarts = vec!["Deployment/shop/cart".into()];
    second.manual = vec!["Job/shop/migrate".into()];
    let plan = Plan {
        from: Some("1.24.6".into()),
        to: "1.26.8".into(),
        hops: vec!["1.24.6".into(), "1.26.8".into()],
        steps: vec![first.clone(), second.clone()],
        ..Plan::default()
    };
    let after_first = lock.apply(&plan, &first);
    let record = after_first
        .upgrade
        .clone()
        .unwrap_or_else(|| panic!("in progress"));
    assert_eq!(record.from.as_deref(), Some("1.24.6"));
    let done: Vec<(&str, bool)> = record
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.done))
        .collect();
    assert_eq!(done, [("install", true), ("wave all", false)]);
    assert!(after_first.workloads.is_empty());

    let after_second = after_first.apply(&plan, &second);
    assert_eq!(after_second.upgrade, None, "every step done");
    let cart = &after_second.workloads["Deployment/shop/cart"];
    assert_eq!((cart.generation, cart.proxy.as_str()), (1, "1.26.8"));
    let job = &after_second.workloads["Job/shop/migrate"];
    assert_eq!((job.generation, job.proxy.as_str()), (0, "1.26.8"));
    let again = after_second.apply(&plan, &second);
    assert_eq!(again.workloads["Deployment/shop/cart"].generation, 2);
}

#[test]
fn view_reports_revisions_tags_and_labels() {
    let view = MeshView::of_lock(&running());
    assert_eq!(view.revisions["1-24-6"], "1.24.6");
    assert_eq!(view.tags["default"], "1-24-6");
    assert_eq!(view.managed_namespaces["shop"], Some("1-24-6".to_string()));
}
