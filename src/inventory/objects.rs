//! From parsed documents to inventory objects: each document's (or list item's) identity
//! read, defaulted and its names checked, Secrets' values removed before anything keeps them.

use super::*;

/// Appends the objects of one file's parsed documents.
pub(super) fn add_docs(
    docs: Vec<parse::Doc>,
    file: &FileInput,
    objects: &mut Vec<Object>,
    inv: &mut Inventory,
) -> Result<(), InventoryError> {
    let display = Path::new(&file.display);
    // A file none of whose documents has apiVersion or kind is not a manifest at all (an
    // OpenAPI file, Helm values): skipped with a note. Mixed into a manifest, such a
    // document is an error below.
    let looks_like_k8s = |v: &Value| v.get("apiVersion").is_some() || v.get("kind").is_some();
    if !docs.is_empty() && !docs.iter().any(|d| looks_like_k8s(&d.value)) {
        let line = docs.first().map(|d| d.line).unwrap_or(0);
        inv.skipped.push(format!(
            "{}:{line}: not a Kubernetes manifest (no document has apiVersion or kind)",
            file.display
        ));
        return Ok(());
    }
    let ctx = DocContext { file, display };
    for doc in docs {
        ctx.add(doc.value, doc.line, &doc.item_lines, objects, inv)?;
    }
    Ok(())
}

/// What every document of one file shares.
pub(super) struct DocContext<'a> {
    pub(super) file: &'a FileInput,
    pub(super) display: &'a Path,
}

impl DocContext<'_> {
    /// Turns one document (or list item) into objects.
    pub(super) fn add(
        &self,
        mut value: Value,
        line: u64,
        item_lines: &[u64],
        objects: &mut Vec<Object>,
        inv: &mut Inventory,
    ) -> Result<(), InventoryError> {
        let err = |message: String| InventoryError::new(self.display, line, message);
        if !value.is_object() {
            return Err(err(
                "not a Kubernetes object: expected a mapping with apiVersion, kind and \
                 metadata.name"
                    .to_string(),
            ));
        }
        let api_version = string_field(&value, &["apiVersion"]);
        let kind = string_field(&value, &["kind"]);
        if let Some(why) = kinds::kustomize_config(api_version.unwrap_or(""), kind.unwrap_or("")) {
            inv.skipped
                .push(format!("{}:{line}: {why}", self.file.display));
            return Ok(());
        }
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            return Err(err(
                "not a Kubernetes object: apiVersion and kind must be non-empty strings"
                    .to_string(),
            ));
        };
        let (api_version, kind) = (api_version.to_string(), kind.to_string());
        if kind.ends_with("List") && value.get("items").is_some_and(Value::is_array) {
            let items = match value.get_mut("items").map(Value::take) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            for (i, item) in items.into_iter().enumerate() {
                // A nested List's own items have no recorded lines: they take the list's.
                let item_line = item_lines.get(i).copied().unwrap_or(line);
                self.add(item, item_line, &[], objects, inv)?;
            }
            return Ok(());
        }
        // Only `generateName`: every `kubectl create` makes a new object, so it is loaded
        // under its prefix and exempt from duplicate detection.
        let name = match meta_string(&value, "name").map_err(&err)? {
            Some(name) => name.to_string(),
            None => match meta_string(&value, "generateName").map_err(&err)? {
                Some(prefix) => prefix.to_string(),
                None => {
                    if let Some(why) = kinds::unnamed_tool_config(&api_version, &kind) {
                        inv.skipped
                            .push(format!("{}:{line}: {why}", self.file.display));
                        return Ok(());
                    }
                    return Err(err(format!(
                        "not a Kubernetes object: {kind} has no metadata.name"
                    )));
                }
            },
        };
        let namespace = if kinds::is_cluster_scoped(&kind) {
            String::new()
        } else {
            meta_string(&value, "namespace")
                .map_err(&err)?
                .map(str::to_string)
                .or_else(|| self.file.namespace.clone())
                .unwrap_or_else(|| "default".to_string())
        };
        let generated = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if let Some(why) = names::invalid(&kind, &name, &namespace, generated) {
            return Err(err(why));
        }
        if kind == "Secret" && kinds::group_of(&api_version).is_empty() {
            redact_secret(&mut value);
        }
        let line =
            u32::try_from(line).map_err(|_| err("line number beyond 4 billion".to_string()))?;
        objects.push(Object {
            id: ObjectRef {
                api_version,
                kind,
                namespace,
                name,
            },
            file: self.file.display.clone(),
            line,
            body: value,
        });
        Ok(())
    }
}

/// `metadata.<key>` as a non-empty string; present with another type is an error, since
/// YAML 1.1 turns unquoted `n`, `no`, `on`, `1.30` into non-strings.
pub(super) fn meta_string<'v>(value: &'v Value, key: &str) -> Result<Option<&'v str>, String> {
    match value.get("metadata").and_then(|m| m.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "metadata.{key} must be a string, found {other}; quote it (YAML 1.1 reads \
             unquoted yes/no/y/n/on/off as booleans and 1.30 as a number)"
        )),
    }
}

/// A non-empty string at `path` in `value`.
pub(super) fn string_field<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = value;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}

/// Removes everything that may hold a Secret's values: `data`, `stringData`, and kubectl's
/// last-applied annotation (a JSON copy of the whole object, values included).
pub(super) fn redact_secret(value: &mut Value) {
    if let Some(obj) = value.as_object_mut() {
        obj.remove("data");
        obj.remove("stringData");
    }
    if let Some(annotations) = value
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}
