//! Unit tests of the loader on real corpus files and small inline documents.

use super::*;
use std::io::Cursor;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel)
}

fn from_stdin(text: &str) -> Result<Inventory, InventoryError> {
    load_with_stdin(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[Source::Stdin],
        &Limits::default(),
        &mut Cursor::new(text.as_bytes().to_vec()),
    )
}

/// The 1-based line of each document's first content line, computed from the text alone
/// (after a `---`, skipping blanks and comments) to check the parser's spans against.
fn expected_doc_lines(text: &str) -> Vec<u32> {
    let mut lines = Vec::new();
    let mut waiting = true;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("---") {
            waiting = true;
        } else if waiting && !t.is_empty() && !t.starts_with('#') {
            lines.push(i as u32 + 1);
            waiting = false;
        }
    }
    lines
}

#[test]
fn multi_document_lines_match_the_corpus_text() {
    for rel in [
        "corpus/istio-samples/bookinfo/platform/kube/bookinfo.yaml",
        "corpus/microservices-demo/release/kubernetes-manifests.yaml",
        "corpus/argo-cd/manifests/ha/namespace-install.yaml",
    ] {
        let path = data(rel);
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("corpus file {rel} is missing");
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let inv = load(dir, &[Source::Path(path.clone())], &Limits::default())
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
        let got: Vec<u32> = inv.objects.iter().map(|o| o.line).collect();
        let want = expected_doc_lines(&text);
        assert!(want.len() > 5, "{rel} should be a multi-document file");
        assert_eq!(got, want, "{rel}");
    }
}

#[test]
fn list_items_keep_their_own_lines() {
    let rel = "corpus/kube-prometheus/manifests/prometheus-roleSpecificNamespaces.yaml";
    let path = data(rel);
    let text = std::fs::read_to_string(&path).expect("the file is readable");
    let want: Vec<u32> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("- apiVersion"))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    let dir = path.parent().unwrap_or(Path::new("."));
    let inv = load(dir, &[Source::Path(path.clone())], &Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.objects.iter().map(|o| o.line).collect::<Vec<_>>(), want);
    assert!(inv.objects.iter().all(|o| o.id.kind == "Role"));
    assert_eq!(want.len(), 3);
}

#[test]
fn yaml_1_1_scalars_resolve_like_kubectl() {
    let inv = from_stdin(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: yes\n  b: on\n  \
         c: \"1.30\"\n  d: 1.30\n  e: No\n  f: 0755\n  g: \"yes\"\n  h: ~\n  i: 1_000\n  j: n\n  k: Y\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let body = &inv.objects[0].body["data"];
    assert_eq!(body["a"], Value::Bool(true));
    assert_eq!(body["b"], Value::Bool(true));
    assert_eq!(body["c"], Value::from("1.30"));
    assert_eq!(body["d"], Value::from(1.3));
    assert_eq!(body["e"], Value::Bool(false));
    assert_eq!(body["f"], Value::from(493));
    assert_eq!(body["g"], Value::from("yes"));
    assert_eq!(body["h"], Value::Null);
    assert_eq!(body["i"], Value::from(1000));
    assert_eq!(body["j"], Value::Bool(false));
    assert_eq!(body["k"], Value::Bool(true));
}

#[test]
fn namespace_defaulting() {
    let text = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n\
                apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: shop}\n---\n\
                apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n\
                metadata: {name: c, namespace: ignored}\n";
    let inv = from_stdin(text).unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<String> = inv.objects.iter().map(|o| o.id.key()).collect();
    assert_eq!(
        keys,
        ["Service/default/a", "Service/shop/b", "ClusterRole/c"]
    );
    assert!(inv.get("ClusterRole", "", "c").is_some());
    assert!(inv.get("Service", "shop", "b").is_some());
    assert!(inv.get("Service", "default", "b").is_none());
}

#[test]
fn secret_values_never_reach_the_inventory() {
    let secret_value = "s3cr3t-Hunter2";
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    \
         kubectl.kubernetes.io/last-applied-configuration: '{{\"stringData\":{{\"p\":\"{secret_value}\"}}}}'\n\
         stringData:\n  password: {secret_value}\ndata:\n  other: czNjcjN0LUh1bnRlcjI=\n"
    );
    let inv = from_stdin(&text).unwrap_or_else(|e| panic!("{e}"));
    let debug = format!("{inv:?}");
    assert!(!debug.contains(secret_value), "{debug}");
    assert!(!debug.contains("czNjcjN0LUh1bnRlcjI="), "{debug}");
    assert_eq!(inv.objects[0].id.key(), "Secret/default/db");
}

