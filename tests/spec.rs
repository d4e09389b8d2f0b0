//! The spec loader through its public API: bad specs fail with the right message at the
//! right line and column; good specs load with the documented defaults.

use meshplan::spec::{self, Delivery, NativeSidecars, RuleSetting, Spec, SpecError, Strategy};
use std::path::Path;

const BASE: &str = "apiVersion: meshplan.dev/v1alpha1
kind: Mesh
metadata:
  name: prod-eu-1
spec:
  kubernetesVersion: \"1.30\"
  istio:
    version: 1.24.3
";

fn parse(yaml: &str) -> Result<Spec, SpecError> {
    spec::parse(Path::new("meshplan.yaml"), yaml)
}

fn parse_err(yaml: &str) -> SpecError {
    match parse(yaml) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e,
    }
}

/// (case, document, line, column, expected message fragment)
fn bad_cases() -> Vec<(&'static str, String, u64, u64, &'static str)> {
    let with = |extra: &str| format!("{BASE}{extra}");
    vec![
        (
            "unknown field with suggestion",
            BASE.replace("  kubernetesVersion:", "  kubernetsVersion:"),
            6,
            3,
            "unknown field `kubernetsVersion`, did you mean `kubernetesVersion`?",
        ),
        (
            "unknown field without a close match",
            with("  colour: blue\n"),
            9,
            3,
            "unknown field `colour`, expected one of `kubernetesVersion`, `istio`",
        ),
        (
            "wrong type for a bool",
            with("  upgrade:\n    allowDowngrade: [true]\n"),
            10,
            21,
            "expected a single value (string, number or boolean), found a sequence or mapping",
        ),
        (
            "wrong type for a string",
            with("  output: {dir: x}\n"),
            9,
            11,
            "expected a single value",
        ),
        (
            "unknown enum value with suggestion",
            BASE.replace(
                "    version: 1.24.3\n",
                "    version: 1.24.3\n    delivery: flux-helmm\n",
            ),
            9,
            15,
            "unknown value `flux-helmm`, did you mean `flux-helm`?",
        ),
        (
            "missing required field",
            BASE.replace("    version: 1.24.3\n", "    delivery: flux-helm\n"),
            8,
            5,
            "missing field `version`",
        ),
        (
            "wrong apiVersion",
            BASE.replace("meshplan.dev/v1alpha1", "meshplan.dev/v1"),
            1,
            13,
            "`apiVersion` must be `meshplan.dev/v1alpha1`, found `meshplan.dev/v1`",
        ),
        (
            "wrong kind",
            BASE.replace("kind: Mesh", "kind: Mash"),
            2,
            7,
            "`kind` must be `Mesh`, found `Mash`",
        ),
        (
            "cluster name not a DNS label",
            BASE.replace("prod-eu-1", "Prod_EU"),
            4,
            9,
            "`metadata.name` must be a DNS-1123 label",
        ),
        (
            "istio version not exact",
            BASE.replace("1.24.3", "1.24"),
            8,
            14,
            "`spec.istio.version` must be an exact version `X.Y.Z` such as 1.24.3, found `1.24`",
        ),
        (
            "kubernetes version with a patch",
            BASE.replace("\"1.30\"", "\"1.30.2\""),
            6,
            22,
            "`spec.kubernetesVersion` must be a minor version `X.Y`",
        ),
        (
            "compatibilityVersion not X.Y",
            with("    config:\n      compatibilityVersion: \"1.23.0\"\n"),
            10,
            29,
            "`spec.istio.config.compatibilityVersion` must be a minor version",
        ),
        (
            "not a boolean",
            with("  upgrade:\n    allowDowngrade: maybe\n"),
            10,
            21,
            "expected a boolean (true or false), found `maybe`",
        ),
        (
            "a mapping written as a sequence",
            with("  upgrade: [revision, 2]\n"),
            9,
            12,
            "expected a mapping (`key: value` entries) here",
        ),
        (
            "a sequence written as a scalar",
            with("  policies: policies\n"),
            9,
            13,
            "expected a sequence",
        ),
        (
            "maxMinorSkip out of range",
            with("  upgrade:\n    maxMinorSkip: 3\n"),
            10,
            19,
            "`spec.upgrade.maxMinorSkip` must be 1 or 2",
        ),
        (
            "maxRevisions zero",
            with("  upgrade:\n    maxRevisions: 0\n"),
            10,
            19,
            "`spec.upgrade.maxRevisions` must be at least 1",
        ),
        (
            "negative number",
            with("  upgrade:\n    maxRestartsPerStep: -1\n"),
            10,
            25,
            "expected a non-negative integer, found `-1`",
        ),
        (
            "duplicate wave",
            with("  upgrade:\n    waves:\n      - name: canary\n      - name: canary\n"),
            12,
            15,
            "duplicate wave name `canary` (first used on line 11)",
        ),
        (
            "reserved wave name",
            with("  upgrade:\n    waves:\n      - name: unlisted\n"),
            11,
            15,
            "wave name `unlisted` is reserved for the namespaces no wave lists",
        ),
        (
            "empty wave name",
            with("  upgrade:\n    waves:\n      - name: \"\"\n"),
            11,
            15,
            "wave name must not be empty",
        ),
        (
            "namespace in two waves",
            with(
                "  upgrade:\n    waves:\n      - {name: a, namespaces: [shop]}\n      - {name: b, namespaces: [web, shop]}\n",
            ),
            12,
            37,
            "namespace `shop` is already in wave `a`",
        ),
        (
            "wave namespace not a DNS label",
            with("  upgrade:\n    waves:\n      - {name: a, namespaces: [Shop]}\n"),
            11,
            32,
            "namespace must be a DNS-1123 label",
        ),
        (
            "duplicate namespace",
            with("  namespaces:\n    - name: shop\n    - name: shop\n"),
            11,
            13,
            "namespace `shop` is listed twice (first on line 10)",
        ),
        (
            "namespace not a DNS label",
            with("  namespaces:\n    - name: Shop\n"),
            10,
            13,
            "namespace name must be a DNS-1123 label",
        ),
        (
            "manifest glob escaping the repository",
            with("  manifests:\n    - \"apps/*.yaml\"\n    - \"../other/**/*.yaml\"\n"),
            11,
            7,
            "manifest glob `../other/**/*.yaml` must not leave the spec's directory with `..`",
        ),
        (
            "manifest entry path escaping the repository",
            with("  manifests:\n    - {path: \"a/../../b/*.yaml\", namespace: shop}\n"),
            10,
            14,
            "must not leave the spec's directory",
        ),
        (
            "manifest entry of the wrong shape",
            with("  manifests:\n    - [a, b]\n"),
            10,
            7,
            "expected a glob string or a mapping `{path, namespace}`",
        ),
        (
            "absolute output",
            with("  output: /var/rendered\n"),
            9,
            11,
            "`spec.output` `/var/rendered` must be relative to the spec's directory, not absolute",
        ),
        (
            "policy directory escaping",
            with("  policies: [policies, ../../etc]\n"),
            9,
            24,
            "policy directory `../../etc` must not leave",
        ),
        (
            "rule setting typo",
            with("  rules: {MP301: deni}\n"),
            9,
            18,
            "unknown value `deni`, did you mean `deny`?",
        ),
        (
            "rule code shape",
            with("  rules: {mp301: off}\n"),
            9,
            11,
            "rule code `mp301` must be uppercase letters then digits",
        ),
        (
            "exception object shape",
            with(
                "  exceptions:\n    - rule: MP301\n      object: deployment/shop\n      reason: r\n      expires: 2027-01-31\n",
            ),
            11,
            15,
            "`object` must be `Kind/namespace/name` or `Kind/name`",
        ),
        (
            "exception expiry not a real date",
            with(
                "  exceptions:\n    - rule: MP301\n      object: Deployment/shop/cart\n      reason: r\n      expires: 2027-02-30\n",
            ),
            13,
            16,
            "`expires` must be a date `YYYY-MM-DD`, found `2027-02-30`",
        ),
        (
            "not a mapping",
            "- a\n- b\n".to_string(),
            1,
            1,
            "expected a mapping with `apiVersion`",
        ),
        (
            "empty document",
            "# nothing\n".to_string(),
            1,
            1,
            "the spec is empty",
        ),
    ]
}

