//! Several meshes in one cluster (issue #14), from the command line: a spec of several
//! `Mesh` documents, the isolation rules (MP209, MP210, MP211, MP315), `--mesh`, per-mesh
//! facts, and the commit walk of one mesh leaving the other's files byte-identical. Runs on
//! `examples/tenants` (real podinfo and Bookinfo manifests) copied into real Git repositories.

use crate::common::{check_json, copy_tree, findings, git, root, run_in};
use std::path::Path;

const EXAMPLE: &str = "examples/tenants";
const CLUSTER: &str = "tenants-demo";

/// The example in a fresh repository on `main`, committed.
fn tenants_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join(EXAMPLE), d);
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "user.name", "Mesh Owner"]);
    git(d, &["config", "user.email", "owner@example.com"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "two tenant meshes"]);
    dir
}

/// Removes the deliberate overlap: `shared` stays in mesh-a only.
fn without_overlap(d: &Path) {
    let path = d.join("meshplan.yaml");
    let text = std::fs::read_to_string(&path).expect("spec");
    let b = text.find("name: mesh-b").expect("mesh-b document");
    let (a, rest) = text.split_at(b);
    let rest = rest.replacen("    - name: shared\n", "", 1);
    std::fs::write(&path, format!("{a}{rest}")).expect("write spec");
}

/// Writes `meshplan.yaml` in `d`.
fn write_spec(d: &Path, text: &str) {
    std::fs::write(d.join("meshplan.yaml"), text).expect("write spec");
}

/// A two-mesh spec with no manifests; `a` and `b` are extra lines of each `spec.istio`.
fn two_meshes(a: &str, b: &str) -> String {
    format!(
        "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: mesh-a\nspec:\n  \
         cluster: c1\n  kubernetesVersion: \"1.30\"\n  istio:\n    version: 1.26.8\n{a}  \
         namespaces: [{{name: team-a}}]\n  output: out/a\n---\n\
         apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: mesh-b\nspec:\n  \
         cluster: c1\n  kubernetesVersion: \"1.30\"\n  istio:\n    version: 1.26.8\n{b}  \
         namespaces: [{{name: team-b}}]\n  output: out/b\n"
    )
}

#[test]
fn spec_errors_across_documents_name_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let base = two_meshes("", "");
    let cases = [
        (
            base.replacen("  cluster: c1\n", "", 2),
            5,
            "`spec.cluster` is required when meshplan.yaml holds several meshes",
        ),
        (
            base.replacen("cluster: c1\n  kubernetesVersion: \"1.30\"\n  istio:\n    version: 1.26.8\n  namespaces: [{name: team-b}]", "cluster: c2\n  kubernetesVersion: \"1.30\"\n  istio:\n    version: 1.26.8\n  namespaces: [{name: team-b}]", 1),
            18,
            "`spec.cluster` must be the same in every mesh of the file: `c2` here, `c1` in mesh `mesh-a`",
        ),
        (
            base.replace("name: mesh-b", "name: mesh-a"),
            16,
            "mesh `mesh-a` is defined twice (first at line 4)",
        ),
        (
            base.replace("output: out/b", "output: ./out/a/"),
            23,
            "`spec.output` `./out/a/` is also the output of mesh `mesh-a`",
        ),
        (
            base.replace("version: 1.26.8\n  namespaces: [{name: team-b}]", "version: 1.26\n  namespaces: [{name: team-b}]"),
            21,
            "`spec.istio.version` must be an exact version",
        ),
    ];
    for (text, line, fragment) in cases {
        write_spec(d, &text);
        std::fs::create_dir_all(d.join("out")).expect("mkdir");
        let (code, out, err) = run_in(d, &["check"]);
        assert_eq!(code, 2, "{fragment}\n{out}{err}");
        assert!(
            err.contains(&format!("meshplan.yaml:{line}:")) && err.contains(fragment),
            "want line {line} and {fragment:?}, got: {err}"
        );
        assert!(!d.join("out/a").exists(), "nothing is written on exit 2");
    }
}

