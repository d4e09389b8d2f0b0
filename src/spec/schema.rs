//! The JSON Schema of `meshplan.yaml`, generated from the Rust model (one source of truth),
//! printed by `meshplan schema` for editors, and used by the loader as a final check.
//!
//! Validation is offline: the schema is generated in-process and jsonschema is built without
//! its HTTP resolver, so no `$ref` can reach the network.

use super::located::{Kind, Node, Pos};
use super::model::Spec;
use std::sync::OnceLock;

/// `$id` of the published schema.
pub const SCHEMA_ID: &str = "https://meshplan.dev/schemas/meshplan.dev_v1alpha1_mesh.json";

/// The spec's JSON Schema (Draft 2020-12), deterministic across runs and machines.
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Spec>();
    let obj = schema.ensure_object();
    obj.insert("$id".into(), SCHEMA_ID.into());
    obj.insert(
        "title".into(),
        "meshplan.yaml (apiVersion meshplan.dev/v1alpha1, kind Mesh)".into(),
    );
    schema.to_value()
}

fn validator() -> Result<&'static jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            jsonschema::draft202012::new(&json_schema()).map_err(|e| {
                format!("internal error: the generated spec schema does not compile: {e}")
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Every schema violation of a JSON document: (JSON Pointer into the instance, message).
/// Sorted by pointer so the first reported error is stable.
pub fn validate_value(doc: &serde_json::Value) -> Result<Vec<(String, String)>, String> {
    let v = validator()?;
    let mut errors: Vec<(String, String)> = v
        .iter_errors(doc)
        .map(|e| (e.instance_path().as_str().to_string(), e.to_string()))
        .collect();
    errors.sort();
    Ok(errors)
}

/// Validates a typed spec against the schema, locating the first violation in the YAML.
pub fn check(spec: &Spec, tree: &Node) -> Result<(), (Pos, String)> {
    let doc = serde_json::to_value(spec).map_err(|e| (Pos::default(), e.to_string()))?;
    if let Some((pos, pointer)) = sequence_for_mapping(&doc, tree, String::new()) {
        let message = if pointer.starts_with("/spec/manifests/") {
            "expected a glob string or a mapping `{path, namespace}`, `{kustomize: DIR}`, \
             `{helm: {chart, release, namespace, values}}`, `{flux: DIR}` or `{argocd: PATH}` \
             in `spec.manifests`"
                .to_string()
        } else {
            format!("expected a mapping at `{pointer}`, found a sequence")
        };
        return Err((pos, message));
    }
    let errors = validate_value(&doc).map_err(|e| (Pos::default(), e))?;
    match errors.into_iter().next() {
        None => Ok(()),
        Some((pointer, message)) => Err((
            tree.pos_for_pointer(&pointer),
            format!("does not fit the spec schema at `{pointer}`: {message}"),
        )),
    }
}

/// serde lets a struct be written as a sequence of its field values (`[a, b]` for
/// `{path: a, namespace: b}`); YAML users never mean that, so the typed document and the YAML
/// must agree on where mappings are. Returns the first place they do not.
fn sequence_for_mapping(
    value: &serde_json::Value,
    node: &Node,
    pointer: String,
) -> Option<(Pos, String)> {
    use serde_json::Value;
    match (value, &node.kind) {
        (Value::Object(_), Kind::Seq(_)) => Some((node.pos, pointer)),
        (Value::Object(map), Kind::Map(entries)) => entries.iter().find_map(|(key, _, child)| {
            let v = map.get(key)?;
            sequence_for_mapping(v, child, format!("{pointer}/{key}"))
        }),
        (Value::Array(items), Kind::Seq(nodes)) => items
            .iter()
            .zip(nodes)
            .enumerate()
            .find_map(|(i, (v, n))| sequence_for_mapping(v, n, format!("{pointer}/{i}"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_deterministic_draft_2020_12_with_id() {
        let a = json_schema();
        assert_eq!(a, json_schema());
        assert_eq!(a["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(a["$id"], SCHEMA_ID);
        assert!(a["title"].as_str().is_some_and(|t| t.contains("meshplan")));
        // The metaschema itself accepts it (offline: 2020-12 is bundled in jsonschema).
        assert!(jsonschema::meta::is_valid(&a));
    }

    #[test]
    fn schema_carries_the_constraints_editors_need() {
        // A document that serde would accept but the schema must reject, field by field.
        let good = serde_json::json!({
            "apiVersion": "meshplan.dev/v1alpha1", "kind": "Mesh",
            "metadata": {"name": "prod"},
            "spec": {"kubernetesVersion": "1.30", "istio": {"version": "1.24.3"}}
        });
        assert_eq!(validate_value(&good), Ok(vec![]));
        let cases = [
            ("/apiVersion", serde_json::json!("v1")),
            ("/kind", serde_json::json!("Mash")),
            ("/metadata/name", serde_json::json!("Prod_EU")),
            ("/spec/kubernetesVersion", serde_json::json!("1.3.0")),
            ("/spec/istio/version", serde_json::json!("1.24")),
        ];
        for (pointer, value) in cases {
            let mut doc = good.clone();
            if let Some(slot) = doc.pointer_mut(pointer) {
                *slot = value;
            }
            let errs = validate_value(&doc).expect("the schema compiles");
            assert!(
                errs.iter().any(|(p, _)| p == pointer),
                "{pointer}: {errs:?}"
            );
        }
        let mut doc = good.clone();
        doc["spec"]["upgrade"] = serde_json::json!({"maxMinorSkip": 3, "maxRevisions": 0});
        let errs = validate_value(&doc).expect("the schema compiles");
        let pointers: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            ["/spec/upgrade/maxMinorSkip", "/spec/upgrade/maxRevisions"]
        );
    }
}
