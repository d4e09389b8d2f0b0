//! Agreement test: meshplan's injection emulation against Istio's real injector webhooks.
//!
//! For several chart versions and installs (named revision with tags, revision-less install,
//! two revisions side by side), the istiod chart is rendered with the real Helm, its
//! MutatingWebhookConfigurations are evaluated with a small, independent selector evaluator
//! over a grid of namespace and pod labels, and for every cell "a webhook of revision R
//! matches" must equal `decide_injection(...)` choosing R (no webhook ⇔ None).
//!
//! The webhooks' `objectSelector` sees labels only; the injector's extra checks (annotation
//! `sidecar.istio.io/inject`, `hostNetwork`, kube-system/kube-public) are exercised by the
//! unit tests of `facts::injection`. The grid uses neither, so the two stages agree here.
//!
//! Helm is taken from `$MESHPLAN_HELM`, else `tools/bin/helm`, else installed by
//! `scripts/install-helm.sh` (npm). If that fails the test fails: it never passes silently.

use meshplan::facts::{MeshView, decide_injection};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One rendered webhook: the revision it injects with and its two selectors.
#[derive(Debug)]
struct Webhook {
    config: String,
    name: String,
    revision: String,
    namespace_selector: Value,
    object_selector: Value,
}

/// `helm template` of the istiod chart of `version`; returns its injector webhooks.
fn render(helm: &PathBuf, version: &str, revision: Option<&str>, tags: &[&str]) -> Vec<Webhook> {
    let chart = format!("{ROOT}/../shared/data/istio-charts/{version}/istiod");
    let release = revision.map_or("istiod".to_string(), |r| format!("istiod-{r}"));
    let mut cmd = Command::new(helm);
    cmd.args(["template", &release, &chart, "-n", "istio-system"]);
    if let Some(r) = revision {
        cmd.args(["--set", &format!("revision={r}")]);
    }
    if !tags.is_empty() {
        cmd.args(["--set", &format!("revisionTags={{{}}}", tags.join(","))]);
    }
    let out = cmd.output().expect("helm runs");
    assert!(
        out.status.success(),
        "helm template {version}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("helm prints UTF-8");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("helm output parses");
    let mut hooks = Vec::new();
    for doc in docs
        .iter()
        .filter(|d| d["kind"] == "MutatingWebhookConfiguration")
    {
        let config = doc["metadata"]["name"].as_str().expect("named").to_string();
        let rev = doc["metadata"]["labels"]["istio.io/rev"]
            .as_str()
            .expect("istio.io/rev label");
        for hook in doc["webhooks"].as_array().expect("webhooks list") {
            hooks.push(Webhook {
                config: config.clone(),
                name: hook["name"].as_str().expect("webhook name").to_string(),
                revision: rev.to_string(),
                namespace_selector: hook["namespaceSelector"].clone(),
                object_selector: hook["objectSelector"].clone(),
            });
        }
    }
    assert!(
        !hooks.is_empty(),
        "no injector webhooks rendered for {version}"
    );
    hooks
}

/// Kubernetes label-selector semantics, written independently of `meshplan::facts`.
pub(crate) fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    if selector.is_null() {
        return true; // an absent selector on a webhook matches everything
    }
    let labels_ok = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let exprs_ok = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().expect("key");
            let values: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let value = labels.get(key).map(String::as_str);
            match e["operator"].as_str().expect("operator") {
                "In" => value.is_some_and(|v| values.contains(&v)),
                "NotIn" => value.is_none_or(|v| !values.contains(&v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                other => panic!("operator {other} not in the chart's vocabulary"),
            }
        });
    labels_ok && exprs_ok
}

