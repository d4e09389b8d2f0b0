//! Unit tests of the lock: hashes, the change each step kind makes, bookkeeping of `apply`,
//! and load-time checks that need a line number.

use super::*;
use crate::spec::IstioConfig;

#[test]
fn fnv1a_matches_the_published_test_vectors() {
    // From the FNV reference (isthe.com/chongo/tech/comp/fnv): FNV-1a 64 of "" and "a".
    assert_eq!(fnv1a(""), "cbf29ce484222325");
    assert_eq!(fnv1a("a"), "af63dc4c8601ec8c");
}

#[test]
fn config_hash_separates_what_restarts_workloads_from_what_restarts_gateways() {
    let base = IstioConfig::default();
    let h = ConfigHash::of(&base);
    assert_eq!(h, ConfigHash::of(&IstioConfig::default()));
    let merge = ConfigHash::of(&IstioConfig {
        prometheus_merge: false,
        ..base.clone()
    });
    assert_ne!(merge.workloads, h.workloads);
    assert_eq!(merge.gateways, h.gateways);
    let compat = ConfigHash::of(&IstioConfig {
        compatibility_version: Some("1.25".into()),
        ..base.clone()
    });
    assert_ne!(compat.workloads, h.workloads);
    let trusted = ConfigHash::of(&IstioConfig {
        num_trusted_proxies: 1,
        ..base.clone()
    });
    assert_eq!(trusted.workloads, h.workloads);
    assert_ne!(trusted.gateways, h.gateways);
}

/// A lock on `1-24-6` with namespace `shop`, the default tag, and two gateways on blue
/// (also the starting lock of `plan`'s transition tests).
pub(crate) fn running() -> Lock {
    let mut lock = Lock::empty("prod");
    lock.revisions.push(RevisionState {
        name: "1-24-6".into(),
        version: "1.24.6".into(),
        installed_by: None,
    });
    lock.tags.insert("default".into(), "1-24-6".into());
    lock.namespaces.insert("shop".into(), "1-24-6".into());
    for key in ["gw/bg", "gw/ip"] {
        lock.gateways.insert(
            key.into(),
            GatewayState {
                colours: BTreeMap::from([("blue".into(), "1-24-6".into())]),
                active: "blue".into(),
            },
        );
    }
    lock
}

#[test]
fn forget_workloads_keeps_existing_objects_and_current_gateway_colours() {
    let mut lock = running();
    for key in [
        "Deployment/shop/cart",
        "Deployment/shop/deleted",
        "Deployment/gw/bg-blue",
        "Deployment/gw/bg-green",
        "not-a-key",
    ] {
        lock.workloads.insert(key.into(), WorkloadState::default());
    }
    lock.forget_workloads(|kind, ns, name| (kind, ns, name) == ("Deployment", "shop", "cart"));
    // bg-green is a colour the gateway no longer has (removed at a cleanup).
    assert_eq!(
        lock.workloads.keys().collect::<Vec<_>>(),
        ["Deployment/gw/bg-blue", "Deployment/shop/cart"]
    );
}

#[test]
fn load_checks_point_at_the_offending_line() {
    let head = "apiVersion: meshplan.dev/v1alpha1\nkind: Lock\ncluster: prod\n";
    let cases = [
        (
            "revisions:\n- {name: a, version: 1.24.6}\n- {name: a, version: 1.25.5}\n",
            6,
            "listed twice",
        ),
        (
            "revisions:\n- {name: a, version: 1.24.x}\n",
            5,
            "is not a version",
        ),
        (
            "revisions:\n- {name: a, version: 1.24.6}\ngateways:\n  ns/gw:\n    colours:\n      blue: b\n    active: blue\n",
            9,
            "not installed",
        ),
        ("kind: Lock\n", 4, "duplicate"),
    ];
    for (body, line, words) in cases {
        let text = format!("{head}{body}");
        let err = Lock::parse(Path::new("meshplan.lock"), &text, "prod")
            .err()
            .unwrap_or_else(|| panic!("accepted:\n{text}"));
        assert_eq!(err.line, line, "{err}\n{text}");
        assert!(err.message.contains(words), "{err}");
    }
    // A traffic Service selecting a colour the gateway lacks is MP401's to report, not a
    // load error.
    let dangling = format!(
        "{head}revisions:\n- {{name: a, version: 1.24.6}}\ngateways:\n  ns/gw:\n    colours: {{blue: a}}\n    active: green\n"
    );
    let lock = Lock::parse(Path::new("meshplan.lock"), &dangling, "prod")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lock.gateways["ns/gw"].active, "green");
    let wrong_kind = "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\ncluster: prod\n";
    let err = Lock::parse(Path::new("l"), wrong_kind, "prod").err();
    assert_eq!(err.map(|e| e.line), Some(2));
}

#[test]
fn lock_path_is_under_the_output_directory() {
    assert_eq!(
        lock_path(Path::new("repo"), "rendered"),
        Path::new("repo/rendered/meshplan.lock")
    );
}

#[test]
fn file_digests_are_sha256_and_round_trip_through_the_lock() {
    // The published SHA-256 test vector of "abc" (FIPS 180-2).
    assert_eq!(
        file_digest(b"abc"),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let mut lock = running();
    lock.files
        .insert("kustomization.yaml".into(), file_digest(b"a: 1\n"));
    lock.files
        .insert("istio-system/x.yaml".into(), file_digest(b""));
    let text = lock.to_yaml();
    assert!(text.ends_with(&format!(
        "files:\n  istio-system/x.yaml: {}\n  kustomization.yaml: {}\n",
        file_digest(b""),
        file_digest(b"a: 1\n")
    )));
    let back = Lock::parse(Path::new("meshplan.lock"), &text, &lock.cluster).expect("parses");
    assert_eq!(back, lock);
    assert_eq!(back.to_yaml(), text);
    // A lock without digests writes no `files` key, as locks did before them.
    assert!(!running().to_yaml().contains("files:"));
}

#[test]
fn file_digests_are_checked_on_load() {
    let head = "apiVersion: meshplan.dev/v1alpha1\nkind: Lock\ncluster: prod\nfiles:\n";
    let good = format!("sha256:{}", "0".repeat(64));
    let cases = [
        (
            format!("  ../x.yaml: {good}\n"),
            "not a path inside spec.output",
        ),
        (
            format!("  meshplan.lock: {good}\n"),
            "not a path inside spec.output",
        ),
        (
            format!("  a//b.yaml: {good}\n"),
            "not a path inside spec.output",
        ),
        ("  a.yaml: sha256:abc\n".to_string(), "expected sha256:"),
        (
            format!("  a.yaml: md5:{}\n", "0".repeat(64)),
            "expected sha256:",
        ),
    ];
    for (body, words) in cases {
        let text = format!("{head}{body}");
        let err = Lock::parse(Path::new("meshplan.lock"), &text, "prod")
            .err()
            .unwrap_or_else(|| panic!("accepted:\n{text}"));
        assert_eq!(err.line, 5, "{err}\n{text}");
        assert!(err.message.contains(words), "{err}");
    }
}

#[test]
fn conflict_markers_are_refused_at_their_line() {
    let text = "apiVersion: meshplan.dev/v1alpha1\nkind: Lock\ncluster: prod\n\
                <<<<<<< HEAD\nnamespaces: {a: x}\n=======\nnamespaces: {a: y}\n\
                >>>>>>> meshplan/prod\n";
    let err = Lock::parse(Path::new("meshplan.lock"), text, "prod").expect_err("refused");
    assert_eq!(err.line, 4, "{err}");
    assert!(err.message.contains("conflict markers"), "{err}");
}
