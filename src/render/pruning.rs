//! The fields the Kubernetes API server would silently drop from a custom resource:
//! a structural CRD schema keeps only the `properties` it lists (unless a node sets
//! `additionalProperties` or `x-kubernetes-preserve-unknown-fields`), and unlike the
//! JSON Schema validation of [`super::schema`] that is no error, just a field that never
//! reaches the controller. The Sail `Istio`'s `spec.values` are typed this way, so a
//! misspelt `spec.istio.values` key would be accepted by Git, Flux and the API server and
//! ignored by the operator: [`pruned`] lists such keys so the renderer refuses them.

use serde_json::Value;

/// The JSON pointers (from `instance`'s root) of the fields of `instance` that `schema`,
/// a structural schema node, would prune; sorted.
pub fn pruned(schema: &Value, instance: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(schema, instance, String::new(), &mut out);
    out.sort();
    out
}

fn walk(schema: &Value, instance: &Value, at: String, out: &mut Vec<String>) {
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    match instance {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (key, value) in fields {
                let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(sub), _) => walk(sub, value, here, out),
                    (None, Some(Value::Bool(true))) => {}
                    (None, Some(sub @ Value::Object(_))) => walk(sub, value, here, out),
                    // No properties at all and nothing else: a node typed only by `type`
                    // (an object the schema leaves open is marked, so this one prunes).
                    _ => out.push(here),
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(sub, item, format!("{at}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_keys_are_pruned_unless_the_schema_keeps_them() {
        let schema = json!({"type": "object", "properties": {
            "pilot": {"type": "object", "properties": {
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "replicaCount": {"type": "integer"},
            }},
            "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "list": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
        }});
        let instance = json!({
            "pilot": {"env": {"ANY": "x"}, "replicaCount": 2, "replicas": 3},
            "open": {"whatever": {"deep": 1}},
            "list": [{"a": "x", "b": "y"}],
            "typo": true,
        });
        assert_eq!(
            pruned(&schema, &instance),
            ["/list/0/b", "/pilot/replicas", "/typo"]
        );
        assert!(pruned(&schema, &json!({"pilot": {"env": {}}})).is_empty());
    }
}
