//! Inventory loader: the whole real corpus loads, and every kind of bad input is refused
//! with an error naming the file and the line.

use meshplan::inventory::{Inventory, InventoryError, Limits, Source, load, load_with_stdin};
use std::io::Cursor;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/corpus");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/inventory");
const CHARTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/istio-charts");

fn glob(pattern: &str) -> Source {
    Source::Glob {
        pattern: pattern.to_string(),
        namespace: None,
    }
}

fn load_glob(base: &Path, pattern: &str) -> Result<Inventory, InventoryError> {
    load(base, &[glob(pattern)], &Limits::default())
}

fn expect_err(result: Result<Inventory, InventoryError>) -> InventoryError {
    match result {
        Ok(inv) => panic!("expected an error, loaded {} objects", inv.objects.len()),
        Err(e) => e,
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

#[test]
fn every_corpus_file_loads() {
    let mut files = 0;
    let mut objects = 0;
    let mut skipped = Vec::new();
    let mut by_kind = std::collections::BTreeMap::<String, usize>::new();
    for entry in walkdir::WalkDir::new(CORPUS).sort_by_file_name() {
        let entry = entry.unwrap_or_else(|e| panic!("walk: {e}"));
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !entry.file_type().is_file() || !matches!(ext, "yaml" | "yml" | "json") {
            continue;
        }
        let base = path.parent().unwrap_or(Path::new(CORPUS));
        let inv = load(
            base,
            &[Source::Path(path.to_path_buf())],
            &Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(inv.objects.iter().all(|o| o.file == name && o.line >= 1));
        files += 1;
        objects += inv.objects.len();
        for o in &inv.objects {
            *by_kind
                .entry(format!("{}/{}", o.id.api_version, o.id.kind))
                .or_insert(0) += 1;
        }
        skipped.extend(inv.skipped);
    }
    // Skipped on purpose: 17 Kustomize documents (12 Kustomization, 2 Component,
    // 3 LabelTransformer), 3 unnamed IstioOperators (istioctl input), swagger.yaml.
    assert_eq!(files, 351);
    let kustomize = skipped.iter().filter(|s| s.contains("Kustomize")).count();
    let istioctl = skipped.iter().filter(|s| s.contains("istioctl")).count();
    assert_eq!(
        (kustomize, istioctl, skipped.len()),
        (17, 3, 21),
        "{skipped:#?}"
    );
    assert!(skipped.iter().any(|s| s.starts_with("swagger.yaml:1:")));
    // Per-kind counts published in shared/data/README.md (an independent count).
    for (kind, want) in [
        ("apps/v1/Deployment", 129),
        ("v1/Service", 158),
        ("v1/Secret", 7),
        ("batch/v1/Job", 7),
        ("policy/v1/PodDisruptionBudget", 8),
    ] {
        assert_eq!(by_kind.get(kind).copied().unwrap_or(0), want, "{kind}");
    }
    // The RoleList and RoleBindingList are expanded into their items.
    assert!(!by_kind.contains_key("rbac.authorization.k8s.io/v1/RoleList"));
    assert_eq!(
        by_kind.get("rbac.authorization.k8s.io/v1/Role").copied(),
        Some(12 + 3)
    );
    assert!(objects > 650, "{objects}");
}

#[test]
fn corpus_tree_loads_as_one_glob_with_unique_objects_per_source() {
    // One glob over one source's tree: duplicates across its files would be refused.
    let base = Path::new(CORPUS).join("kube-prometheus");
    let inv = load_glob(&base, "manifests/*.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert!(inv.objects.len() > 80);
    let mut sorted = inv.objects.clone();
    sorted.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    assert_eq!(sorted, inv.objects, "objects are sorted by (file, line)");
    for (key, &pos) in &inv.index {
        assert_eq!(&inv.objects[pos].id.key(), key);
    }
    assert!(
        inv.get("Secret", "monitoring", "alertmanager-main")
            .is_some()
    );
}

#[test]
fn malformed_yaml_names_file_and_line() {
    let e = expect_err(load_glob(Path::new(FIXTURES), "malformed/*.yaml"));
    assert_eq!(e.path, PathBuf::from("malformed/bad.yaml"));
    assert_eq!(e.line, 10, "{e}");
    assert!(e.message.contains("invalid YAML"), "{e}");
}

#[test]
fn duplicate_object_names_both_places() {
    let e = expect_err(load_glob(Path::new(FIXTURES), "dup/*.yaml"));
    assert_eq!(
        (e.path.as_path(), e.line),
        (Path::new("dup/b.yaml"), 7),
        "{e}"
    );
    assert!(e.message.contains("Deployment/shop/cart"), "{e}");
    assert!(e.message.contains("dup/a.yaml:2 and dup/b.yaml:7"), "{e}");
}

#[test]
fn helm_template_is_refused_with_a_hint() {
    // A real chart template from Istio: `{{- if` on line 2.
    let base = Path::new(CHARTS).join("1.24.6/istiod/templates");
    let e = expect_err(load_glob(&base, "service.yaml"));
    assert_eq!(
        (e.path.as_path(), e.line),
        (Path::new("service.yaml"), 2),
        "{e}"
    );
    assert!(e.message.contains("looks like a Helm template"), "{e}");
    assert!(e.message.contains("helm template"), "{e}");
}

#[test]
fn template_text_inside_real_manifests_is_not_mistaken_for_helm() {
    // Alertmanager rules carry Go templates in plain scalars; they must load.
    let base = Path::new(CORPUS).join("kube-prometheus/manifests");
    let inv =
        load_glob(&base, "alertmanager-prometheusRule.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.objects.len(), 1);
    assert!(
        inv.objects[0]
            .body
            .to_string()
            .contains("{{ $labels.namespace }}")
    );
}

#[test]
fn alias_bomb_is_refused_quickly() {
    let dir = tempdir();
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n");
    text.push_str(
        "  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (prev, next) = (pair[0], pair[1]);
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("  {next}: &{next} [{refs}]\n"));
    }
    write(&dir.path().join("bomb.yaml"), &text);
    // Refused by the parser's budget (not by running out of time or memory): the error
    // names the file and the line, and says what was exceeded.
    let e = expect_err(load_glob(dir.path(), "*.yaml"));
    assert_eq!(e.path, PathBuf::from("bomb.yaml"));
    assert!(e.line >= 5 && e.line <= 13, "line {} in {e}", e.line);
}

#[test]
fn deep_block_nesting_is_refused() {
    let dir = tempdir();
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n");
    for depth in 1..10_000 {
        text.push_str(&" ".repeat(depth));
        text.push_str("k:\n");
    }
    write(&dir.path().join("deep.yaml"), &text);
    let e = expect_err(load_glob(dir.path(), "*.yaml"));
    assert_eq!(e.path, PathBuf::from("deep.yaml"));
    // The breach is at the 128th level, well inside the file.
    assert!(e.line > 4 && e.line < 200, "{e}");
}

#[test]
fn deep_flow_nesting_is_refused() {
    let dir = tempdir();
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata:\n  x: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    write(&dir.path().join("deep.yaml"), &text);
    let e = expect_err(load_glob(dir.path(), "*.yaml"));
    assert_eq!(
        (e.path.as_path(), e.line),
        (Path::new("deep.yaml"), 5),
        "{e}"
    );
}

#[test]
fn non_utf8_bytes_name_the_line() {
    let dir = tempdir();
    let mut bytes =
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: caf".to_vec();
    bytes.extend_from_slice(&[0xe9, b'\n']);
    write(&dir.path().join("latin1.yaml"), &bytes);
    let e = expect_err(load_glob(dir.path(), "*.yaml"));
    assert_eq!(
        (e.path.as_path(), e.line),
        (Path::new("latin1.yaml"), 6),
        "{e}"
    );
    assert!(e.message.contains("UTF-8"), "{e}");
}

#[cfg(unix)]
#[test]
fn symlink_loop_under_a_glob_is_refused() {
    let dir = tempdir();
    write(
        &dir.path().join("apps/a.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    );
    std::os::unix::fs::symlink("..", dir.path().join("apps/loop"))
        .unwrap_or_else(|e| panic!("symlink: {e}"));
    let e = expect_err(load_glob(dir.path(), "apps/**/*.yaml"));
    // walkdir reports the loop one lap in: `apps/loop/apps/loop` leads back to `apps/loop`.
    assert!(e.path.starts_with("apps/loop"), "{e}");
    assert_eq!(e.line, 0);
    assert!(e.message.contains("symlink loop"), "{e}");
}

#[cfg(unix)]
#[test]
fn glob_walks_only_its_literal_prefix() {
    // A loop elsewhere in the repository is never visited by `apps/*.yaml`.
    let dir = tempdir();
    write(
        &dir.path().join("apps/a.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    );
    std::fs::create_dir_all(dir.path().join("vendor")).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink("..", dir.path().join("vendor/loop"))
        .unwrap_or_else(|e| panic!("symlink: {e}"));
    let inv = load_glob(dir.path(), "apps/*.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.objects.len(), 1);
    assert!(
        load_glob(dir.path(), "**/*.yaml").is_err(),
        "the loop is real"
    );
}

#[cfg(unix)]
#[test]
fn symlink_out_of_the_base_dir_is_refused() {
    let outside = tempdir();
    write(
        &outside.path().join("x.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
    );
    let repo = tempdir();
    std::fs::create_dir_all(repo.path().join("apps")).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(
        outside.path().join("x.yaml"),
        repo.path().join("apps/x.yaml"),
    )
    .unwrap_or_else(|e| panic!("symlink: {e}"));
    let e = expect_err(load_glob(repo.path(), "apps/*.yaml"));
    assert_eq!(
        (e.path.as_path(), e.line),
        (Path::new("apps/x.yaml"), 0),
        "{e}"
    );
    assert!(e.message.contains("points outside the repository"), "{e}");
}

#[test]
fn dotdot_glob_is_refused() {
    let e = expect_err(load_glob(Path::new(FIXTURES), "apps/../../*.yaml"));
    assert_eq!(e.path, PathBuf::from("apps/../../*.yaml"));
    assert_eq!(e.line, 0);
    assert!(e.message.contains(".."), "{e}");
}

#[test]
fn absolute_glob_is_refused() {
    let e = expect_err(load_glob(Path::new(FIXTURES), "/etc/*.yaml"));
    assert!(e.message.contains("absolute"), "{e}");
}

#[test]
fn file_over_the_size_limit_is_refused_before_reading() {
    let limits = Limits { max_file_bytes: 64 };
    let e = expect_err(load(
        Path::new(FIXTURES),
        &[glob("apps/shop/cart.yaml")],
        &limits,
    ));
    assert_eq!(
        (e.path.as_path(), e.line),
        (Path::new("apps/shop/cart.yaml"), 0),
        "{e}"
    );
    assert!(e.message.contains("64 bytes"), "{e}");
    assert!(e.message.contains("--max-manifest-bytes"), "{e}");
}

#[test]
fn stdin_over_the_size_limit_is_refused() {
    let limits = Limits { max_file_bytes: 16 };
    let mut stdin = Cursor::new(vec![b'#'; 1_000]);
    let Err(e) = load_with_stdin(Path::new(FIXTURES), &[Source::Stdin], &limits, &mut stdin) else {
        panic!("oversized stdin must be refused");
    };
    assert_eq!(e.path, PathBuf::from("-"));
    assert!(e.message.contains("--max-manifest-bytes"), "{e}");
}

#[test]
fn glob_matching_nothing_is_a_warning() {
    let inv = load_glob(Path::new(FIXTURES), "nowhere/**/*.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert!(inv.objects.is_empty());
    assert_eq!(
        inv.warnings,
        ["manifest glob `nowhere/**/*.yaml` matches no file"]
    );
}

#[test]
fn glob_entry_namespace_and_kustomization_skip() {
    let sources = [
        Source::Glob {
            pattern: "apps/shop/*.yaml".to_string(),
            namespace: Some("shop".to_string()),
        },
        glob("apps/**/*.y*ml"),
    ];
    let inv =
        load(Path::new(FIXTURES), &sources, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(String, &str, u32)> = inv
        .objects
        .iter()
        .map(|o| (o.id.key(), o.file.as_str(), o.line))
        .collect();
    assert_eq!(
        got,
        [
            ("Service/front/web".to_string(), "apps/other/web.yml", 1),
            ("Deployment/shop/cart".to_string(), "apps/shop/cart.yaml", 1),
            ("Namespace/shop".to_string(), "apps/shop/cart.yaml", 8),
        ]
    );
    assert_eq!(inv.skipped.len(), 1, "{:?}", inv.skipped);
    assert!(inv.skipped[0].starts_with("apps/shop/kustomization.yaml:1:"));
    // Both files are matched by both entries, which disagree on the namespace.
    assert_eq!(inv.warnings.len(), 2, "{:?}", inv.warnings);
    assert!(inv.warnings[0].starts_with("apps/shop/cart.yaml is matched by several"));
}

#[test]
fn stdin_source_is_named_dash() {
    let text = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n\n\
                apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  \
                metadata: {name: c, namespace: ns1}\n";
    let mut stdin = Cursor::new(text.as_bytes().to_vec());
    let inv = load_with_stdin(
        Path::new(FIXTURES),
        &[Source::Stdin],
        &Limits::default(),
        &mut stdin,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(String, &str, u32)> = inv
        .objects
        .iter()
        .map(|o| (o.id.key(), o.file.as_str(), o.line))
        .collect();
    assert_eq!(
        got,
        [
            ("Service/default/s".to_string(), "-", 1),
            ("ConfigMap/ns1/c".to_string(), "-", 9),
        ]
    );
}

#[test]
fn path_source_directory_reads_manifest_extensions_only() {
    let inv = load(
        Path::new(FIXTURES),
        &[Source::Path(PathBuf::from("apps/other"))],
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // notes.txt is left out; the JSON file is read like YAML, its strings stay strings.
    let got: Vec<(String, &str, u32)> = inv
        .objects
        .iter()
        .map(|o| (o.id.key(), o.file.as_str(), o.line))
        .collect();
    assert_eq!(
        got,
        [
            (
                "ConfigMap/front/settings".to_string(),
                "apps/other/settings.json",
                1
            ),
            ("Service/front/web".to_string(), "apps/other/web.yml", 1),
        ]
    );
    assert_eq!(inv.objects[0].body["data"]["mode"], "on");
    assert_eq!(inv.objects[0].body["data"]["version"], "1.30");
}

#[test]
fn ten_thousand_objects_in_two_thousand_files_load_and_index() {
    let dir = tempdir();
    for f in 0..2_000 {
        let mut text = String::new();
        for d in 0..5 {
            text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w{f}-{d}\n  \
                 namespace: ns{}\nspec:\n  replicas: 2\n",
                f % 50
            ));
        }
        write(&dir.path().join(format!("apps/f{f:04}.yaml")), text);
    }
    // How fast is for benches/check-scale.sh to measure; a test only asserts what it loads.
    let inv = load_glob(dir.path(), "apps/*.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inv.objects.len(), 10_000);
    assert_eq!(inv.index.len(), 10_000);
    assert_eq!(
        inv.get("Deployment", "ns7", "w1357-4").map(|o| o.line),
        Some(34)
    );
}

#[test]
fn every_real_istio_chart_template_is_refused_as_helm() {
    let mut templates = 0;
    for entry in walkdir::WalkDir::new(CHARTS).sort_by_file_name() {
        let entry = entry.unwrap_or_else(|e| panic!("walk: {e}"));
        let path = entry.path();
        let in_templates = path.parent().is_some_and(|p| p.ends_with("templates"));
        if !entry.file_type().is_file()
            || !in_templates
            || path.extension() != Some("yaml".as_ref())
        {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("the file is readable");
        let base = path.parent().unwrap_or(Path::new(CHARTS));
        let e = expect_err(load(
            base,
            &[Source::Path(path.to_path_buf())],
            &Limits::default(),
        ));
        assert!(
            e.message.contains("looks like a Helm template"),
            "{}: {e}",
            path.display()
        );
        // The line named is one a reader recognises as template syntax.
        let named = text
            .lines()
            .nth(e.line.saturating_sub(1) as usize)
            .unwrap_or("");
        assert!(
            named.contains("{{"),
            "{}: line {} is `{named}`",
            path.display(),
            e.line
        );
        templates += 1;
    }
    assert!(templates > 100, "{templates}");
}

#[test]
fn empty_base_dir_means_the_current_directory() {
    // cargo runs integration tests from the crate root.
    let inv = load_glob(Path::new(""), "tests/fixtures/inventory/apps/other/*.yml")
        .unwrap_or_else(|e| panic!("{e}"));
    let files: Vec<&str> = inv.objects.iter().map(|o| o.file.as_str()).collect();
    assert_eq!(files, ["tests/fixtures/inventory/apps/other/web.yml"]);
}
