//! The release catalogue against the shared release data it was compiled from: every fact the
//! embedded file states is compared with `shared/data/istio-releases`, not with numbers
//! typed into the test.

use meshplan::catalog::{Catalog, Version, is_date};
use std::collections::BTreeMap;
use std::path::Path;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/istio-releases");

#[derive(serde::Deserialize)]
struct PatchFile {
    minors: BTreeMap<String, Vec<PatchEntry>>,
}

#[derive(serde::Deserialize)]
struct PatchEntry {
    version: String,
    date: String,
}

#[derive(serde::Deserialize)]
struct SupportedFile {
    releases: Vec<SupportedEntry>,
}

#[derive(serde::Deserialize)]
struct SupportedEntry {
    version: String,
    release_date: String,
    eol_date: String,
    k8s_supported: Vec<String>,
    k8s_tested: Option<Vec<String>>,
}

fn shared<T: serde::de::DeserializeOwned>(file: &str) -> T {
    let path = format!("{SHARED}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // The shared files carry fields this test does not read; ignore them.
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn patches_match_the_shared_patch_list() {
    let cat = Catalog::builtin();
    let file: PatchFile = shared("patch-releases.yaml");
    assert!(file.minors.len() >= 13);
    for (minor, patches) in &file.minors {
        let m = cat
            .minor(minor)
            .unwrap_or_else(|| panic!("minor {minor} missing"));
        let ours: Vec<(String, &str)> = m
            .patches
            .iter()
            .map(|p| (p.version.to_string(), p.date.as_str()))
            .collect();
        let theirs: Vec<(String, &str)> = patches
            .iter()
            .map(|p| (p.version.clone(), p.date.as_str()))
            .collect();
        assert_eq!(ours, theirs, "patches of {minor}");
        // latest_patch is the numerically greatest listed patch.
        let max = patches
            .iter()
            .filter_map(|p| Version::parse(&p.version).ok())
            .max();
        let (major, min) =
            meshplan::catalog::parse_minor(minor).expect("the catalogue's minors parse");
        assert_eq!(cat.latest_patch(major, min), max, "latest patch of {minor}");
        for p in patches {
            let v = Version::parse(&p.version).unwrap_or_else(|e| panic!("{e}"));
            assert!(cat.is_known(&v), "{v}");
        }
    }
}

#[test]
fn minors_match_the_shared_support_table() {
    let cat = Catalog::builtin();
    let file: SupportedFile = shared("supported-releases.yaml");
    for r in &file.releases {
        let m = cat
            .minor(&r.version)
            .unwrap_or_else(|| panic!("minor {} missing", r.version));
        assert_eq!(m.release_date.as_deref(), Some(r.release_date.as_str()));
        assert_eq!(m.eol_date.as_deref(), Some(r.eol_date.as_str()));
        assert_eq!(cat.eol(&r.version), Some(r.eol_date.as_str()));
        assert_eq!(m.k8s_supported.as_ref(), Some(&r.k8s_supported));
        assert_eq!(m.k8s_tested, r.k8s_tested);
        for k in &r.k8s_supported {
            assert_eq!(cat.supports_kubernetes(&r.version, k), Some(true));
        }
    }
}

#[test]
fn known_facts_from_the_release_notes() {
    let cat = Catalog::builtin();
    assert_eq!(cat.eol("1.22"), Some("2025-01-22"));
    // 1.26 supports Kubernetes 1.29 to 1.32 and nothing outside.
    for (k8s, want) in [
        ("1.28", false),
        ("1.29", true),
        ("1.32", true),
        ("1.33", false),
    ] {
        assert_eq!(cat.supports_kubernetes("1.26", k8s), Some(want), "{k8s}");
    }
    assert_eq!(cat.supports_kubernetes("1.99", "1.30"), None);
    // Partial data: 1.30 has no announced end of life; its Kubernetes range is known.
    assert_eq!(cat.eol("1.30"), None);
    assert_eq!(cat.supports_kubernetes("1.30", "1.36"), Some(true));
    assert!(cat.minor("1.29").is_some_and(|m| m.k8s_tested.is_none()));
    assert!(
        !cat.is_known(&Version::new(1, 18, 4)),
        "1.18.4 was never released"
    );
    assert!(!cat.is_known(&Version::new(1, 31, 0)));
    assert_eq!(cat.latest_patch(1, 31), None);
    let dates_ok = cat.minors().all(|m| {
        m.patches.iter().all(|p| is_date(&p.date))
            && m.patches
                .windows(2)
                .all(|w| matches!(w, [a, b] if a.version < b.version))
    });
    assert!(dates_ok);
}

#[test]
fn version_fact_for_a_spec() {
    let cat = Catalog::builtin();
    let f = cat.version_fact("1.24.3", "1.30", "2025-07-01");
    assert_eq!(f.minor, "1.24");
    assert!(f.known && f.minor_known && f.kubernetes_ok);
    assert_eq!(f.eol_date, cat.eol("1.24").map(str::to_string));
    assert!(f.end_of_life, "2025-07-01 is after 1.24's end of life");
    assert_eq!(
        Some(&f.kubernetes_supported),
        cat.minor("1.24").and_then(|m| m.k8s_supported.as_ref())
    );
    // On the EOL day itself the release is still supported.
    let eol = cat
        .eol("1.24")
        .expect("1.24 has an end-of-life date")
        .to_string();
    assert!(!cat.version_fact("1.24.3", "1.30", &eol).end_of_life);
    // Unsupported Kubernetes.
    assert!(
        !cat.version_fact("1.26.3", "1.33", "2025-07-01")
            .kubernetes_ok
    );
    // A patch newer than the catalogue: minor known, patch unknown.
    let f = cat.version_fact("1.28.99", "1.30", "2026-01-01");
    assert!(!f.known && f.minor_known);
    // A minor newer than the catalogue: unknown, and not blamed on Kubernetes.
    let f = cat.version_fact("1.40.0", "1.30", "2026-01-01");
    assert!(!f.known && !f.minor_known && f.kubernetes_ok && !f.end_of_life);
    assert_eq!(f.minor, "1.40");
    assert!(f.kubernetes_supported.is_empty());
}

fn load_err(text: &str) -> meshplan::catalog::CatalogError {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("catalog.yaml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    match Catalog::load(&path) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => {
            assert_eq!(e.path, path);
            e
        }
    }
}

#[test]
fn custom_catalog_loads_and_bad_ones_name_the_line() {
    let good = "schema_version: 1\nminors:\n  - minor: \"1.31\"\n    release_date: 2026-08-01\n    eol_date: null\n    k8s_supported: [\"1.33\", \"1.34\"]\n    k8s_tested: null\n    patches:\n      - {version: \"1.31.0\", date: 2026-08-01}\n      - {version: \"1.31.1\", date: 2026-09-01}\n";
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("catalog.yaml");
    std::fs::write(&path, good).unwrap_or_else(|e| panic!("{e}"));
    let cat = Catalog::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cat.latest_patch(1, 31), Some(Version::new(1, 31, 1)));
    assert_eq!(
        cat.minor("1.24"),
        None,
        "a custom catalogue replaces the built-in one"
    );

    let e = load_err(&good.replace("2026-09-01", "2026-09-31"));
    assert_eq!(e.line, 10, "{e}");
    assert!(e.message.contains("not a date"), "{e}");
    let e = load_err(&good.replace("\"1.31.1\"", "\"1.32.1\""));
    assert_eq!(e.line, 10, "{e}");
    assert!(e.message.contains("listed under minor 1.31"), "{e}");
    let e = load_err(&good.replace(
        "    k8s_tested: null\n",
        "    k8s_tested: null\n    colour: red\n",
    ));
    assert_eq!(e.line, 8, "{e}");
    assert!(e.message.contains("colour"), "{e}");
    let e = load_err(&good.replace("[\"1.33\", \"1.34\"]", "[\"1.33\", \"1.34.0\"]"));
    assert_eq!(e.line, 6, "{e}");
    let e = load_err("schema_version: 1\nminors:\n  - minor: \"1.31\"\n   patches: [\n");
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("block collection"), "{e}");
    let e = load_err("schema_version: 2\nminors: []\n");
    assert_eq!(e.line, 1, "{e}");
    assert!(Catalog::load(Path::new("/nonexistent/catalog.yaml")).is_err());
}
