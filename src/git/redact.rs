//! Keeps Secret values out of diffs: every YAML document that parses as a Kubernetes
//! `Secret` (or a `List` holding one) has its `data` / `stringData` values and its
//! `kubectl.kubernetes.io/last-applied-configuration` annotation replaced by [`REDACTED`]
//! before any text is compared or printed.
//!
//! The common layout (top-level `data:` block, one key per line) is redacted line by line so
//! the rest of the document keeps its lines and comments. The result is parsed again and must
//! equal the expected redacted document; when it does not (flow mappings, odd indentation,
//! Lists) the whole document is re-serialised from the redacted value instead. A document that
//! mentions `kind: Secret` but does not parse is replaced entirely: being unable to read a
//! document is never a reason to show its values.

use std::borrow::Cow;

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// The annotation in which `kubectl apply` keeps a JSON copy of the object, data included.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `text` with the values of every Secret's `data` and `stringData` replaced by
/// [`REDACTED`]; borrowed unchanged when there is nothing to redact.
pub fn redact_secrets(text: &str) -> Cow<'_, str> {
    if !text.contains("Secret") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    for doc in split_documents(text) {
        match redact_document(doc) {
            Some(redacted) => {
                out.push_str(&redacted);
                changed = true;
            }
            None => out.push_str(doc),
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// Splits a multi-document stream into chunks, each starting at its `---` line (if any), so
/// that concatenating the chunks gives back `text`.
fn split_documents(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end();
        let is_marker = content == "---" || content.starts_with("--- ");
        if is_marker && offset > start {
            docs.push(text.get(start..offset).unwrap_or_default());
            start = offset;
        }
        offset += line.len();
    }
    if start < text.len() {
        docs.push(text.get(start..).unwrap_or_default());
    }
    docs
}

/// The redacted text of one document chunk, or `None` when it holds no Secret value.
fn redact_document(doc: &str) -> Option<String> {
    if !doc.contains("Secret") {
        return None;
    }
    let (marker, body) = split_marker(doc);
    let Some(value) = parse(body) else {
        return mentions_secret(body).then(|| {
            format!("{marker}# {REDACTED}: a Secret document that does not parse as YAML\n")
        });
    };
    let mut expected = value;
    if !redact_value(&mut expected) {
        return None;
    }
    if let Some(lines) = redact_lines(body)
        && parse(&lines).as_ref() == Some(&expected)
    {
        return Some(format!("{marker}{lines}"));
    }
    // The line-based pass could not be proven right: print the redacted value instead. If
    // even that fails, print nothing of the document.
    let text = serde_saphyr::to_string(&expected).unwrap_or_else(|_| {
        format!("# {REDACTED}: a Secret document that could not be re-serialised\n")
    });
    Some(format!("{marker}{text}"))
}

/// Splits off a leading `---` line, kept verbatim.
fn split_marker(doc: &str) -> (&str, &str) {
    let first_len = doc.find('\n').map_or(doc.len(), |i| i + 1);
    let first = doc.get(..first_len).unwrap_or("");
    let trimmed = first.trim_end();
    if trimmed == "---" {
        doc.split_at(first_len)
    } else {
        ("", doc)
    }
}

/// Parses one YAML document; `None` when it is not valid YAML (or not representable).
fn parse(text: &str) -> Option<Value> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! { max_documents: 1 },
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<Value>(text, options).ok()
}

/// Whether an unparseable document looks like a Secret.
fn mentions_secret(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.strip_prefix("kind:")
            .map(|k| k.trim().trim_matches(['"', '\'']) == "Secret")
            .unwrap_or(false)
    })
}

/// Replaces Secret values in a parsed document (a Secret, or a List whose items hold
/// Secrets); returns whether there was anything to replace.
fn redact_value(value: &mut Value) -> bool {
    let Some(obj) = value.as_object_mut() else {
        return false;
    };
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind == "Secret" {
        let mut changed = false;
        for field in ["data", "stringData"] {
            match obj.get_mut(field) {
                None | Some(Value::Null) => {}
                Some(Value::Object(map)) => {
                    for v in map.values_mut() {
                        *v = Value::String(REDACTED.into());
                        changed = true;
                    }
                }
                Some(other) => {
                    *other = Value::String(REDACTED.into());
                    changed = true;
                }
            }
        }
        // kubectl's copy of the whole object as applied, values included.
        if let Some(v) = obj
            .get_mut("metadata")
            .and_then(|m| m.get_mut("annotations"))
            .and_then(|a| a.get_mut(LAST_APPLIED))
        {
            *v = Value::String(REDACTED.into());
            changed = true;
        }
        return changed;
    }
    if kind.ends_with("List")
        && let Some(Value::Array(items)) = obj.get_mut("items")
    {
        let mut changed = false;
        for item in items {
            changed |= redact_value(item);
        }
        return changed;
    }
    false
}