#[test]
fn secret_in_real_corpus_file_is_redacted() {
    let path = data("corpus/kube-prometheus/manifests/alertmanager-secret.yaml");
    let text = std::fs::read_to_string(&path).expect("the file is readable");
    assert!(text.contains("stringData"), "the fixture must carry values");
    let dir = path.parent().unwrap_or(Path::new("."));
    let inv = load(dir, &[Source::Path(path.clone())], &Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let secret = &inv.objects[0];
    assert_eq!(secret.id.kind, "Secret");
    assert!(secret.body.get("stringData").is_none());
    assert!(secret.body.get("data").is_none());
    assert!(secret.body.get("metadata").is_some());
}

#[test]
fn template_detection_ignores_quotes_comments_and_block_scalars() {
    assert_eq!(parse::template_line("a: 1\n{{- if .Values.x }}\n"), Some(2));
    assert_eq!(parse::template_line("name: {{ .Release.Name }}\n"), Some(1));
    assert_eq!(
        parse::template_line("# {{ comment }}\na: '{{ x }}'\nb: \"{{y}}\"\n"),
        None
    );
    assert_eq!(
        parse::template_line("data:\n  t: |\n    {{ define \"x\" }}\n    {{ end }}\nc: 1\n"),
        None
    );
    assert_eq!(
        parse::template_line("data:\n  t: |-\n    {{ x }}\n{{ end }}\n"),
        Some(4)
    );
}

#[test]
fn non_object_document_is_an_error_with_line() {
    let err = from_stdin("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n- 1\n- 2\n")
        .err()
        .map(|e| (e.line, e.message));
    let Some((line, message)) = err else {
        panic!("a sequence document must be refused");
    };
    assert_eq!(line, 5);
    assert!(message.contains("not a Kubernetes object"), "{message}");
}

#[test]
fn missing_name_is_an_error() {
    let Err(e) = from_stdin("apiVersion: batch/v1\nkind: Job\nmetadata:\n  labels: {a: b}\n")
    else {
        panic!("a Job without a name must be refused");
    };
    assert_eq!((e.path.as_path(), e.line), (Path::new("-"), 1));
    assert!(e.message.contains("metadata.name"), "{}", e.message);
}

#[test]
fn empty_documents_are_skipped() {
    let inv = from_stdin("---\n---\n# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.objects.len(), 1);
    assert_eq!(inv.objects[0].line, 5);
    assert_eq!(inv.objects[0].id.namespace, "");
}

#[test]
fn json_list_from_kubectl_expands() {
    let text = r#"{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "x"}},
    {
      "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "b"}
    }
  ]
}"#;
    let inv = from_stdin(text).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(String, u32)> = inv.objects.iter().map(|o| (o.id.key(), o.line)).collect();
    assert_eq!(
        got,
        [
            ("Service/x/a".to_string(), 5),
            ("Deployment/default/b".to_string(), 6)
        ]
    );
}

#[test]
fn same_name_in_two_groups_is_not_a_duplicate() {
    let text = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\n---\n\
                apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\n";
    let inv = from_stdin(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.objects.len(), 2);
    let istio = inv.get_in_group("networking.istio.io", "Gateway", "default", "g");
    let gwapi = inv.get_in_group("gateway.networking.k8s.io", "Gateway", "default", "g");
    assert_eq!(istio.map(|o| o.line), Some(1));
    assert_eq!(gwapi.map(|o| o.line), Some(5));
}

#[test]
fn nesting_up_to_the_limit_loads_on_a_small_stack() {
    // Test threads have 2 MiB of stack; the parser must not depend on the caller's.
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n");
    for d in 1..parse::MAX_DEPTH - 2 {
        text.push_str(&" ".repeat(d));
        text.push_str("k:\n");
    }
    let inv = from_stdin(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.objects.len(), 1);
    text.push_str(&" ".repeat(parse::MAX_DEPTH));
    text.push_str("k: {a: [b]}\n");
    let Err(e) = from_stdin(&text) else {
        panic!("nesting beyond the limit must be refused");
    };
    assert!(e.line > 100, "{e}");
}

#[test]
fn non_string_namespace_is_an_error_not_a_default() {
    // Unquoted `n` is the boolean false in YAML 1.1 (kubectl refuses it the same way).
    let Err(e) = from_stdin("apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: n}\n")
    else {
        panic!("a boolean namespace must be refused");
    };
    assert_eq!(e.line, 1);
    assert!(
        e.message.contains("metadata.namespace must be a string"),
        "{}",
        e.message
    );
}