#[test]
fn mesh_selection_is_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    copy_tree(&root().join(EXAMPLE), d);
    let (code, _, err) = run_in(d, &["plan", "--mesh", "mesh-c"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--mesh mesh-c: the spec defines no such mesh (it defines mesh-a, mesh-b)"),
        "{err}"
    );
    // A JSON document describes one plan: several meshes need --mesh.
    let (code, _, err) = run_in(d, &["plan", "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("choose it with --mesh"), "{err}");
    // One --out directory or --branch cannot take every mesh's step.
    for args in [
        &["render", "--out", "preview"][..],
        &["commit", "--branch", "upgrade"][..],
    ] {
        let (code, _, err) = run_in(d, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("choose it with --mesh"), "{err}");
    }
    assert!(!d.join("preview").exists());
    let (code, out, err) = run_in(d, &["plan", "--format", "json", "--mesh", "mesh-b"]);
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).expect("plan JSON");
    assert_eq!(plan["from"], "1.24.6");
    assert_eq!(plan["to"], "1.26.8");
    // mesh-a is at its target: nothing to do, whatever mesh-b does.
    let (code, out, _) = run_in(d, &["plan", "--format", "json", "--mesh", "mesh-a"]);
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(&out).expect("plan JSON");
    assert_eq!(plan["steps"], serde_json::json!([]), "{plan}");
    // A single-mesh spec accepts its own name and refuses another.
    let (code, _, err) = run_in(
        &root().join("examples/bookinfo"),
        &["plan", "--mesh", "other"],
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run_in(
        &root().join("examples/bookinfo"),
        &["plan", "--mesh", "bookinfo-demo"],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_example_overlap_is_mp209_at_the_namespace_entry() {
    let (code, report) = check_json(&root().join(EXAMPLE));
    assert_eq!(code, 1);
    let overlap = findings(&report, "MP209");
    assert_eq!(
        overlap.len(),
        1,
        "reported once for the two meshes: {report}"
    );
    let d = overlap[0];
    assert_eq!(d["object"]["kind"], "Namespace");
    assert_eq!(d["object"]["name"], "shared");
    assert_eq!(d["file"], "meshplan.yaml");
    assert_eq!(d["line"], 22, "mesh-a's spec.namespaces entry");
    assert_eq!(d["step"], "mesh-a");
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("mesh-a (listed in spec.namespaces), mesh-b (listed")),
        "{d}"
    );
    // Each mesh's own findings name it in their step; no plan object for several plans.
    assert!(
        findings(&report, "MP303")
            .iter()
            .all(|d| d["step"] == "mesh-b/wave all"),
        "{report}"
    );
    assert!(report.get("plan").is_none_or(serde_json::Value::is_null));
    // Without the overlap, no isolation rule fires.
    let dir = tenants_repo();
    without_overlap(dir.path());
    let (code, report) = check_json(dir.path());
    assert_eq!(code, 0, "{report}");
    for rule in ["MP209", "MP210", "MP211", "MP315"] {
        assert!(findings(&report, rule).is_empty(), "{rule}: {report}");
    }
}

#[test]
fn discovery_selectors_that_select_another_mesh_overlap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // mesh-b discovers every namespace: an empty selector list matches all.
    let text = two_meshes(
        "    namespace: istio-a\n",
        "    namespace: istio-b\n    discoverySelectors: []\n",
    );
    write_spec(d, &text);
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let overlap = findings(&report, "MP209");
    assert_eq!(overlap.len(), 1, "{report}");
    assert_eq!(overlap[0]["object"]["name"], "team-a");
    assert!(
        overlap[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("mesh-b (selected by its discoverySelectors)")),
        "{report}"
    );
    // Selecting only its own label is fine.
    write_spec(
        d,
        &text.replace(
            "discoverySelectors: []",
            "discoverySelectors: [{matchLabels: {meshplan.dev/mesh: mesh-b}}]",
        ),
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn a_shared_control_plane_namespace_is_mp211() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Neither mesh names its control-plane namespace: both are istio-system.
    write_spec(d, &two_meshes("", ""));
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let clash = findings(&report, "MP211");
    assert_eq!(clash.len(), 1, "{report}");
    assert_eq!(clash[0]["object"]["name"], "istio-system");
    assert!(
        clash[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("more than one mesh: mesh-a, mesh-b")),
        "{report}"
    );
    // A control-plane namespace that is also a workload namespace.
    write_spec(
        d,
        &two_meshes("    namespace: team-a\n", "    namespace: istio-b\n"),
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let clash = findings(&report, "MP211");
    assert_eq!(clash.len(), 1, "{report}");
    assert_eq!(clash[0]["object"]["name"], "team-a");
}

#[test]
fn a_default_tag_in_two_meshes_is_cross_mesh_injection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    // Both meshes serve `default`: both tag webhooks match istio-injection=enabled (and
    // istio.io/rev=default) wherever it is set.
    write_spec(
        d,
        &two_meshes(
            "    namespace: istio-a\n    revisionTags: [default]\n",
            "    namespace: istio-b\n    revisionTags: [default]\n",
        ),
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let cross = findings(&report, "MP210");
    assert_eq!(cross.len(), 1, "{report}");
    assert!(
        cross[0]["message"].as_str().is_some_and(|m| m.contains(
            "revision or tag default is served by meshes mesh-a and mesh-b: both inject istio-injection=enabled"
        )),
        "{report}"
    );
    assert_eq!(cross[0]["line"], 11, "mesh-a's revisionTags: {report}");
    // mesh-b labels its namespace with mesh-a's revision: mesh-a's webhook injects it.
    write_spec(
        d,
        &two_meshes(
            "    namespace: istio-a\n",
            "    namespace: istio-b\n    revision: 1-26-8\n",
        ),
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let cross = findings(&report, "MP210");
    let named: Vec<&str> = cross.iter().filter_map(|d| d["message"].as_str()).collect();
    assert!(
        named.iter().any(|m| m.contains(
            "namespace team-b of mesh mesh-b would be injected by mesh mesh-a's revision 1-26-8"
        )),
        "{named:?}"
    );
    assert!(
        named
            .iter()
            .any(|m| m
                .contains("namespace team-a of mesh mesh-a would be injected by mesh mesh-b's")),
        "{named:?}"
    );
    // The tag in one mesh only: each mesh injects its own namespaces.
    write_spec(
        d,
        &two_meshes(
            "    namespace: istio-a\n    revisionTags: [default]\n",
            "    namespace: istio-b\n",
        ),
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 0, "{report}");
    assert!(findings(&report, "MP210").is_empty(), "{report}");
}

#[test]
fn revision_names_are_unique_across_the_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    write_spec(
        d,
        &two_meshes("    namespace: istio-a\n", "    namespace: istio-b\n"),
    );
    let plan = |mesh: &str| {
        let (code, out, err) = run_in(d, &["plan", "--format", "json", "--mesh", mesh]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).expect("plan JSON")
    };
    let (code, out, err) = run_in(d, &["facts", "--format", "json", "--mesh", "mesh-b"]);
    assert_eq!(code, 0, "{err}");
    let facts: serde_json::Value = serde_json::from_str(&out).expect("facts JSON");
    // The first mesh keeps the plain name, the second is prefixed.
    assert_eq!(
        facts["namespaces"][0]["revision"], "mesh-b-1-26-8",
        "{facts}"
    );
    assert_eq!(plan("mesh-a")["steps"][0]["name"], "install");
    let (_, out, _) = run_in(d, &["facts", "--format", "json", "--mesh", "mesh-a"]);
    let facts: serde_json::Value = serde_json::from_str(&out).expect("facts JSON");
    assert_eq!(facts["namespaces"][0]["revision"], "1-26-8", "{facts}");
}

#[test]
fn cluster_restart_budget_counts_every_mesh_next_step() {
    let dir = tenants_repo();
    let d = dir.path();
    without_overlap(d);
    // mesh-b's next step is its install (no restart); once committed, its wave restarts 6
    // workloads, more than a cluster budget of 3 even though mesh-a restarts nothing.
    let text = std::fs::read_to_string(d.join("meshplan.yaml")).expect("spec");
    write_spec(
        d,
        &text.replace("maxRestartsPerCluster: 10", "maxRestartsPerCluster: 3"),
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 0);
    assert!(findings(&report, "MP315").is_empty(), "{report}");
    let (code, _, err) = run_in(d, &["render", "--mesh", "mesh-b"]);
    assert_eq!(code, 0, "{err}");
    let (code, report) = check_json(d);
    assert_eq!(code, 0, "a warning: {report}");
    let budget = findings(&report, "MP315");
    assert_eq!(budget.len(), 1, "reported once: {report}");
    assert_eq!(budget[0]["severity"], "warn");
    assert!(
        budget[0]["message"].as_str().is_some_and(|m| m.contains(
            "restart 6 workloads together (mesh-b 6), more than maxRestartsPerCluster (3)"
        )),
        "{report}"
    );
    assert_eq!(budget[0]["file"], "meshplan.yaml");
}

#[test]
fn facts_name_the_mesh_of_each_namespace_and_workload() {
    let (code, out, err) = run_in(
        &root().join(EXAMPLE),
        &["facts", "--format", "json", "--mesh", "mesh-b"],
    );
    assert_eq!(code, 0, "{err}");
    let facts: serde_json::Value = serde_json::from_str(&out).expect("facts JSON");
    let ns: Vec<(String, String)> = facts["namespaces"]
        .as_array()
        .expect("namespaces")
        .iter()
        .map(|n| (n["name"].to_string(), n["mesh"].to_string()))
        .collect();
    assert_eq!(
        ns,
        [
            ("\"shared\"".to_string(), "\"mesh-b\"".to_string()),
            ("\"team-b\"".to_string(), "\"mesh-b\"".to_string())
        ]
    );
    assert!(
        facts["workloads"]
            .as_array()
            .expect("workloads")
            .iter()
            .all(|w| w["mesh"] == "mesh-b"),
        "{facts}"
    );
    // A single mesh's facts have no `mesh` field at all.
    let (code, out, _) = run_in(
        &root().join("examples/bookinfo"),
        &["facts", "--format", "json"],
    );
    assert_eq!(code, 0);
    let facts: serde_json::Value = serde_json::from_str(&out).expect("facts JSON");
    assert!(facts["namespaces"][0].get("mesh").is_none(), "{facts}");
    assert!(facts["workloads"][0].get("mesh").is_none(), "{facts}");
}

#[test]
fn committing_one_mesh_never_touches_the_other() {
    let dir = tenants_repo();
    let d = dir.path();
    without_overlap(d);
    git(d, &["commit", "-q", "-am", "shared belongs to mesh-a"]);
    let branch = format!("meshplan/{CLUSTER}/mesh-b");
    let mesh_a_files = git(d, &["ls-tree", "-r", "HEAD", "rendered/mesh-a"]);
    assert!(mesh_a_files.contains("meshplan.lock"), "{mesh_a_files}");
    let total = 3; // install, wave all, cleanup
    for (i, step) in ["install", "wave all", "cleanup"].iter().enumerate() {
        let (code, out, err) = run_in(d, &["commit", "--mesh", "mesh-b"]);
        assert_eq!(code, 0, "{step}: {err}");
        let n = format!("({}/{total})", i + 1);
        assert!(
            out.starts_with(&format!("committed step \"{step}\" {n} on {branch} as ")),
            "{out}"
        );
        let subject = git(d, &["log", "-1", "--format=%s", &branch]);
        assert_eq!(
            subject.trim(),
            format!("meshplan({CLUSTER}/mesh-b): {step} {n}")
        );
        // mesh-a's rendered files are byte-identical on the branch (same blobs).
        assert_eq!(
            git(d, &["ls-tree", "-r", &branch, "rendered/mesh-a"]),
            mesh_a_files,
            "after {step}"
        );
        let changed = git(d, &["diff", "--name-only", "main", &branch]);
        assert!(
            changed.lines().all(|f| f.starts_with("rendered/mesh-b/")),
            "{step} changed files outside mesh-b's output: {changed}"
        );
        if *step == "wave all" {
            // The wave restarts and relabels mesh-b's workloads and namespaces only.
            assert!(
                changed.contains("rendered/mesh-b/restarts/team-b/"),
                "{changed}"
            );
            assert!(!changed.contains("team-a"), "{changed}");
        }
    }
    let (code, out, _) = run_in(d, &["commit", "--mesh", "mesh-b"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("nothing to commit"), "{out}");
    // mesh-a has nothing to commit, and its branch is its own.
    let (code, out, err) = run_in(d, &["commit", "--mesh", "mesh-a"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("meshplan/{CLUSTER}/mesh-a")), "{out}");
    // mesh-b's lock on the branch records 1.26.8 only.
    let lock = git(
        d,
        &["show", &format!("{branch}:rendered/mesh-b/meshplan.lock")],
    );
    assert!(
        lock.contains("name: 1-26-8\n  version: \"1.26.8\""),
        "{lock}"
    );
    assert!(!lock.contains("mesh-b-1-24-6"), "{lock}");
    // The rendered istiod runs in mesh-b's namespace and discovers mesh-b's namespaces.
    let istiod = git(
        d,
        &[
            "show",
            &format!("{branch}:rendered/mesh-b/istio-system-b/istiod-1-26-8.yaml"),
        ],
    );
    assert!(istiod.contains("namespace: istio-system-b"), "{istiod}");
    assert!(
        istiod.contains("istioNamespace: istio-system-b"),
        "{istiod}"
    );
    assert!(
        istiod.contains(
            "discoverySelectors:\n        - matchLabels:\n            meshplan.dev/mesh: mesh-b"
        ),
        "{istiod}"
    );
    let ns = git(
        d,
        &[
            "show",
            &format!("{branch}:rendered/mesh-b/namespaces/team-b.yaml"),
        ],
    );
    assert!(ns.contains("meshplan.dev/mesh: mesh-b"), "{ns}");
    git(d, &["fsck", "--strict", "--no-progress"]);
}

#[test]
fn a_revision_two_meshes_serve_mid_upgrade_is_mp210() {
    let dir = tenants_repo();
    let d = dir.path();
    without_overlap(d);
    // mesh-a hops 1.24.6 -> 1.25.5 -> 1.26.8 (one minor per hop) and installs 1-25-5 on the
    // way; mesh-b moves to 1.25.5 and would install 1-25-5 too: their final revisions
    // differ, so only the names served along the plans show the collision.
    let text = std::fs::read_to_string(d.join("meshplan.yaml")).expect("spec");
    let b = text.find("name: mesh-b").expect("mesh-b document");
    let (a, rest) = text.split_at(b);
    write_spec(
        d,
        &format!(
            "{}{}",
            a.replacen("version: 1.24.6", "version: 1.26.8", 1),
            rest.replacen("version: 1.26.8", "version: 1.25.5", 1)
        ),
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let cross = findings(&report, "MP210");
    assert_eq!(cross.len(), 1, "{report}");
    assert!(
        cross[0]["message"].as_str().is_some_and(|m| m.contains(
            "revision or tag 1-25-5 is served by meshes mesh-a and mesh-b: both inject istio.io/rev=1-25-5"
        )),
        "{report}"
    );
}

#[test]
fn a_single_mesh_may_name_its_control_plane_namespace_and_selectors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let single = |istio: &str| {
        format!(
            "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata:\n  name: solo\nspec:\n  \
             kubernetesVersion: \"1.30\"\n  istio:\n    version: 1.26.8\n{istio}  \
             namespaces: [{{name: shop}}]\n"
        )
    };
    write_spec(d, &single("    namespace: mesh-system\n"));
    let (code, _, err) = run_in(d, &["render", "--step", "all", "--force"]);
    assert_eq!(code, 0, "{err}");
    let istiod = std::fs::read_to_string(d.join("rendered/mesh-system/istiod-1-26-8.yaml"))
        .expect("istiod in the named namespace");
    assert!(istiod.contains("istioNamespace: mesh-system"), "{istiod}");
    // A single mesh: no mesh label, and no selectors it did not ask for.
    assert!(!istiod.contains("discoverySelectors"), "{istiod}");
    assert!(!istiod.contains("meshplan.dev/mesh"), "{istiod}");
    assert!(d.join("rendered/namespaces/mesh-system.yaml").exists());
    std::fs::remove_dir_all(d.join("rendered")).expect("clean");
    write_spec(
        d,
        &single("    discoverySelectors: [{matchLabels: {team: shop}}]\n"),
    );
    let (code, _, err) = run_in(d, &["render", "--step", "all", "--force"]);
    assert_eq!(code, 0, "{err}");
    let istiod = std::fs::read_to_string(d.join("rendered/istio-system/istiod-1-26-8.yaml"))
        .expect("istiod in istio-system");
    assert!(
        istiod.contains("discoverySelectors:\n        - matchLabels:\n            team: shop"),
        "{istiod}"
    );
}

#[test]
fn a_pod_labelled_for_another_mesh_is_mp210() {
    let dir = tenants_repo();
    let d = dir.path();
    without_overlap(d);
    // mesh-b's manifests hold a Deployment in `batch`, a namespace no mesh labels, whose
    // pods ask for mesh-a's revision: mesh-a's webhook injects them.
    let deployment = |rev: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: report\n  namespace: batch\n\
             spec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: report}}\n  template:\n    \
             metadata:\n      labels: {{app: report, istio.io/rev: {rev}}}\n    spec:\n      \
             containers:\n      - name: report\n        image: ghcr.io/stefanprodan/podinfo:6.14.1\n"
        )
    };
    let path = d.join("apps/team-b/report.yaml");
    std::fs::write(&path, deployment("1-24-6")).expect("write");
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let cross = findings(&report, "MP210");
    assert_eq!(cross.len(), 1, "{report}");
    assert_eq!(cross[0]["object"]["kind"], "Deployment");
    assert_eq!(cross[0]["object"]["namespace"], "batch");
    assert_eq!(cross[0]["file"], "apps/team-b/report.yaml");
    assert!(
        cross[0]["message"].as_str().is_some_and(|m| m.contains(
            "workload Deployment/batch/report of mesh mesh-b would be injected by mesh mesh-a's revision 1-24-6"
        )),
        "{report}"
    );
    // Asking for its own mesh's revision is fine.
    std::fs::write(&path, deployment("1-26-8")).expect("write");
    let (code, report) = check_json(d);
    assert!(findings(&report, "MP210").is_empty(), "{report}");
    assert_eq!(code, 0, "{report}");
}
