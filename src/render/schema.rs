//! Validation of every rendered object against the real schema of its kind, embedded so the
//! check runs offline: a template that writes a field the controller would reject fails the
//! render, not the cluster's reconcile loop.
//!
//! Sources (all under `../shared/data/schemas`, provenance in its `SOURCES.md`):
//! - `helmrelease-helm.toolkit.fluxcd.io-v2.json`: `openAPIV3Schema` of version `v2` of
//!   `flux/helm-controller-v1.6.3/helm.toolkit.fluxcd.io_helmreleases.yaml`;
//! - `helmrepository-source.toolkit.fluxcd.io-v1.json`, `ocirepository-source.toolkit.fluxcd.io-v1.json`:
//!   `openAPIV3Schema` of version `v1` of `flux/source-controller-v1.9.1/source.toolkit.fluxcd.io_{helmrepositories,ocirepositories}.yaml`;
//! - `application-argoproj.io-v1alpha1.json`: `openAPIV3Schema` of version `v1alpha1` of
//!   `argocd/v3.5.1/application-crd.yaml`;
//! - `istiooperator-install.istio.io-v1alpha1.json`: `openAPIV3Schema` of
//!   `istio-operator/1.23.6/crd-operator.yaml` (upstream only preserves unknown fields);
//! - `istio-sailoperator.io-v1.json`, `istiorevisiontag-sailoperator.io-v1.json`:
//!   `openAPIV3Schema` of version `v1` of
//!   `sail-operator/1.30.3/sailoperator.io_{istios,istiorevisiontags}.yaml`;
//! - `service-v1.json`, `namespace-v1.json`: copied unchanged from
//!   `kubernetes/v1.30.0-standalone-strict/`.
//!
//! The CRD schemas were extracted as compact JSON (so the binary does not parse 600 kB of YAML
//! at start-up); the unit test `embedded_schemas_match_the_shared_crds` re-extracts them from
//! the shared CRD YAML and fails if an embedded copy drifts.

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One embedded schema: the `apiVersion` and `kind` it validates, and its JSON text.
pub struct EmbeddedSchema {
    /// `apiVersion` of the objects it validates.
    pub api_version: &'static str,
    /// `kind` of the objects it validates.
    pub kind: &'static str,
    /// File name under `src/render/schemas/`.
    pub file: &'static str,
    /// The schema text.
    pub text: &'static str,
}

macro_rules! schema {
    ($api:literal, $kind:literal, $file:literal) => {
        EmbeddedSchema {
            api_version: $api,
            kind: $kind,
            file: $file,
            text: include_str!(concat!("schemas/", $file)),
        }
    };
}

/// Every kind the renderer may emit that has a schema.
pub const SCHEMAS: &[EmbeddedSchema] = &[
    schema!(
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "helmrelease-helm.toolkit.fluxcd.io-v2.json"
    ),
    schema!(
        "source.toolkit.fluxcd.io/v1",
        "HelmRepository",
        "helmrepository-source.toolkit.fluxcd.io-v1.json"
    ),
    schema!(
        "source.toolkit.fluxcd.io/v1",
        "OCIRepository",
        "ocirepository-source.toolkit.fluxcd.io-v1.json"
    ),
    schema!(
        "argoproj.io/v1alpha1",
        "Application",
        "application-argoproj.io-v1alpha1.json"
    ),
    schema!(
        "install.istio.io/v1alpha1",
        "IstioOperator",
        "istiooperator-install.istio.io-v1alpha1.json"
    ),
    schema!(
        "sailoperator.io/v1",
        "Istio",
        "istio-sailoperator.io-v1.json"
    ),
    schema!(
        "sailoperator.io/v1",
        "IstioRevisionTag",
        "istiorevisiontag-sailoperator.io-v1.json"
    ),
    schema!("v1", "Service", "service-v1.json"),
    schema!("v1", "Namespace", "namespace-v1.json"),
];

/// The embedded schemas as JSON, by (`apiVersion`, `kind`).
type Parsed = BTreeMap<(&'static str, &'static str), Value>;

/// The embedded schema of `api_version`/`kind`, parsed once per process.
pub fn schema_of(api_version: &str, kind: &str) -> Result<Option<&'static Value>, String> {
    static PARSED: OnceLock<Result<Parsed, String>> = OnceLock::new();
    let parsed = PARSED
        .get_or_init(|| {
            SCHEMAS
                .iter()
                .map(|s| {
                    serde_json::from_str(s.text)
                        .map(|v| ((s.api_version, s.kind), v))
                        .map_err(|e| format!("embedded schema {}: {e}", s.file))
                })
                .collect()
        })
        .as_ref()
        .map_err(Clone::clone)?;
    // A handful of schemas: a scan, which also lets the key outlive no borrowed string.
    Ok(parsed
        .iter()
        .find(|((a, k), _)| *a == api_version && *k == kind)
        .map(|(_, v)| v))
}

type Validators = BTreeMap<(&'static str, &'static str), jsonschema::Validator>;

