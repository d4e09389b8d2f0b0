//! The hand-over walked end to end, as a team would: the running mesh committed on `main`,
//! `check` (MP207, MP314) → `adopt` → `plan` → `commit` of every step, each merged into
//! `main` as its pull request would be, without `--force`. When a step is refused because
//! a committed sidecar still talks to the revision it removes (MP202), the user re-injects
//! it as `istioctl kube-inject --revision` of the new revision would (new `proxyv2` tag, new
//! revision in `sidecar.istio.io/status`), merges that, and commits the step again.
//! After every merge: no `base` release of the repository is gone unless one of the same
//! name came in the same commit, and real Helm renders every committed release.
//!
//! Three installs: Flux HelmReleases (`tests/fixtures/adopt/flux`), an IstioOperator, and
//! `helm template` output of the real istiod chart committed as it is.

// A panic is how a test fails: unwrapping here reports the broken expectation.
#![allow(clippy::unwrap_used)]

use crate::common::{check_json, copy_tree, findings, git, root, run_in as run, shared_data, tool};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// One step's commit once merged into `main`.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    /// `git show --name-status` lines of the merged commit.
    pub changes: Vec<String>,
    /// Its commit message.
    pub message: String,
}

impl Merged {
    /// The changed paths outside `rendered/`, as `git show --name-status` lines.
    pub fn outside(&self) -> Vec<&str> {
        self.changes
            .iter()
            .map(String::as_str)
            .filter(|l| !l.contains("\trendered/"))
            .collect()
    }
}

/// A copy of the Flux fixture in a fresh temporary directory.
pub(crate) fn flux_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures/adopt/flux"), dir.path());
    dir
}

/// `d` made a Git repository whose `main` holds the running mesh as it is.
pub(crate) fn init_repo(d: &Path) {
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "user.name", "Mesh Owner"]);
    git(d, &["config", "user.email", "owner@example.com"]);
    git(d, &["add", "-A"]);
    git(
        d,
        &[
            "commit",
            "-q",
            "-m",
            "Istio as the platform team installed it",
        ],
    );
}

