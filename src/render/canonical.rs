//! The one canonical YAML form every rendered file is written in, so the same model gives the
//! same bytes on every machine and a diff shows only real changes.
//!
//! The form:
//! - keys of every mapping: `apiVersion`, `kind`, `metadata`, `name`, `namespace`, `spec` first
//!   (in that order, when present), then all other keys in byte order;
//! - two-space indentation; sequence items indented under their key (`  - a`), a mapping item
//!   starts on the dash line;
//! - empty mappings and sequences as `{}` and `[]`;
//! - strings plain when that is unambiguous, else double-quoted with escapes (see
//!   [`needs_quotes`]): in particular every string starting with a digit is quoted, so versions
//!   and revisions (`"1.24.6"`, `"1-24-6"`) never turn into numbers in any YAML 1.1 or 1.2 reader;
//! - documents of one file separated by `---`, no leading `---`, one final newline.

use serde_json::Value;

/// Keys written first, in this order, in every mapping (Kubernetes convention).
const FIRST_KEYS: [&str; 6] = [
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "spec",
];

/// The canonical text of several documents (one file).
pub fn to_yaml_documents(docs: &[Value]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        write_document(&mut out, doc);
    }
    out
}

/// The canonical text of one document.
pub fn to_yaml(doc: &Value) -> String {
    let mut out = String::new();
    write_document(&mut out, doc);
    out
}

fn write_document(out: &mut String, doc: &Value) {
    match doc {
        Value::Object(map) if !map.is_empty() => write_mapping(out, map, 0),
        Value::Array(items) if !items.is_empty() => write_sequence(out, items, 0),
        scalar => {
            write_scalar(out, scalar);
            out.push('\n');
        }
    }
}

/// The keys of a mapping in canonical order.
fn ordered_keys(map: &serde_json::Map<String, Value>) -> Vec<&String> {
    let rank = |k: &str| {
        FIRST_KEYS
            .iter()
            .position(|f| *f == k)
            .unwrap_or(FIRST_KEYS.len())
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by(|a, b| (rank(a), a.as_str()).cmp(&(rank(b), b.as_str())));
    keys
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn write_mapping(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for key in ordered_keys(map) {
        let Some(value) = map.get(key) else { continue };
        push_indent(out, indent);
        write_string(out, key);
        out.push(':');
        write_value_after_key(out, value, indent);
    }
}

fn write_value_after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_mapping(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_sequence(out, a, indent + 2);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar);
            out.push('\n');
        }
    }
}

fn write_sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        push_indent(out, indent);
        out.push_str("- ");
        if is_block(item) {
            // Render the item as if it were indented two more, then put its first line on the
            // dash line: the compact form `- name: x` every Kubernetes manifest uses.
            let mut nested = String::new();
            match item {
                Value::Object(m) => write_mapping(&mut nested, m, indent + 2),
                Value::Array(a) => write_sequence(&mut nested, a, indent + 2),
                _ => {}
            }
            out.push_str(nested.get(indent + 2..).unwrap_or_default());
        } else {
            write_scalar(out, item);
            out.push('\n');
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_scalar(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn write_string(out: &mut String, s: &str) {
    if needs_quotes(s) {
        write_quoted(out, s);
    } else {
        out.push_str(s);
    }
}

/// Words that YAML 1.1 or 1.2 readers resolve to booleans or null when plain.
const RESERVED: [&str; 13] = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nan", "inf", "=",
];

/// Whether a string must be double-quoted to read back as the same string. Deliberately
/// conservative: plain only for strings made of `[A-Za-z0-9._/@+=-]` and inner `:` (never
/// before a space or at the end), starting with a letter, `_` or `/`, and not a reserved word.
pub fn needs_quotes(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return true;
    };
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return true;
    }
    if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        return true;
    }
    if s.ends_with(':') || s.contains(": ") {
        return true;
    }
    !s.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '@' | '+' | '=' | '-' | ':')
    })
}

fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let code = u32::from(c);
                if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: &Value) -> Value {
        let text = to_yaml(v);
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{text}\n{e}"))
    }

    #[test]
    fn kubernetes_keys_first_then_sorted() {
        let doc = json!({"spec": {"b": 1, "a": 2}, "zeta": 1, "metadata": {"labels": {}, "name": "x"},
                         "kind": "Service", "apiVersion": "v1"});
        assert_eq!(
            to_yaml(&doc),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels: {}\nspec:\n  a: 2\n  b: 1\nzeta: 1\n"
        );
    }

    #[test]
    fn sequences_of_mappings_are_compact() {
        let doc = json!({"ports": [{"port": 80, "name": "http"}, {"name": "b", "port": 443}], "l": [[1, 2], []]});
        let text = to_yaml(&doc);
        assert_eq!(
            text,
            "l:\n  - - 1\n    - 2\n  - []\nports:\n  - name: http\n    port: 80\n  - name: b\n    port: 443\n"
        );
        assert_eq!(round_trip(&doc), doc);
    }

    #[test]
    fn ambiguous_strings_are_quoted_and_read_back_as_strings() {
        let tricky = [
            "",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "true",
            "null",
            "~",
            "1.24.6",
            "1-24-6",
            "1.30",
            "0o17",
            "0x1F",
            "1e3",
            ".inf",
            "-",
            "- a",
            "a: b",
            "a:",
            "#x",
            "a #b",
            "x\ny",
            "tab\t",
            "quote\"",
            "back\\slash",
            "é",
            "\u{7f}",
            "\u{2028}",
            " lead",
            "trail ",
            "*alias",
            "&anchor",
            "!tag",
            "%dir",
            "@at",
            "`tick",
            "{a}",
            "[a]",
            "a,b",
            "|",
            ">",
            "'s'",
            "2026-11-23",
            "1:20",
            "=",
        ];
        for s in tricky {
            let doc = json!({"k": s, s: "v", "list": [s]});
            assert_eq!(round_trip(&doc), doc, "{s:?} → {}", to_yaml(&doc));
        }
    }

    #[test]
    fn common_kubernetes_strings_stay_plain() {
        for s in [
            "istio.io/rev",
            "docker.io/istio",
            "oci://registry/charts",
            "https://istio-release.storage.googleapis.com/charts",
            "ClusterIP",
            "meshplan.dev/restarted-for",
        ] {
            assert!(!needs_quotes(s), "{s}");
        }
    }

    #[test]
    fn documents_are_separated_and_end_with_a_newline() {
        let text = to_yaml_documents(&[json!({"a": 1}), json!({"b": true, "c": null})]);
        assert_eq!(text, "a: 1\n---\nb: true\nc: null\n");
        let back: Vec<Value> = serde_saphyr::from_multiple(&text).expect("the test input parses");
        assert_eq!(back.len(), 2);
    }
}