/// The line-based redaction of a document whose `data:` / `stringData:` are block mappings
/// at the top level; `None` when a line does not fit that shape.
fn redact_lines(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    // The indentation of the keys of the block being redacted, once known.
    let mut block: Option<Option<usize>> = None;
    for line in body.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let eol = line.get(content.len()..).unwrap_or("");
        let trimmed = content.trim_start();
        let indent = content.len() - trimmed.len();
        if let Some(child) = block.as_mut() {
            if trimmed.is_empty() {
                out.push_str(line);
                continue;
            }
            if trimmed.starts_with('#') {
                // A comment among the values may be an old value commented out.
                continue;
            }
            if indent > 0 {
                let child = *child.get_or_insert(indent);
                if indent > child {
                    // Continuation of a multi-line value: dropped with the value.
                    continue;
                }
                if indent < child || content.starts_with('\t') {
                    return None;
                }
                let colon = key_end(trimmed)?;
                let key = trimmed.get(..=colon)?;
                out.push_str(&format!("{}{key} {REDACTED}{eol}", " ".repeat(indent)));
                continue;
            }
            block = None;
        }
        if indent == 0
            && let Some(rest) = content
                .strip_prefix("data:")
                .or_else(|| content.strip_prefix("stringData:"))
        {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                block = Some(None);
            } else if !matches!(rest, "{}" | "null" | "~") {
                return None;
            }
        }
        out.push_str(line);
    }
    Some(out)
}

/// The byte index of the colon ending the mapping key at the start of `line`.
fn key_end(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let search_from = match bytes.first() {
        Some(&q @ (b'"' | b'\'')) => 1 + line.get(1..)?.find(q as char)? + 1,
        _ => 0,
    };
    let rest = line.get(search_from..)?;
    let rel = rest
        .find(": ")
        .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))?;
    Some(search_from + rel)
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db # the database\n\
        type: Opaque\ndata:\n  # was: b2xkLXBhc3N3b3Jk\n  password: cGFzc3dvcmQ= # old: aHVudGVyMg==\n  \"tls.crt\": |\n    LS0tLS1CRUdJTi\n    \
        more\nstringData:\n  user: admin\n";

    #[test]
    fn block_data_is_redacted_line_by_line() {
        let out = redact_secrets(SECRET);
        for value in [
            "cGFzc3dvcmQ",
            "LS0t",
            "admin",
            "b2xkLXBhc3N3b3Jk",
            "aHVudGVyMg",
        ] {
            assert!(!out.contains(value), "{value} leaked:\n{out}");
        }
        assert!(
            out.contains("name: db # the database"),
            "comments survive:\n{out}"
        );
        assert!(out.contains("  password: <redacted>\n"), "{out}");
        assert!(out.contains("  \"tls.crt\": <redacted>\n"), "{out}");
        assert!(out.contains("  user: <redacted>\n"), "{out}");
    }

    #[test]
    fn other_documents_are_untouched() {
        let text =
            format!("kind: ConfigMap\ndata:\n  a: visible\n---\n{SECRET}---\nkind: Service\n");
        let out = redact_secrets(&text);
        assert!(
            out.starts_with("kind: ConfigMap\ndata:\n  a: visible\n---\n"),
            "{out}"
        );
        assert!(out.ends_with("---\nkind: Service\n"), "{out}");
        assert!(!out.contains("cGFzc3dvcmQ"));
        let plain = "kind: ConfigMap\ndata:\n  Secret: no\n";
        assert!(matches!(redact_secrets(plain), Cow::Borrowed(_)));
    }

    #[test]
    fn flow_mappings_and_lists_fall_back_to_reserialising() {
        let flow = "kind: Secret\nmetadata: {name: x}\ndata: {a: c2VjcmV0, b: b3RoZXI=}\n";
        let out = redact_secrets(flow);
        assert!(
            !out.contains("c2VjcmV0") && !out.contains("b3RoZXI"),
            "{out}"
        );
        assert_eq!(out.matches(REDACTED).count(), 2, "{out}");
        let back: Value = serde_saphyr::from_str(&out).unwrap();
        assert_eq!(back["metadata"]["name"], "x", "the rest survives:\n{out}");
        let list = "apiVersion: v1\nkind: List\nitems:\n- kind: Secret\n  data:\n    k: c2VjcmV0\n";
        let out = redact_secrets(list);
        assert!(!out.contains("c2VjcmV0") && out.contains(REDACTED), "{out}");
    }

    #[test]
    fn unparseable_secret_is_hidden_entirely() {
        let bad = "kind: Secret\ndata:\n  a: [unclosed c2VjcmV0\n";
        let out = redact_secrets(bad);
        assert!(!out.contains("c2VjcmV0"), "{out}");
    }

    #[test]
    fn real_corpus_secrets_are_redacted() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/corpus");
        for file in [
            "kube-prometheus/manifests/alertmanager-secret.yaml",
            "kube-prometheus/manifests/grafana-config.yaml",
            "argo-cd/manifests/ha/namespace-install.yaml",
            "istio-samples/bookinfo/platform/kube/bookinfo-mysql.yaml",
        ] {
            let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
            let out = redact_secrets(&text);
            let docs: Vec<Value> = serde_saphyr::from_multiple(&out).unwrap();
            let mut secrets = 0;
            for doc in &docs {
                if doc["kind"] == "Secret" {
                    secrets += 1;
                    for field in ["data", "stringData"] {
                        if let Some(map) = doc[field].as_object() {
                            assert!(map.values().all(|v| v == REDACTED), "{file}: {doc}");
                        }
                    }
                } else {
                    let original: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
                    assert!(original.contains(doc), "{file}: a non-Secret changed");
                }
            }
            assert!(secrets > 0, "{file} has a Secret");
        }
    }
}