/// Adopts, then commits and merges every step of the plan without `--force`, re-injecting
/// a committed sidecar when (and only when) a step is refused for it. Returns the merged
/// steps and the workloads re-injected.
pub(crate) fn walk(d: &Path) -> (Vec<Merged>, Vec<String>) {
    let (code, out, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{out}{err}");
    let mut merged: Vec<Merged> = Vec::new();
    let mut reinjected = Vec::new();
    let mut bases = base_releases(d, "main");
    loop {
        let (mut code, mut out, mut err) = run(d, &["commit"]);
        if code == 1 {
            // Refused: only because a committed sidecar still talks to the revision the
            // step removes, and the finding says how to re-inject it.
            let denied: Vec<&str> = out
                .lines()
                .chain(err.lines())
                .filter(|l| l.starts_with("deny["))
                .collect();
            assert!(!denied.is_empty(), "{out}{err}");
            for line in &denied {
                let key = line
                    .strip_prefix("deny[MP202]: this step removes revision ")
                    .and_then(|rest| rest.split_once(", but the committed sidecar of "))
                    .and_then(|(_, rest)| rest.strip_suffix(" still talks to it"))
                    .unwrap_or_else(|| panic!("refused for another reason: {denied:?}"));
                let revision = format!("{out}{err}")
                    .split("istioctl kube-inject --revision ")
                    .nth(1)
                    .and_then(|rest| rest.split('`').next())
                    .map(str::to_string)
                    .unwrap_or_else(|| panic!("no re-injection hint: {out}{err}"));
                assert!(
                    !reinjected.contains(&key.to_string()),
                    "{key} refused again after its re-injection: {out}"
                );
                reinject(d, key, &revision);
                reinjected.push(key.to_string());
            }
            (code, out, err) = run(d, &["commit"]);
        }
        assert_eq!(code, 0, "{out}{err}");
        if out.starts_with("nothing to commit") {
            return (merged, reinjected);
        }
        assert!(merged.len() < 20, "the plan never ends: {out}");
        // The lock adopt wrote into the checkout arrives on main with the first step.
        if merged.is_empty() {
            std::fs::remove_file(d.join("rendered/meshplan.lock")).unwrap();
        }
        let branch = out
            .split(" on ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("no branch in {out}"));
        git(d, &["merge", "-q", "--ff-only", branch]);
        let changes = git(d, &["show", "--name-status", "--format=", "main"]);
        let after = base_releases(d, "main");
        let lost: Vec<&String> = bases.difference(&after).collect();
        assert!(
            lost.is_empty(),
            "step {} removes the base release {lost:?} without adding one of the same name:\n{changes}",
            merged.len() + 1
        );
        bases = after;
        helm_renders_every_release(d);
        merged.push(Merged {
            changes: changes.lines().map(str::to_string).collect(),
            message: git(d, &["log", "-1", "--format=%B", "main"]),
        });
    }
}

/// Edits the committed sidecar of `key` (`Kind/namespace/name`) as `istioctl kube-inject
/// --revision <revision>` would leave it: the `proxyv2` images on the revision's version
/// (from the lock on main), its status annotation naming the revision. Merged into main as
/// the user's own pull request.
fn reinject(d: &Path, key: &str, revision: &str) {
    let lock: Value =
        serde_saphyr::from_str(&git(d, &["show", "main:rendered/meshplan.lock"])).unwrap();
    let version = lock["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == revision)
        .and_then(|r| r["version"].as_str())
        .unwrap_or_else(|| panic!("revision {revision} is not installed: {lock}"))
        .to_string();
    let name = key.rsplit('/').next().unwrap();
    let file = format!("apps/shop/{name}.yaml");
    let path = d.join(&file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut edited = String::new();
    for line in text.split_inclusive('\n') {
        if let Some((head, _)) = line.split_once("proxyv2:") {
            edited.push_str(&format!("{head}proxyv2:{version}\n"));
        } else if line.contains("sidecar.istio.io/status") {
            let (head, tail) = line.split_once("\"revision\":\"").unwrap();
            let rest = tail.split_once('"').unwrap().1;
            edited.push_str(&format!("{head}\"revision\":\"{revision}\"{rest}"));
        } else {
            edited.push_str(line);
        }
    }
    assert_ne!(edited, text, "nothing to re-inject in {file}");
    std::fs::write(&path, edited).unwrap();
    git(d, &["add", &file]);
    git(
        d,
        &[
            "commit",
            "-q",
            "-m",
            &format!("Re-inject {key} with istioctl kube-inject --revision {revision}"),
        ],
    );
}

/// `Kind/namespace/name` of every `base` chart release (Flux HelmRelease or Argo CD
/// Application) in the YAML files of commit `rev`.
pub(crate) fn base_releases(d: &Path, rev: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for path in git(d, &["ls-tree", "-r", "--name-only", rev]).lines() {
        if !path.ends_with(".yaml") {
            continue;
        }
        let text = git(d, &["show", &format!("{rev}:{path}")]);
        let Ok(docs) = serde_saphyr::from_multiple::<Value>(&text) else {
            continue;
        };
        for doc in docs {
            let chart = match doc["kind"].as_str() {
                Some("HelmRelease") => doc.pointer("/spec/chart/spec/chart"),
                Some("Application") => doc.pointer("/spec/source/chart"),
                _ => None,
            };
            if chart.and_then(Value::as_str) == Some("base") {
                out.insert(format!(
                    "{}/{}/{}",
                    doc["kind"].as_str().unwrap_or(""),
                    doc["metadata"]["namespace"].as_str().unwrap_or(""),
                    doc["metadata"]["name"].as_str().unwrap_or("")
                ));
            }
        }
    }
    out
}

/// `helm template` (the real Helm, the real Istio charts of `../shared/data`) of every
/// HelmRelease of Istio's charts in the checkout, the user's and meshplan's: each must
/// render. Returns how many did.
pub(crate) fn helm_renders_every_release(d: &Path) -> usize {
    let mut rendered = 0;
    for entry in walkdir::WalkDir::new(d)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .filter(|e| !e.path().to_string_lossy().contains("/.git/"))
    {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let Ok(docs) = serde_saphyr::from_multiple::<Value>(&text) else {
            continue;
        };
        for doc in docs.iter().filter(|d| d["kind"] == "HelmRelease") {
            let spec = &doc["spec"]["chart"]["spec"];
            let (Some(chart), Some(version)) = (spec["chart"].as_str(), spec["version"].as_str())
            else {
                continue;
            };
            let values = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(
                values.path(),
                serde_json::to_string(&doc["spec"]["values"]).unwrap(),
            )
            .unwrap();
            let out = std::process::Command::new(tool("helm"))
                .args(["template", doc["metadata"]["name"].as_str().unwrap()])
                .arg(shared_data().join(format!("istio-charts/{version}/{chart}")))
                .args(["-n", doc["metadata"]["namespace"].as_str().unwrap(), "-f"])
                .arg(values.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "helm template of {} ({chart} {version}) in {}: {}",
                doc["metadata"]["name"],
                entry.path().display(),
                String::from_utf8_lossy(&out.stderr)
            );
            rendered += 1;
        }
    }
    rendered
}

/// `helm template` of one real Istio chart, as a user would commit it.
fn helm_template(release: &str, chart: &str, version: &str, values: &[&str]) -> String {
    let mut cmd = std::process::Command::new(tool("helm"));
    cmd.args(["template", release])
        .arg(shared_data().join(format!("istio-charts/{version}/{chart}")))
        .args(["-n", "istio-system"]);
    for v in values {
        cmd.args(["--set", v]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "helm template {chart}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The fixture with `apps/istio` replaced by `files` (path below `apps/istio`, text).
fn with_install(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = flux_fixture();
    let d = dir.path();
    std::fs::remove_dir_all(d.join("apps/istio")).unwrap();
    std::fs::create_dir_all(d.join("apps/istio")).unwrap();
    for (name, text) in files {
        std::fs::write(d.join("apps/istio").join(name), text).unwrap();
    }
    dir
}

/// `(rule, Kind/namespace/name)` of a JSON report's diagnostics.
fn rules_on(report: &Value) -> Vec<(String, String)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let o = &d["object"];
            (
                d["rule"].as_str().unwrap().to_string(),
                format!(
                    "{}/{}/{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["namespace"].as_str().unwrap_or(""),
                    o["name"].as_str().unwrap_or("")
                ),
            )
        })
        .collect()
}

/// The commit of main whose subject names step `step` (`meshplan(…): <step> (n/m)`).
fn step_commit(d: &Path, step: &str) -> String {
    let id = git(
        d,
        &[
            "log",
            "-1",
            "--format=%H",
            "--grep",
            &format!(": {step} ("),
            "main",
        ],
    );
    assert!(!id.trim().is_empty(), "no commit of step {step}");
    id.trim().to_string()
}

/// The plan as `plan --format json` prints it.
fn plan(d: &Path) -> Value {
    let (code, out, err) = run(d, &["plan", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn a_flux_installed_mesh_is_handed_over_pull_request_by_pull_request() {
    let dir = flux_fixture();
    let d = dir.path();
    init_repo(d);
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let found = rules_on(&report);
    assert!(found.contains(&("MP207".into(), "HelmRelease/istio-system/istiod".into())));
    assert!(found.contains(&("MP314".into(), "Deployment/shop/cart".into())));
    let before = base_releases(d, "main");
    assert_eq!(
        before,
        BTreeSet::from(["HelmRelease/istio-system/istio-base".to_string()])
    );
    let (merged, reinjected) = walk(d);
    assert_eq!(merged.len(), 3, "install, wave, cleanup: {merged:?}");
    // The committed sidecar is re-injected once, when the cleanup asks for it.
    assert_eq!(reinjected, ["Deployment/shop/cart"]);

    // install: meshplan's revision beside the adopted one, and the base release and its
    // HelmRepository taken over in place: the user's documents go, meshplan's of the same
    // names come, marked against pruning, in the same commit.
    let install = &merged[0];
    assert!(install.message.contains(": install (1/3)"), "{install:?}");
    // The base release is taken over: Helm owns its CRDs already, nothing to do by hand.
    assert!(
        !install.message.contains("Manual actions"),
        "{}",
        install.message
    );
    assert_eq!(
        install.outside(),
        [
            "D\tapps/istio/helmrepository.yaml",
            "M\tapps/istio/releases.yaml"
        ]
    );
    for added in [
        "A\trendered/istio-system/istio-base.yaml",
        "A\trendered/istio-system/helmrepository.yaml",
        "A\trendered/istio-system/istiod-1-26-8.yaml",
        "A\trendered/meshplan.lock",
    ] {
        assert!(install.changes.iter().any(|c| c == added), "{install:?}");
    }
    assert!(
        install.message.contains(
            "Taken over in place:\n- HelmRelease/istio-system/istio-base (apps/istio/releases.yaml)\n\
             - HelmRepository/istio-system/istio (apps/istio/helmrepository.yaml)\n"
        ),
        "{}",
        install.message
    );
    let install_commit = step_commit(d, "install");
    let base: Value = serde_saphyr::from_str(&git(
        d,
        &[
            "show",
            &format!("{install_commit}:rendered/istio-system/istio-base.yaml"),
        ],
    ))
    .unwrap();
    let annotations = &base["metadata"]["annotations"];
    assert_eq!(annotations["kustomize.toolkit.fluxcd.io/prune"], "disabled");
    assert_eq!(
        annotations["argocd.argoproj.io/sync-options"],
        "Prune=false"
    );
    assert_eq!(base["spec"]["releaseName"], "istio-base");
    // The running default revision keeps its validation webhook through the install.
    assert_eq!(base["spec"]["values"]["defaultRevision"], "default");
    let releases = git(
        d,
        &[
            "show",
            &format!("{install_commit}:apps/istio/releases.yaml"),
        ],
    );
    assert!(!releases.contains("istio-base\n  namespace"), "{releases}");
    assert!(releases.contains("name: istiod\n"), "{releases}");

    // wave: the namespace moves, web restarts; cart's committed sidecar still talks to the
    // adopted istiod (same version), so nothing is refused.
    let wave = &merged[1];
    assert!(wave.message.contains(": wave all (2/3)"), "{wave:?}");
    assert!(wave.outside().is_empty(), "{wave:?}");

    // cleanup, after the user's re-injection: the old istiod document and nothing else of
    // the user's; defaultRevision moves as the plan says (no default tag in the spec).
    let cleanup = &merged[2];
    assert!(cleanup.message.contains(": cleanup (3/3)"), "{cleanup:?}");
    assert_eq!(cleanup.outside(), ["D\tapps/istio/releases.yaml"]);
    assert!(
        cleanup
            .message
            .contains("Adopted install deleted:\n- HelmRelease/istio-system/istiod (apps/istio/releases.yaml)\n"),
        "{}",
        cleanup.message
    );
    assert!(
        !cleanup.message.contains("Manual actions"),
        "{}",
        cleanup.message
    );
    let base: Value = serde_saphyr::from_str(&git(
        d,
        &["show", "main:rendered/istio-system/istio-base.yaml"],
    ))
    .unwrap();
    assert_eq!(base["spec"]["values"]["defaultRevision"], "");
    // The re-injection is the user's own commit between the wave and the cleanup.
    let log = git(d, &["log", "--format=%s", "main"]);
    let subjects: Vec<&str> = log.lines().collect();
    assert!(
        subjects[0].ends_with(": cleanup (3/3)")
            && subjects[1]
                == "Re-inject Deployment/shop/cart with istioctl kube-inject --revision 1-26-8"
            && subjects[2].ends_with(": wave all (2/3)"),
        "{subjects:?}"
    );

    let done: Value =
        serde_saphyr::from_str(&git(d, &["show", "main:rendered/meshplan.lock"])).unwrap();
    assert_eq!(done["revisions"].as_array().unwrap().len(), 1, "{done}");
    assert_eq!(done["revisions"][0]["name"], "1-26-8");
    // The lock never records a committed sidecar's proxy: it is read from the manifest.
    assert!(
        done["workloads"].get("Deployment/shop/cart").is_none(),
        "{done}"
    );
    let (code, report) = check_json(d);
    assert_eq!(code, 0, "{report}");
    let found = rules_on(&report);
    assert!(
        !found.iter().any(
            |(r, _)| ["MP105", "MP202", "MP207", "MP208", "MP314", "MP502"].contains(&r.as_str())
        ),
        "{found:?}"
    );
    assert!(helm_renders_every_release(d) >= 2);
    git(d, &["fsck", "--strict", "--no-progress"]);
}

#[test]
fn an_istio_operator_installed_mesh_is_handed_over() {
    let operator = "# the mesh as istioctl installs it\napiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: control-plane\n  namespace: istio-system\nspec:\n  profile: default\n  revision: 1-24-6\n  tag: 1.24.6\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mesh-notes\n  namespace: istio-system\ndata:\n  owner: platform\n";
    let dir = with_install(&[("operator.yaml", operator.to_string())]);
    let d = dir.path();
    // kube-inject of that install names its revision.
    let cart = d.join("apps/shop/cart.yaml");
    let text = std::fs::read_to_string(&cart).unwrap();
    std::fs::write(
        &cart,
        text.replace("\"revision\":\"default\"", "\"revision\":\"1-24-6\""),
    )
    .unwrap();
    let ns = d.join("apps/shop/namespace.yaml");
    let text = std::fs::read_to_string(&ns).unwrap();
    std::fs::write(
        &ns,
        text.replace("istio-injection: enabled", "istio.io/rev: 1-24-6"),
    )
    .unwrap();
    init_repo(d);
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let found = rules_on(&report);
    assert!(found.contains(&(
        "MP207".into(),
        "IstioOperator/istio-system/control-plane".into()
    )));
    assert!(found.contains(&("MP314".into(), "Deployment/shop/cart".into())));
    assert!(base_releases(d, "main").is_empty());

    let (merged, reinjected) = walk(d);
    assert_eq!(reinjected, ["Deployment/shop/cart"]);
    assert!(
        merged[0].message.contains("Meshplan-From: 1.24.6\n"),
        "{}",
        merged[0].message
    );
    // The operator installed Istio's CRDs without Helm's ownership metadata: the install
    // pull request asks for it before meshplan's istio-base release can install over them.
    assert!(
        merged[0].message.contains(
            "Manual actions:\n- before this pull request merges, let Helm adopt the objects of \
             Istio's base chart that IstioOperator/istio-system/control-plane \
             (apps/istio/operator.yaml) installed"
        ) && merged[0]
            .message
            .contains("meta.helm.sh/release-name=istio-base"),
        "{}",
        merged[0].message
    );
    let p = plan(d);
    assert_eq!(p["from"], "1.26.8", "{p}");
    assert!(p["steps"].as_array().unwrap().is_empty(), "{p}");
    // Every step but the cleanup leaves the user's files alone; nothing was taken over.
    let (last, rest) = merged.split_last().unwrap();
    for m in rest {
        assert!(m.outside().is_empty(), "{m:?}");
        assert!(!m.message.contains("Taken over"), "{m:?}");
    }
    // The cleanup deletes the IstioOperator document, and only it: the ConfigMap after it
    // stays, byte for byte.
    assert_eq!(last.outside(), ["M\tapps/istio/operator.yaml"]);
    assert!(
        last.message.contains(
            "Adopted install deleted:\n- IstioOperator/istio-system/control-plane (apps/istio/operator.yaml)\n"
        ),
        "{}",
        last.message
    );
    let cut = operator.find("---\n").unwrap();
    assert_eq!(
        git(d, &["show", "main:apps/istio/operator.yaml"]),
        &operator[cut..]
    );
    let done: Value =
        serde_saphyr::from_str(&git(d, &["show", "main:rendered/meshplan.lock"])).unwrap();
    assert_eq!(done["revisions"][0]["name"], "1-26-8", "{done}");
    assert_eq!(done["revisions"].as_array().unwrap().len(), 1, "{done}");
    let (code, report) = check_json(d);
    assert_eq!(code, 0, "{report}");
    assert!(findings(&report, "MP207").is_empty(), "{report}");
    git(d, &["fsck", "--strict", "--no-progress"]);
}

#[test]
fn a_helm_template_install_is_handed_over_with_a_manual_action() {
    // The real charts rendered by the real Helm, committed as they came out. The base chart
    // renders `istiod-default-validator` twice when `defaultRevision` is set (its
    // default.yaml and defaultrevision-validatingwebhookconfiguration.yaml), an object
    // meshplan's inventory refuses as defined twice: this user left the default revision
    // to istiod's own validator.
    let base = helm_template(
        "istio-base",
        "base",
        "1.24.6",
        &["global.remotePilotAddress=", "defaultRevision="],
    );
    // The charts in ../shared/data are the source tree's: the release build sets the image
    // tag the published chart carries.
    let istiod = helm_template("istiod", "istiod", "1.24.6", &["global.tag=1.24.6"]);
    let dir = with_install(&[("base.yaml", base.clone()), ("istiod.yaml", istiod.clone())]);
    let d = dir.path();
    init_repo(d);
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let found = rules_on(&report);
    let mp207: Vec<&(String, String)> = found.iter().filter(|(r, _)| r == "MP207").collect();
    assert_eq!(
        mp207,
        [&(
            "MP207".to_string(),
            "Deployment/istio-system/istiod".to_string()
        )],
        "{found:?}"
    );
    assert!(found.contains(&("MP314".into(), "Deployment/shop/cart".into())));

    let (merged, reinjected) = walk(d);
    assert_eq!(reinjected, ["Deployment/shop/cart"]);
    // meshplan edits none of the rendered files: deleting the istiod Deployment alone
    // would leave its webhooks, Services and RBAC behind.
    for m in &merged {
        assert!(m.outside().is_empty(), "{m:?}");
    }
    assert!(
        merged[0].message.contains(
            "let Helm adopt the objects of Istio's base chart that Deployment/istio-system/istiod"
        ),
        "{}",
        merged[0].message
    );
    let last = merged.last().unwrap();
    assert!(last.message.contains(": cleanup ("), "{}", last.message);
    assert!(
        last.message.contains(
            "Manual actions:\n- delete Deployment/istio-system/istiod from apps/istio/istiod.yaml \
             by hand: it is one object of a rendered install"
        ),
        "{}",
        last.message
    );
    assert_eq!(git(d, &["show", "main:apps/istio/istiod.yaml"]), istiod);
    assert_eq!(git(d, &["show", "main:apps/istio/base.yaml"]), base);
    // Until the user deletes that install, it is an unmanaged control plane again.
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    assert_eq!(findings(&report, "MP207").len(), 1, "{report}");
    // The user's own pull request removes the rendered istiod; then all is quiet.
    git(d, &["rm", "-q", "apps/istio/istiod.yaml"]);
    git(d, &["commit", "-q", "-m", "Remove the old rendered istiod"]);
    let (code, report) = check_json(d);
    assert_eq!(code, 0, "{report}");
    git(d, &["fsck", "--strict", "--no-progress"]);
}

#[test]
fn an_argocd_installed_mesh_hands_its_base_application_over_in_place() {
    let apps = "# Istio as the platform team installed it with Argo CD.\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: istio-base\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://istio-release.storage.googleapis.com/charts\n    chart: base\n    targetRevision: 1.24.6\n    helm:\n      valuesObject:\n        defaultRevision: default\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: istio-system\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: istiod\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://istio-release.storage.googleapis.com/charts\n    chart: istiod\n    targetRevision: 1.24.6\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: istio-system\n";
    let dir = with_install(&[("applications.yaml", apps.to_string())]);
    let d = dir.path();
    crate::common::edit_spec(d, "delivery: flux-helm", "delivery: argocd-helm");
    init_repo(d);
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let found = rules_on(&report);
    assert!(found.contains(&("MP207".into(), "Application/argocd/istiod".into())));
    // meshplan's first render would declare the user's base Application again.
    assert!(found.contains(&("MP208".into(), "Application/argocd/istio-base".into())));
    assert_eq!(
        base_releases(d, "main"),
        BTreeSet::from(["Application/argocd/istio-base".to_string()])
    );

    let (merged, reinjected) = walk(d);
    assert_eq!(reinjected, ["Deployment/shop/cart"]);
    let install = &merged[0];
    assert_eq!(install.outside(), ["M\tapps/istio/applications.yaml"]);
    assert!(
        install.message.contains(
            "Taken over in place:\n- Application/argocd/istio-base (apps/istio/applications.yaml)\n"
        ),
        "{}",
        install.message
    );
    let base: Value = serde_saphyr::from_str(&git(
        d,
        &[
            "show",
            &format!(
                "{}:rendered/istio-system/istio-base.yaml",
                step_commit(d, "install")
            ),
        ],
    ))
    .unwrap();
    assert_eq!(base["kind"], "Application");
    assert_eq!(base["metadata"]["namespace"], "argocd");
    assert_eq!(
        base["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
        "Prune=false"
    );
    let last = merged.last().unwrap();
    assert!(last.message.contains(": cleanup ("), "{}", last.message);
    assert_eq!(last.outside(), ["D\tapps/istio/applications.yaml"]);
    let (code, report) = check_json(d);
    assert_eq!(code, 0, "{report}");
    git(d, &["fsck", "--strict", "--no-progress"]);
}

#[test]
fn no_commit_of_the_example_plans_drops_a_base_release() {
    // Every plan of the examples that commit steps (a new cluster, a two-hop upgrade from
    // a committed lock, waivers, workloads), committed step by step with --force (their
    // findings are the examples' point, not this test's) and merged as pull requests.
    let mut checked = 0;
    for example in [
        "bookinfo",
        "native-sidecars",
        "upgrade-1.22-to-1.26",
        "waivers",
        "workloads",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        copy_tree(&root().join("examples").join(example), d);
        init_repo(d);
        let mut bases = base_releases(d, "main");
        for n in 0.. {
            assert!(n < 30, "{example}: the plan never ends");
            let (code, out, err) = run(d, &["commit", "--force"]);
            assert_eq!(code, 0, "{example}: {out}{err}");
            if out.starts_with("nothing to commit") {
                break;
            }
            let branch = out
                .split(" on ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .unwrap_or_else(|| panic!("no branch in {out}"));
            git(d, &["merge", "-q", "--ff-only", branch]);
            let after = base_releases(d, "main");
            let lost: Vec<&String> = bases.difference(&after).collect();
            assert!(lost.is_empty(), "{example} step {n} removes {lost:?}");
            assert!(!after.is_empty(), "{example} step {n} has no base release");
            bases = after;
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked} commits checked");
}

#[test]
fn a_default_tag_does_not_serve_a_sidecar_injected_by_the_revisionless_install() {
    // With `default` in the spec's tags, the wave points that tag at the new revision. The
    // committed sidecar still talks to the revisionless istiod's own `istiod` Service (a
    // tag adds a webhook, no Service): no skew at the wave, and the cleanup that removes
    // that istiod is refused until it is re-injected.
    let dir = flux_fixture();
    let d = dir.path();
    crate::common::edit_spec(
        d,
        "    chartRepository: https://istio-release.storage.googleapis.com/charts\n",
        "    chartRepository: https://istio-release.storage.googleapis.com/charts\n    revisionTags: [default]\n",
    );
    let (code, out, err) = run(d, &["adopt"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, report) = check_json(d);
    assert_eq!(code, 1);
    let denied: Vec<(String, String, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "deny")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["step"].as_str().unwrap_or("").to_string(),
                f["object"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        denied,
        [(
            "MP202".to_string(),
            "cleanup".to_string(),
            "cart".to_string()
        )],
        "{report}"
    );
}