fn validators() -> Result<&'static Validators, String> {
    static VALIDATORS: OnceLock<Result<Validators, String>> = OnceLock::new();
    VALIDATORS
        .get_or_init(|| {
            let mut map = BTreeMap::new();
            for s in SCHEMAS {
                let schema: Value = serde_json::from_str(s.text)
                    .map_err(|e| format!("embedded schema {}: {e}", s.file))?;
                let validator = jsonschema::draft202012::new(&schema)
                    .map_err(|e| format!("embedded schema {} does not compile: {e}", s.file))?;
                map.insert((s.api_version, s.kind), validator);
            }
            Ok(map)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The outcome of checking one object.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// Valid against its kind's schema.
    Valid,
    /// No embedded schema for this apiVersion/kind.
    NoSchema,
    /// Schema violations: (JSON Pointer, message), sorted.
    Invalid(Vec<(String, String)>),
}

/// Validates one object against the schema of its `apiVersion`/`kind`.
/// `Err` only when an embedded schema is broken (a bug of ours).
pub fn check(doc: &Value) -> Result<Checked, String> {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let Some(v) = validators()?.get(&(api, kind)) else {
        return Ok(Checked::NoSchema);
    };
    let mut errors: Vec<(String, String)> = v
        .iter_errors(doc)
        .map(|e| (e.instance_path().as_str().to_string(), e.to_string()))
        .collect();
    if errors.is_empty() {
        return Ok(Checked::Valid);
    }
    errors.sort();
    Ok(Checked::Invalid(errors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/schemas");

    /// The `openAPIV3Schema` of `version` in a CRD file of the shared data.
    fn crd_schema(path: &str, version: &str) -> Value {
        let text = std::fs::read_to_string(format!("{DATA}/{path}")).expect("shared CRD exists");
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("CRD parses");
        let crd = docs.iter().find(|d| !d.is_null()).expect("one CRD");
        let versions = crd["spec"]["versions"].as_array().expect("versions");
        let v = versions
            .iter()
            .find(|v| v["name"] == version)
            .expect("served version present");
        assert_eq!(v["served"], true, "{path} {version} is served");
        v["schema"]["openAPIV3Schema"].clone()
    }

    fn embedded(file: &str) -> Value {
        let s = SCHEMAS.iter().find(|s| s.file == file).expect("embedded");
        serde_json::from_str(s.text).expect("embedded schema is JSON")
    }

    #[test]
    fn embedded_schemas_match_the_shared_crds() {
        let cases = [
            (
                "flux/helm-controller-v1.6.3/helm.toolkit.fluxcd.io_helmreleases.yaml",
                "v2",
                "helmrelease-helm.toolkit.fluxcd.io-v2.json",
            ),
            (
                "flux/source-controller-v1.9.1/source.toolkit.fluxcd.io_helmrepositories.yaml",
                "v1",
                "helmrepository-source.toolkit.fluxcd.io-v1.json",
            ),
            (
                "flux/source-controller-v1.9.1/source.toolkit.fluxcd.io_ocirepositories.yaml",
                "v1",
                "ocirepository-source.toolkit.fluxcd.io-v1.json",
            ),
            (
                "argocd/v3.5.1/application-crd.yaml",
                "v1alpha1",
                "application-argoproj.io-v1alpha1.json",
            ),
            (
                "istio-operator/1.23.6/crd-operator.yaml",
                "v1alpha1",
                "istiooperator-install.istio.io-v1alpha1.json",
            ),
            (
                "sail-operator/1.30.3/sailoperator.io_istios.yaml",
                "v1",
                "istio-sailoperator.io-v1.json",
            ),
            (
                "sail-operator/1.30.3/sailoperator.io_istiorevisiontags.yaml",
                "v1",
                "istiorevisiontag-sailoperator.io-v1.json",
            ),
        ];
        for (crd, version, file) in cases {
            assert_eq!(
                crd_schema(crd, version),
                embedded(file),
                "{file} drifted from {crd}"
            );
        }
        for file in ["service-v1.json", "namespace-v1.json"] {
            let shared = std::fs::read_to_string(format!(
                "{DATA}/kubernetes/v1.30.0-standalone-strict/{file}"
            ))
            .expect("shared schema exists");
            let shared: Value = serde_json::from_str(&shared).expect("JSON");
            assert_eq!(shared, embedded(file), "{file} drifted");
        }
    }

    #[test]
    fn every_embedded_schema_compiles() {
        assert_eq!(validators().map(|v| v.len()).ok(), Some(SCHEMAS.len()));
    }

    #[test]
    fn a_service_with_an_unknown_field_is_rejected() {
        let good = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "ingress", "namespace": "istio-ingress"},
            "spec": {"type": "LoadBalancer", "selector": {"istio": "ingress"},
                     "ports": [{"name": "http2", "port": 80, "targetPort": 80}]}});
        assert_eq!(check(&good), Ok(Checked::Valid));
        let mut bad = good.clone();
        bad["spec"]["selctor"] = json!({"istio": "ingress"});
        assert!(matches!(check(&bad), Ok(Checked::Invalid(e)) if e[0].0 == "/spec"));
    }

    #[test]
    fn a_helmrelease_without_interval_is_rejected() {
        let doc = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "istiod"}, "spec": {"chart": {"spec": {"chart": "istiod",
            "sourceRef": {"kind": "HelmRepository", "name": "istio"}}}}});
        assert!(matches!(check(&doc), Ok(Checked::Invalid(_))));
        assert_eq!(
            check(&json!({"apiVersion": "x/v1", "kind": "Y"})),
            Ok(Checked::NoSchema)
        );
    }
}
