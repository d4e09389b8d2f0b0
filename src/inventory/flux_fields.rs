//! Small readers of Flux objects for the Flux walk ([`super::flux`]): the wrapper
//! kustomization a Flux Kustomization's spec becomes, the substitution opt-out, and the
//! identity the inventory gives a built object.

use super::build::BuiltDoc;
use crate::diagnostic::ObjectRef;
use serde_json::{Map, Value};
use std::path::Path;

/// The wrapper fields a Flux Kustomization's spec asks for.
pub(super) fn wrapper_fields(ks: &Value, dir: &Path) -> Map<String, Value> {
    let mut fields = Map::new();
    let spec = ks.get("spec");
    for (flux, kustomize) in [
        ("targetNamespace", "namespace"),
        ("namePrefix", "namePrefix"),
        ("nameSuffix", "nameSuffix"),
        ("patches", "patches"),
        ("images", "images"),
    ] {
        if let Some(v) = spec.and_then(|s| s.get(flux)).filter(|v| !v.is_null()) {
            fields.insert(kustomize.to_string(), v.clone());
        }
    }
    if let Some(components) = spec
        .and_then(|s| s.get("components"))
        .and_then(Value::as_array)
    {
        let abs: Vec<Value> = components
            .iter()
            .filter_map(Value::as_str)
            .map(|c| {
                Value::String(
                    super::build::normalize(&dir.join(c))
                        .to_string_lossy()
                        .into_owned(),
                )
            })
            .collect();
        fields.insert("components".to_string(), Value::Array(abs));
    }
    fields
}

/// Whether an object opts out of substitution (`kustomize.toolkit.fluxcd.io/substitute: disabled`).
pub(super) fn substitution_disabled(value: &Value) -> bool {
    ["annotations", "labels"].iter().any(|m| {
        value
            .pointer(&format!(
                "/metadata/{m}/kustomize.toolkit.fluxcd.io~1substitute"
            ))
            .and_then(Value::as_str)
            == Some("disabled")
    })
}

/// A string at a JSON pointer, `""` when absent.
pub(super) fn str_at<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The identity the inventory will give a built object.
pub(super) fn object_ref(doc: &BuiltDoc) -> ObjectRef {
    let kind = str_at(&doc.value, "/kind").to_string();
    let namespace = if super::is_cluster_scoped(&kind) {
        String::new()
    } else {
        match str_at(&doc.value, "/metadata/namespace") {
            "" => doc
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_string()),
            ns => ns.to_string(),
        }
    };
    ObjectRef {
        api_version: str_at(&doc.value, "/apiVersion").to_string(),
        kind,
        namespace,
        name: str_at(&doc.value, "/metadata/name").to_string(),
    }
}

/// A relative path as Flux compares it: no leading `./`, no trailing `/`.
pub(super) fn normalize_rel(path: &str) -> String {
    super::build::slash(&super::build::normalize(Path::new(path)))
}