/// An install scenario: the renders and the MeshView meshplan would have for it.
struct Scenario {
    name: &'static str,
    /// (chart version, revision or None for a revision-less install, tags)
    installs: Vec<(&'static str, Option<&'static str>, Vec<&'static str>)>,
}

impl Scenario {
    fn view(&self) -> MeshView {
        let mut view = MeshView::default();
        for (version, revision, tags) in &self.installs {
            let name = revision.unwrap_or("default").to_string();
            view.revisions.insert(name.clone(), version.to_string());
            for t in tags {
                view.tags.insert(t.to_string(), name.clone());
            }
        }
        view
    }
}

fn labels(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
        .collect()
}

fn check(helm: &PathBuf, scenario: &Scenario) -> usize {
    let hooks: Vec<Webhook> = scenario
        .installs
        .iter()
        .flat_map(|(v, r, t)| render(helm, v, *r, t))
        .collect();
    let view = scenario.view();
    // Every revision and tag name in play, plus a name nobody serves and "default".
    let mut names: BTreeSet<&str> = view
        .revisions
        .keys()
        .chain(view.tags.keys())
        .map(String::as_str)
        .collect();
    names.insert("default");
    names.insert("other");
    let mut rev_values: Vec<Option<&str>> = names.iter().copied().map(Some).collect();
    rev_values.push(None);
    let mut cells = 0;
    for injection in [Some("enabled"), Some("disabled"), None] {
        for ns_rev in &rev_values {
            for inject in [Some("true"), Some("false"), None] {
                for pod_rev in &rev_values {
                    let ns = labels(&[
                        ("istio-injection", injection),
                        ("istio.io/rev", *ns_rev),
                        ("kubernetes.io/metadata.name", Some("apps")),
                    ]);
                    let pod = labels(&[
                        ("sidecar.istio.io/inject", inject),
                        ("istio.io/rev", *pod_rev),
                    ]);
                    let matched: Vec<&Webhook> = hooks
                        .iter()
                        .filter(|h| {
                            selects(&h.namespace_selector, &ns) && selects(&h.object_selector, &pod)
                        })
                        .collect();
                    let served: BTreeSet<&str> =
                        matched.iter().map(|h| h.revision.as_str()).collect();
                    let context = format!(
                        "{}: namespace {ns:?}, pod {pod:?}, matched {:?}",
                        scenario.name,
                        matched
                            .iter()
                            .map(|h| format!("{}/{}", h.config, h.name))
                            .collect::<Vec<_>>()
                    );
                    assert!(served.len() <= 1, "two revisions would inject: {context}");
                    let decision = decide_injection(&ns, &pod, &BTreeMap::new(), false, &view);
                    assert_eq!(
                        decision.revision.as_deref(),
                        served.first().copied(),
                        "{context}; meshplan said: {}",
                        decision.reason
                    );
                    cells += 1;
                }
            }
        }
    }
    cells
}

#[test]
fn injection_emulation_agrees_with_istio_webhooks() {
    let helm = crate::common::tool("helm");
    let mut scenarios = Vec::new();
    for version in ["1.22.8", "1.24.6", "1.26.8", "1.28.10"] {
        let rev: &'static str = match version {
            "1.22.8" => "1-22-8",
            "1.24.6" => "1-24-6",
            "1.26.8" => "1-26-8",
            _ => "1-28-10",
        };
        scenarios.push(Scenario {
            name: "named revision with default and prod tags",
            installs: vec![(version, Some(rev), vec!["default", "prod"])],
        });
        scenarios.push(Scenario {
            name: "named revision, no tag (no default revision)",
            installs: vec![(version, Some(rev), vec![])],
        });
        scenarios.push(Scenario {
            name: "revision-less install",
            installs: vec![(version, None, vec![])],
        });
    }
    scenarios.push(Scenario {
        name: "canary: 1-22-8 tagged prod, 1-24-6 tagged default and canary",
        installs: vec![
            ("1.22.8", Some("1-22-8"), vec!["prod"]),
            ("1.24.6", Some("1-24-6"), vec!["default", "canary"]),
        ],
    });
    scenarios.push(Scenario {
        name: "canary: 1-26-8 tagged default, 1-28-10 untagged",
        installs: vec![
            ("1.26.8", Some("1-26-8"), vec!["default"]),
            ("1.28.10", Some("1-28-10"), vec![]),
        ],
    });
    let mut cells = 0;
    for scenario in &scenarios {
        cells += check(&helm, scenario);
    }
    // Guard against a grid that silently shrank to nothing.
    assert!(cells > 1000, "only {cells} cells checked");
}