#[test]
fn bad_specs_fail_with_message_line_and_column() {
    let mut failures = Vec::new();
    for (name, yaml, line, column, fragment) in bad_cases() {
        match parse(&yaml) {
            Ok(_) => failures.push(format!("{name}: parsed without error")),
            Err(e) => {
                if (e.line, e.column) != (line, column) || !e.message.contains(fragment) {
                    failures.push(format!(
                        "{name}: got {}:{} {:?}, want {line}:{column} containing {fragment:?}",
                        e.line, e.column, e.message
                    ));
                }
                // House style: messages start lowercase (or with a quoted name) and do not end
                // with a period.
                let first = e.message.chars().next().unwrap_or(' ');
                if first.is_uppercase() || e.message.ends_with('.') {
                    failures.push(format!("{name}: message style: {:?}", e.message));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn malformed_yaml_is_located() {
    let cases: Vec<(String, u64, u64, &str)> = vec![
        (
            BASE.replace("metadata:\n  name: prod-eu-1\n", "metadata: {name: a\n"),
            4,
            5,
            "while parsing a flow mapping, did not find expected ',' or '}'",
        ),
        (
            "apiVersion: a\n  kind: Mesh\n".to_string(),
            2,
            7,
            "mapping values are not allowed in this context",
        ),
        (
            format!("{BASE}  output: \"rendered\n"),
            9,
            11,
            "unclosed quote",
        ),
        (
            format!("{BASE}  namespaces:\n\t- name: a\n"),
            10,
            2,
            "tabs disallowed",
        ),
        (
            BASE.replace("kind: Mesh\n", "kind: Mesh\nkind: Mesh\n"),
            3,
            1,
            "duplicate mapping key `kind`",
        ),
        (
            format!("{BASE}---\n{BASE}"),
            9,
            1,
            "the spec must be a single YAML document",
        ),
        (String::new(), 1, 1, "the spec is empty"),
    ];
    for (yaml, line, column, fragment) in cases {
        let e = parse_err(&yaml);
        assert_eq!(e.path, Path::new("meshplan.yaml"));
        assert_eq!((e.line, e.column), (line, column), "{e}");
        assert!(e.message.contains(fragment), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("meshplan.yaml:{line}:{column}: ")),
            "{e}"
        );
    }
}

#[test]
fn alias_bomb_is_refused() {
    // "Billion laughs": nine levels of nine aliases would expand to 9^9 nodes.
    let mut yaml = String::from("a0: &a0 [\"lol\"]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        yaml.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let e = parse_err(&yaml);
    assert!(e.message.contains("safety limits"), "{e}");
    assert!(e.message.contains("more than 200000 nodes"), "{e}");
    // Refused where the expansion crosses the budget: at a use of the anchor.
    assert_eq!((e.line, e.column), (7, 10), "{e}");
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let flow = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let e = parse_err(&flow);
    assert_eq!(e.line, 1, "{e}");
    assert!(e.message.contains("safety limits (nesting"), "{e}");

    let mut block = String::new();
    for depth in 0..200 {
        block.push_str(&" ".repeat(depth));
        block.push_str("a:\n");
    }
    let e = parse_err(&block);
    assert!(e.message.contains("nesting deeper than 32 levels"), "{e}");
    // Refused at the first level past the limit (line 33 holds the 33rd mapping's key).
    assert_eq!(e.line, 33, "{e}");

    // Within the limit, deep Helm values load.
    let mut values = format!("{BASE}    values:\n");
    for depth in 0..25 {
        values.push_str(&" ".repeat(6 + 2 * depth));
        values.push_str(&format!("k{depth}:\n"));
    }
    values.push_str(&" ".repeat(56));
    values.push_str("leaf: 1\n");
    let s = parse(&values).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.spec.istio.values.contains_key("k0"));
}

#[test]
fn non_utf8_file_is_located() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("meshplan.yaml");
    std::fs::write(
        &path,
        b"apiVersion: meshplan.dev/v1alpha1\nkind: M\xffesh\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let e = match spec::load(&path) {
        Ok(_) => panic!("non-UTF-8 accepted"),
        Err(e) => e,
    };
    assert_eq!((e.line, e.column), (2, 8), "{e}");
    assert!(e.message.contains("not valid UTF-8"), "{e}");
    assert_eq!(e.path, path);
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let e = match spec::load(Path::new("/nonexistent/meshplan.yaml")) {
        Ok(_) => panic!("loaded a missing file"),
        Err(e) => e,
    };
    assert!(e.message.starts_with("cannot read spec"), "{e}");
    assert!(e.to_string().contains("/nonexistent/meshplan.yaml"));
}

#[test]
fn minimal_spec_gets_documented_defaults() {
    let s = parse(BASE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.metadata.name, "prod-eu-1");
    assert_eq!(s.spec.kubernetes_version, "1.30");
    assert_eq!(s.spec.istio.version, "1.24.3");
    assert_eq!(s.spec.istio.delivery, Delivery::FluxHelm);
    assert_eq!(
        s.spec.istio.chart_repository,
        "https://istio-release.storage.googleapis.com/charts"
    );
    assert!(s.spec.istio.config.prometheus_merge);
    assert_eq!(s.spec.istio.config.native_sidecars, NativeSidecars::Auto);
    assert_eq!(s.spec.upgrade.strategy, Strategy::Revision);
    assert_eq!(s.spec.upgrade.max_minor_skip, 1);
    assert_eq!(s.spec.upgrade.max_revisions, 2);
    assert_eq!(s.spec.upgrade.max_restarts_per_step, 200);
    assert!(!s.spec.upgrade.allow_downgrade);
    assert_eq!(s.spec.output, "rendered");
    assert!(s.spec.manifests.is_empty() && s.spec.rules.is_empty());
    assert_eq!(s.revision(), "1-24-3");
}

#[test]
fn scalars_resolve_as_kubectl_does() {
    // Unquoted 1.30 must stay "1.30" (a float would make it 1.3).
    let unquoted = parse(&BASE.replace("\"1.30\"", "1.30")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(unquoted.spec.kubernetes_version, "1.30");
    let quoted = parse(&BASE.replace("\"1.30\"", "'1.30'")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(quoted.spec.kubernetes_version, "1.30");
    let compat = parse(&format!(
        "{BASE}    config:\n      compatibilityVersion: 1.20\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        compat.spec.istio.config.compatibility_version.as_deref(),
        Some("1.20")
    );

    // YAML 1.1 booleans for bool fields.
    let yes = parse(&format!(
        "{BASE}    config:\n      prometheusMerge: no\n  upgrade:\n    allowDowngrade: yes\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(!yes.spec.istio.config.prometheus_merge);
    assert!(yes.spec.upgrade.allow_downgrade);
    let on = parse(&format!("{BASE}  upgrade:\n    allowDowngrade: on\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(on.spec.upgrade.allow_downgrade);
    let off = parse(&format!("{BASE}  upgrade:\n    allowDowngrade: off\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!off.spec.upgrade.allow_downgrade);

    // An unquoted date is a string for a string field.
    let ex = parse(&format!(
        "{BASE}  exceptions:\n    - {{rule: MP301, object: Deployment/shop/cart, reason: r, expires: 2027-01-31}}\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ex.spec.exceptions.first().map(|e| e.expires.as_str()),
        Some("2027-01-31")
    );
}

/// The example spec of DESIGN.md, verbatim.
const DESIGN_EXAMPLE: &str = r#"apiVersion: meshplan.dev/v1alpha1
kind: Mesh
metadata:
  name: prod-eu-1                  # the cluster; appears in output paths and commit messages
spec:
  kubernetesVersion: "1.30"        # minor version of the target cluster
  istio:
    version: 1.24.3                # desired control-plane version (exact patch)
    delivery: flux-helm            # flux-helm | argocd-helm | istio-operator
    chartRepository: https://istio-release.storage.googleapis.com/charts
    hub: docker.io/istio           # optional image hub
    values: {}                     # extra istiod Helm values, deep-merged over meshplan's
    config:                        # settings whose change restarts workloads
      prometheusMerge: true
      compatibilityVersion: null   # e.g. "1.23"
      numTrustedProxies: 0
      nativeSidecars: auto         # auto (Istio >= 1.27 on K8s >= 1.33) | enabled | disabled
  upgrade:
    strategy: revision             # revision (canary) | in-place
    maxMinorSkip: 1
    maxRevisions: 2
    maxRestartsPerStep: 200
    allowDowngrade: false
    waves:                         # order in which namespaces move; unlisted ones go last
      - name: canary
        namespaces: [bookinfo-canary]
      - name: rest
        namespaceSelector: {matchLabels: {mesh: enabled}}
  gateways:
    - name: ingress
      namespace: istio-ingress
      strategy: blue-green         # blue-green | in-place
      service:                     # the separately owned traffic Service
        type: LoadBalancer
        ports: [{name: http2, port: 80, targetPort: 80}]
  namespaces:                      # namespaces in the mesh
    - name: bookinfo
      labels: {mesh: enabled}
  manifests:                       # the workloads' manifests, globs relative to this file;
    - "apps/**/*.yaml"             # objects without a namespace get the entry's namespace,
    - {path: "vendor/bookinfo/*.yaml", namespace: bookinfo}   # else `default`
  output: rendered                 # where rendered files and meshplan.lock go
  policies: []                     # extra Rego policy directories
  rules: {}                        # per-rule overrides, e.g. {MP313: off, MP303: deny}
  exceptions:                      # waivers
    - rule: MP301
      object: Deployment/bookinfo/details
      reason: single replica by design
      expires: 2027-01-31
"#;

#[test]
fn design_example_loads() {
    let s = parse(DESIGN_EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.spec.istio.hub.as_deref(), Some("docker.io/istio"));
    assert_eq!(s.spec.upgrade.waves.len(), 2);
    let rest = s
        .spec
        .upgrade
        .waves
        .get(1)
        .and_then(|w| w.namespace_selector.as_ref());
    assert_eq!(
        rest.and_then(|sel| sel.match_labels.get("mesh"))
            .map(String::as_str),
        Some("enabled")
    );
    let ports = s
        .spec
        .gateways
        .first()
        .map(|g| g.service.ports.clone())
        .expect("the spec has a gateway");
    assert_eq!(
        ports.first().map(|p| (p.port, p.target_port)),
        Some((80, Some(80)))
    );
    let manifests: Vec<(&str, Option<&str>)> = s
        .spec
        .manifests
        .iter()
        .map(|m| (m.path(), m.namespace()))
        .collect();
    assert_eq!(
        manifests,
        [
            ("apps/**/*.yaml", None),
            ("vendor/bookinfo/*.yaml", Some("bookinfo"))
        ]
    );
    assert_eq!(
        s.spec.exceptions.first().map(|e| e.expires.as_str()),
        Some("2027-01-31")
    );
}

#[test]
fn rules_overrides_parse() {
    let s = parse(&format!(
        "{BASE}  rules: {{MP313: off, MP303: deny, ACME1: warn}}\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.spec.rules.get("MP313"), Some(&RuleSetting::Off));
    assert_eq!(s.spec.rules.get("ACME1"), Some(&RuleSetting::Warn));
}

#[test]
fn invalid_revision_names_are_left_to_mp205() {
    let s = parse(&format!(
        "{BASE}    revision: Not_A_Label\n    revisionTags: [Bad_Tag]\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.revision(), "Not_A_Label");
}

#[test]
fn starter_parses_and_documents_the_defaults() {
    let s = parse(spec::starter_yaml()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.metadata.name, "prod-eu-1");
    assert_eq!(s.spec.istio.version, "1.24.6");
    assert_eq!(s.spec.kubernetes_version, "1.30");
    assert_eq!(s.spec.istio.delivery, Delivery::FluxHelm);
    assert_eq!(s.spec.upgrade.waves.len(), 2);
    assert_eq!(s.spec.gateways.len(), 1);
    // Every value the starter spells out equals the default the loader would apply: the
    // starter with its explicit defaults and BASE-style omission must agree.
    let defaults = parse(&BASE.replace("1.24.3", "1.24.6")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.spec.istio.config, defaults.spec.istio.config);
    assert_eq!(
        s.spec.istio.chart_repository,
        defaults.spec.istio.chart_repository
    );
    let mut upgrade = s.spec.upgrade.clone();
    upgrade.waves.clear();
    assert_eq!(upgrade, defaults.spec.upgrade);
    assert_eq!(s.spec.output, defaults.spec.output);
    // And it round-trips: serialise the parsed spec to YAML and load it again.
    let yaml = serde_saphyr::to_string(&s).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}")), s);
}

#[test]
fn schema_is_printable_and_accepts_the_examples() {
    let schema = spec::json_schema();
    let text = serde_json::to_string_pretty(&schema).expect("serializes to JSON");
    assert!(text.contains("kubernetesVersion"));
    for doc in [DESIGN_EXAMPLE, spec::starter_yaml()] {
        let s = parse(doc).unwrap_or_else(|e| panic!("{e}"));
        let json = serde_json::to_value(&s).expect("serializes to JSON");
        assert_eq!(spec::schema::validate_value(&json), Ok(vec![]));
    }
}

#[test]
fn schema_rejects_what_the_semantic_checks_reject() {
    // The schema editors see and the loader must agree: every semantic rule the schema can
    // express rejects the same document there too (real dates, uniqueness and paths are
    // beyond JSON Schema and stay in the loader only).
    let expressible = [
        "wrong apiVersion",
        "wrong kind",
        "cluster name not a DNS label",
        "istio version not exact",
        "kubernetes version with a patch",
        "compatibilityVersion not X.Y",
        "maxMinorSkip out of range",
        "maxRevisions zero",
        "namespace not a DNS label",
        "wave namespace not a DNS label",
        "rule code shape",
        "exception object shape",
    ];
    let cases = bad_cases();
    for name in expressible {
        let (_, yaml, ..) = cases
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("no case {name}"));
        // Typed without the loader's checks, then judged by the schema alone.
        let typed: Spec = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{name}: {e}"));
        let json = serde_json::to_value(&typed).expect("serializes to JSON");
        let errors = spec::schema::validate_value(&json).unwrap_or_else(|e| panic!("{e}"));
        assert!(!errors.is_empty(), "{name}: the schema accepts it");
    }
}