#[test]
fn generate_name_objects_load_under_their_prefix_and_never_collide() {
    let text = "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\n---\n\
                apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\n";
    let inv = from_stdin(text).unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<String> = inv.objects.iter().map(|o| o.id.key()).collect();
    assert_eq!(keys, ["Job/default/run-", "Job/default/run-"]);
    assert_eq!(inv.get("Job", "default", "run-").map(|o| o.line), Some(1));
}

#[test]
fn anchors_and_merge_keys_in_real_use_load() {
    // A shared block reused many times must stay well inside the alias budget.
    let mut text = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  \
         base: &base {a: '1', b: '2', c: '3', d: '4', e: '5', f: '6', g: '7', h: '8'}\n",
    );
    for i in 0..200 {
        text.push_str(&format!("  k{i}:\n    <<: *base\n    z: '{i}'\n"));
    }
    let inv = from_stdin(&text).unwrap_or_else(|e| panic!("{e}"));
    let data = &inv.objects[0].body["data"];
    assert_eq!(data["k199"]["h"], Value::from("8"));
    assert_eq!(data["k199"]["z"], Value::from("199"));
}

#[test]
fn parser_messages_are_one_line_without_library_advice() {
    let Err(e) = from_stdin("a: 1\na: 2\n") else {
        panic!("duplicate keys must be refused");
    };
    assert_eq!(
        (e.line, e.message.as_str()),
        (2, "invalid YAML: duplicate mapping key: a")
    );
    let Err(e) = from_stdin(&format!("a: {}", "[".repeat(300))) else {
        panic!("deep flow nesting must be refused");
    };
    assert!(e.message.contains("safety limits"), "{}", e.message);
}

#[test]
fn spec_manifest_entries_become_glob_sources() {
    use crate::spec::model::{ManifestEntry, ManifestPath};
    let plain = Source::from(&ManifestEntry::Glob("apps/**/*.yaml".to_string()));
    let with_ns = Source::from(&ManifestEntry::WithNamespace(ManifestPath {
        path: "vendor/*.yaml".to_string(),
        namespace: Some("bookinfo".to_string()),
    }));
    assert_eq!(
        (plain, with_ns),
        (
            Source::Glob {
                pattern: "apps/**/*.yaml".to_string(),
                namespace: None
            },
            Source::Glob {
                pattern: "vendor/*.yaml".to_string(),
                namespace: Some("bookinfo".to_string())
            }
        )
    );
}

#[test]
fn from_objects_sorts_indexes_and_refuses_duplicates() {
    let obj = |file: &str, line: u32, name: &str| Object {
        id: ObjectRef {
            api_version: "v1".to_string(),
            kind: "Service".to_string(),
            namespace: "shop".to_string(),
            name: name.to_string(),
        },
        file: file.to_string(),
        line,
        body: serde_json::json!({"metadata": {"name": name}}),
    };
    let inv = Inventory::from_objects(vec![obj("b.yaml", 1, "x"), obj("a.yaml", 9, "y")])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.objects[0].file, "a.yaml");
    assert_eq!(
        inv.get("Service", "shop", "x").map(|o| o.file.as_str()),
        Some("b.yaml")
    );
    let Err(e) = Inventory::from_objects(vec![obj("b.yaml", 1, "x"), obj("a.yaml", 3, "x")]) else {
        panic!("duplicates must be refused");
    };
    assert_eq!((e.path.as_path(), e.line), (Path::new("b.yaml"), 1));
    assert!(e.message.contains("a.yaml:3 and b.yaml:1"), "{}", e.message);
}

#[test]
fn a_panic_of_the_loader_thread_is_an_internal_error() {
    // The panic under test: what a bug in a parser would do.
    let joined: std::thread::Result<Result<Inventory, InventoryError>> =
        std::thread::spawn(|| std::panic::panic_any("a loader bug")).join();
    let err = joined.unwrap_or_else(|_| Err(loader_panicked(Path::new("apps"))));
    let err = err.expect_err("the thread panicked");
    assert!(err.is_internal(), "{err}");
    assert_eq!(
        crate::error::Error::from(err).exit_code(),
        crate::error::ExitCode::Internal
    );
    let input = InventoryError::new(Path::new("a.yaml"), 0, "bad input");
    assert!(!input.is_internal());
}
