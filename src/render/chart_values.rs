//! The values meshplan writes for the Istio `gateway` chart, checked against that chart's own
//! `values.schema.json` before anything is written: `spec.gateways[].values` are the user's,
//! and a value of the wrong type — or, from 1.26 on, a misspelt key (those schemas allow no
//! unknown ones) — would otherwise surface only when Flux or Argo CD runs Helm, or never for
//! the releases that must skip Helm's schema check (1.22 and 1.24, see
//! [`super::values::chart_schema_is_broken`]).
//!
//! Sources: `schemas/gateway-values-<version>.json` are the `values.schema.json` files of
//! `../shared/data/istio-charts/<version>/gateway`, copied unmodified (provenance in that
//! folder's `SOURCES.md`); a unit test fails if a copy drifts. A release of another patch uses
//! the schema of its minor; a minor without one is not checked. The `istiod` and `base`
//! charts ship no schema.

use crate::catalog::Version;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// (minor, e.g. `1.26`, the release whose schema it is, the schema text).
const GATEWAY_SCHEMAS: &[(&str, &str, &str)] = &[
    (
        "1.22",
        "1.22.8",
        include_str!("schemas/gateway-values-1.22.8.json"),
    ),
    (
        "1.24",
        "1.24.6",
        include_str!("schemas/gateway-values-1.24.6.json"),
    ),
    (
        "1.26",
        "1.26.8",
        include_str!("schemas/gateway-values-1.26.8.json"),
    ),
    (
        "1.28",
        "1.28.10",
        include_str!("schemas/gateway-values-1.28.10.json"),
    ),
];

type Validators = BTreeMap<&'static str, (&'static str, jsonschema::Validator)>;

/// The chart schemas keep their rules under `$defs.values` (the top level only adds the
/// `defaults` wrapper Helm feeds them): that part, with the `$defs` it refers to, is what the
/// values of a release must fit. Compiled once.
fn validators() -> Result<&'static Validators, String> {
    static VALIDATORS: OnceLock<Result<Validators, String>> = OnceLock::new();
    VALIDATORS
        .get_or_init(|| {
            let mut map = BTreeMap::new();
            for (minor, release, text) in GATEWAY_SCHEMAS {
                let schema: Value = serde_json::from_str(text)
                    .map_err(|e| format!("embedded gateway {release} values schema: {e}"))?;
                let mut values = schema.pointer("/$defs/values").cloned().ok_or_else(|| {
                    format!("gateway {release} values schema has no $defs.values")
                })?;
                values["$defs"] = schema.get("$defs").cloned().unwrap_or(Value::Null);
                let validator = jsonschema::draft7::new(&values).map_err(|e| {
                    format!("embedded gateway {release} values schema does not compile: {e}")
                })?;
                map.insert(*minor, (*release, validator));
            }
            Ok(map)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The outcome of checking one release's values.
#[derive(Debug, PartialEq, Eq)]
pub enum ValuesCheck {
    /// The values fit the schema of the chart release named.
    Valid(&'static str),
    /// No schema is known for this chart and version.
    NoSchema,
    /// Violations as `<JSON pointer>: <message>`, sorted, and the release whose schema said so.
    Invalid(&'static str, Vec<String>),
}

/// Checks the values of a release of `chart` at `version`. `Err` only when an embedded
/// schema is broken (a bug of ours).
pub fn check(chart: &str, version: &str, values: &Value) -> Result<ValuesCheck, String> {
    if chart != "gateway" {
        return Ok(ValuesCheck::NoSchema);
    }
    let Ok(v) = Version::parse(version) else {
        return Ok(ValuesCheck::NoSchema);
    };
    let minor = format!("{}.{}", v.major, v.minor);
    let Some((release, validator)) = validators()?.get(minor.as_str()) else {
        return Ok(ValuesCheck::NoSchema);
    };
    let mut errors: Vec<String> = validator
        .iter_errors(values)
        .map(|e| {
            let at = e.instance_path().as_str().to_string();
            format!("{}: {e}", if at.is_empty() { "/" } else { at.as_str() })
        })
        .collect();
    if errors.is_empty() {
        return Ok(ValuesCheck::Valid(release));
    }
    errors.sort();
    Ok(ValuesCheck::Invalid(release, errors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedded_schemas_are_the_shared_charts_own() {
        for (_, release, text) in GATEWAY_SCHEMAS {
            let path = format!(
                "{}/../shared/data/istio-charts/{release}/gateway/values.schema.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let shared = std::fs::read_to_string(&path).expect("shared chart schema");
            assert_eq!(&shared, text, "{path} drifted from the embedded copy");
        }
    }

    #[test]
    fn meshplans_values_fit_and_a_misspelt_key_does_not() {
        let ours = json!({"revision": "1-26-8",
                          "labels": {"istio": "ingress", "meshplan.dev/colour": "blue"},
                          "service": {"type": "None"},
                          "podAnnotations": {"meshplan.dev/restarted-for": "1-26-8.1"}});
        for version in ["1.22.8", "1.24.2", "1.26.8", "1.28.10"] {
            assert!(
                matches!(check("gateway", version, &ours), Ok(ValuesCheck::Valid(_))),
                "{version}"
            );
            let mut typo = ours.clone();
            typo["servce"] = json!({"type": "LoadBalancer"});
            let refused = check("gateway", version, &typo);
            if version.starts_with("1.22") || version.starts_with("1.24") {
                // Their schema closes only the top level Helm 4 trips over, not the values.
                assert!(matches!(refused, Ok(ValuesCheck::Valid(_))), "{version}");
            } else {
                let Ok(ValuesCheck::Invalid(_, errors)) = refused else {
                    panic!("{version}: an unknown key must be refused");
                };
                assert!(errors.iter().any(|e| e.contains("servce")), "{errors:?}");
            }
            let mut wrong = ours.clone();
            wrong["replicaCount"] = json!("two");
            assert!(
                matches!(
                    check("gateway", version, &wrong),
                    Ok(ValuesCheck::Invalid(..))
                ),
                "{version}: a string replica count"
            );
        }
    }

    #[test]
    fn other_charts_and_minors_without_a_schema_are_not_checked() {
        let any = json!({"anything": true});
        assert_eq!(check("istiod", "1.26.8", &any), Ok(ValuesCheck::NoSchema));
        assert_eq!(check("gateway", "1.27.3", &any), Ok(ValuesCheck::NoSchema));
        assert_eq!(
            check("gateway", "not-a-version", &any),
            Ok(ValuesCheck::NoSchema)
        );
    }
}
