//! The Istio versions the Sail Operator release meshplan renders for can install.
//!
//! `delivery: sail` hands the version to the operator as `Istio.spec.version: vX.Y.Z`; the
//! operator installs only the versions its own release ships charts for. Its versions file
//! (`sail-operator-versions-1.30.3.yaml`, embedded verbatim from
//! `../shared/data/istio-releases/`) lists every version it accepts, and marks with
//! `eol: true` those it keeps as valid input but no longer installs (its CRD's
//! `spec.version` enum lists only the installable ones). A version outside that list is
//! MP107 with the reason ([`unsupported`], marked on the version facts by
//! `facts::sail`), and the renderer refuses to write it.

use super::Version;
use serde::Deserialize;
use std::sync::OnceLock;

/// The operator release whose versions file is embedded.
pub const OPERATOR_RELEASE: &str = "1.30.3";

/// `spec.updateStrategy.inactiveRevisionDeletionGracePeriodSeconds` meshplan writes in the
/// `Istio`: the operator's own default (its CRD: "The minimum is 0 and the default value is
/// 30"), written out so the lock can say when the operator deletes a revision.
pub const GRACE_PERIOD_SECONDS: u64 = 30;

const VERSIONS: &str = include_str!("sail-operator-versions-1.30.3.yaml");

#[derive(Deserialize)]
struct RawFile {
    versions: Vec<RawVersion>,
}

/// One entry of the versions file; aliases (`v1.30-latest`) carry `ref` instead of charts.
#[derive(Deserialize)]
struct RawVersion {
    name: String,
    #[serde(default)]
    eol: bool,
}

/// The versions the operator knows: (version, installable), in the file's order.
fn versions() -> &'static [(Version, bool)] {
    static PARSED: OnceLock<Vec<(Version, bool)>> = OnceLock::new();
    PARSED.get_or_init(|| {
        // The embedded file is checked by the unit tests below: a parse failure here would
        // be a broken build, and an empty list then refuses every version (never a panic).
        let raw: RawFile = serde_saphyr::from_str(VERSIONS).unwrap_or(RawFile {
            versions: Vec::new(),
        });
        raw.versions
            .iter()
            .filter_map(|v| {
                let exact = v.name.strip_prefix('v')?;
                Version::parse(exact).ok().map(|parsed| (parsed, !v.eol))
            })
            .collect()
    })
}

/// The oldest and newest version the operator installs.
pub fn installable_range() -> Option<(Version, Version)> {
    let mut installable = versions().iter().filter(|(_, ok)| *ok).map(|(v, _)| *v);
    let first = installable.next()?;
    let (low, high) = installable.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)));
    Some((low, high))
}

/// Why the operator cannot install `version`, or `None` when it can.
pub fn unsupported(version: &str) -> Option<String> {
    let range = installable_range()
        .map(|(lo, hi)| format!("it installs {lo} to {hi}"))
        .unwrap_or_else(|| "it lists no installable version".to_string());
    let Ok(parsed) = Version::parse(version) else {
        return Some(format!(
            "Sail Operator {OPERATOR_RELEASE} installs exact versions only, not `{version}` ({range})"
        ));
    };
    match versions().iter().find(|(v, _)| *v == parsed) {
        Some((_, true)) => None,
        Some((_, false)) => Some(format!(
            "Sail Operator {OPERATOR_RELEASE} marks Istio {version} end of life and no longer installs it ({range})"
        )),
        None => Some(format!(
            "Sail Operator {OPERATOR_RELEASE} does not know Istio {version} ({range})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_versions_file_is_the_shared_one() {
        let shared = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/istio-releases/sail-operator-versions-1.30.3.yaml"
        ))
        .expect("shared versions file");
        assert_eq!(shared, VERSIONS);
        let _: RawFile = serde_saphyr::from_str(VERSIONS).expect("the embedded file parses");
    }

    /// The operator's CRD accepts every name of its versions file as `spec.version`, and
    /// nothing else: the file and the embedded schema describe the same release.
    #[test]
    fn the_versions_file_is_the_istio_crds_version_enum() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/schemas/sail-operator/1.30.3/sailoperator.io_istios.yaml"
        ))
        .expect("shared CRD");
        let crd: serde_json::Value = serde_saphyr::from_str(&text).expect("CRD parses");
        let v1 = crd["spec"]["versions"]
            .as_array()
            .and_then(|vs| vs.iter().find(|v| v["name"] == "v1"))
            .expect("v1");
        let pointer = "/schema/openAPIV3Schema/properties/spec/properties/version/enum";
        let mut allowed: Vec<&str> = v1
            .pointer(pointer)
            .and_then(serde_json::Value::as_array)
            .expect("enum")
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        let raw: RawFile = serde_saphyr::from_str(VERSIONS).expect("parses");
        let mut names: Vec<&str> = raw.versions.iter().map(|v| v.name.as_str()).collect();
        allowed.sort_unstable();
        names.sort_unstable();
        assert_eq!(allowed, names);
    }

    #[test]
    fn installs_1_28_to_1_30_and_names_why_not_the_rest() {
        let (lo, hi) = installable_range().expect("a range");
        assert_eq!(
            (lo.to_string(), hi.to_string()),
            ("1.28.0".into(), "1.30.3".into())
        );
        for ok in ["1.28.0", "1.28.10", "1.29.6", "1.30.3"] {
            assert_eq!(unsupported(ok), None, "{ok}");
        }
        let eol = unsupported("1.24.6").expect("eol");
        assert!(
            eol.contains("end of life") && eol.contains("1.28.0 to 1.30.3"),
            "{eol}"
        );
        let unknown = unsupported("1.30.9").expect("unknown");
        assert!(unknown.contains("does not know Istio 1.30.9"), "{unknown}");
        assert!(unsupported("1.22.4").is_some_and(|m| m.contains("does not know")));
    }
}
