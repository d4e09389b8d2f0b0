//! Unit tests of `FactsBase`: matching, namespace label precedence and injection over real
//! corpus manifests (bookinfo) and small hand-made inventories.

use super::*;
use crate::diagnostic::ObjectRef;
use crate::spec::{MeshSpec, NamespaceEntry};
use serde_json::json;

/// A spec with these managed namespaces (name, labels) and otherwise defaults.
pub(crate) fn spec_with(namespaces: &[(&str, &[(&str, &str)])], kubernetes: &str) -> Spec {
    let text = format!(
        "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata: {{name: test}}\nspec:\n  kubernetesVersion: \"{kubernetes}\"\n  istio: {{version: 1.26.8}}\n"
    );
    let mut spec: Spec = serde_saphyr::from_str(&text).expect("static spec parses");
    let MeshSpec {
        namespaces: list, ..
    } = &mut spec.spec;
    for (name, labels) in namespaces {
        list.push(NamespaceEntry {
            name: name.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            dataplane: Default::default(),
        });
    }
    spec
}

/// An inventory from JSON bodies, namespace defaulted to `default` for namespaced kinds.
pub(crate) fn inventory(bodies: Vec<Value>) -> Inventory {
    let mut objects = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let kind = body["kind"]
            .as_str()
            .expect("the object has a kind")
            .to_string();
        let cluster_scoped = kind == "Namespace";
        let namespace = if cluster_scoped {
            String::new()
        } else {
            body.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string()
        };
        let id = ObjectRef {
            api_version: body["apiVersion"]
                .as_str()
                .expect("the object has an apiVersion")
                .to_string(),
            kind,
            namespace,
            name: body
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .expect("the object has a name")
                .to_string(),
        };
        objects.push(Object {
            id,
            file: "test.yaml".into(),
            line: (i + 1) as u32,
            body,
        });
    }
    Inventory::from_objects(objects).expect("test objects are distinct")
}

fn deployment(ns: &str, name: &str, replicas: i64, labels: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"replicas": replicas, "template": {"metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "readinessProbe": {"tcpSocket": {"port": 80}}}]}}}})
}

fn view(
    revs: &[(&str, &str)],
    tags: &[(&str, &str)],
    managed: &[(&str, Option<&str>)],
) -> MeshView {
    MeshView {
        revisions: revs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        tags: tags
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        managed_namespaces: managed
            .iter()
            .map(|(a, b)| (a.to_string(), b.map(str::to_string)))
            .collect(),
    }
}

fn bookinfo() -> Inventory {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/corpus/istio-samples/bookinfo/platform/kube/bookinfo.yaml"
    );
    let text = std::fs::read_to_string(path).expect("shared data is present");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("bookinfo parses");
    inventory(docs.into_iter().filter(|d| !d.is_null()).collect())
}

#[test]
fn bookinfo_services_select_their_deployments_and_no_pdbs() {
    let spec = spec_with(&[("default", &[])], "1.30");
    let base = FactsBase::new(&spec, &bookinfo());
    assert!(base.warnings.is_empty(), "{:?}", base.warnings);
    let facts = base.at(&view(
        &[("1-26-8", "1.26.8")],
        &[],
        &[("default", Some("1-26-8"))],
    ));
    let deployments: Vec<_> = facts
        .workloads
        .iter()
        .filter(|w| w.object.kind == "Deployment")
        .collect();
    assert_eq!(
        deployments.len(),
        6,
        "details, ratings, reviews v1-v3, productpage"
    );
    for d in &deployments {
        let app = d.pod_labels.get("app").expect("bookinfo pods carry app");
        assert_eq!(d.services, vec![format!("default/{app}")], "{}", d.key);
        assert!(
            d.pdbs.is_empty() && d.disruption_allowed.is_none(),
            "{}",
            d.key
        );
        assert_eq!(d.revision.as_deref(), Some("1-26-8"));
        assert_eq!(
            d.sidecar, "legacy",
            "1.26 never defaults to native sidecars"
        );
        assert!(d.restartable);
    }
    let reviews = facts
        .service("Service/default/reviews")
        .expect("reviews service");
    assert_eq!(reviews.workloads.len(), 3);
    assert!(reviews.selects_injected);
    assert_eq!(
        reviews.ports.first().map(|p| p.protocol.as_str()),
        Some("http")
    );
    assert!(facts.pdbs.is_empty());
    let ns = facts.namespace("default").expect("default namespace");
    assert_eq!(ns.rev_label.as_deref(), Some("1-26-8"));
    assert!(ns.injected && ns.managed);
}

#[test]
fn pdbs_are_matched_per_namespace_and_counted_across_workloads() {
    let inv = inventory(vec![
        deployment("shop", "cart-v1", 1, json!({"app": "cart", "v": "1"})),
        deployment("shop", "cart-v2", 2, json!({"app": "cart", "v": "2"})),
        deployment("other", "cart", 3, json!({"app": "cart"})),
        deployment("shop", "solo", 1, json!({"app": "solo"})),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "cart", "namespace": "shop"},
               "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "cart"}}}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "solo", "namespace": "shop"},
               "spec": {"maxUnavailable": "0%", "selector": {"matchExpressions": [
                   {"key": "app", "operator": "In", "values": ["solo"]}]}}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "everything", "namespace": "other"},
               "spec": {"maxUnavailable": 1, "selector": {}}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "nothing", "namespace": "other"},
               "spec": {"maxUnavailable": 1}}),
    ]);
    let facts = FactsBase::new(&spec_with(&[], "1.30"), &inv).at(&MeshView::default());
    let cart = facts.pdb("shop/cart").expect("pdb");
    assert_eq!((cart.expected_pods, cart.disruptions_allowed), (3, 1));
    assert_eq!(
        cart.workloads,
        vec!["Deployment/shop/cart-v1", "Deployment/shop/cart-v2"]
    );
    let v1 = facts.workload("Deployment/shop/cart-v1").expect("workload");
    assert_eq!(
        (v1.pdbs.clone(), v1.disruption_allowed),
        (vec!["shop/cart".to_string()], Some(true))
    );
    let solo = facts.workload("Deployment/shop/solo").expect("workload");
    assert_eq!(solo.blocking_pdbs, vec!["shop/solo".to_string()]);
    assert_eq!(solo.disruption_allowed, Some(false));
    let other = facts.workload("Deployment/other/cart").expect("workload");
    assert_eq!(
        other.pdbs,
        vec!["other/everything".to_string()],
        "empty selector selects all, null none"
    );
    assert_eq!(other.disruption_allowed, Some(true));
    assert!(
        facts
            .pdb("other/nothing")
            .expect("pdb")
            .workloads
            .is_empty()
    );
}

#[test]
fn two_pdbs_on_one_pod_block_eviction() {
    let inv = inventory(vec![
        deployment("shop", "web", 4, json!({"app": "web", "tier": "front"})),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "a", "namespace": "shop"},
               "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "b", "namespace": "shop"},
               "spec": {"maxUnavailable": "50%", "selector": {"matchLabels": {"tier": "front"}}}}),
    ]);
    let facts = FactsBase::new(&spec_with(&[], "1.30"), &inv).at(&MeshView::default());
    let web = facts.workload("Deployment/shop/web").expect("workload");
    assert_eq!(web.pdbs.len(), 2);
    assert!(web.blocking_pdbs.is_empty());
    assert_eq!(web.disruption_allowed, Some(false));
}

#[test]
fn malformed_pdb_is_reported_and_blocks() {
    let inv = inventory(vec![
        deployment("shop", "web", 3, json!({"app": "web"})),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"maxUnavailable": "one", "selector": {"matchLabels": {"app": "web"}}}}),
    ]);
    let base = FactsBase::new(&spec_with(&[], "1.30"), &inv);
    assert_eq!(base.warnings.len(), 1);
    assert!(
        base.warnings[0]
            .starts_with("test.yaml:2: PodDisruptionBudget/shop/web: spec.maxUnavailable")
    );
    let facts = base.at(&MeshView::default());
    assert_eq!(
        facts
            .workload("Deployment/shop/web")
            .and_then(|w| w.disruption_allowed),
        Some(false)
    );
}

#[test]
fn services_need_a_nonempty_subset_selector_in_the_same_namespace() {
    let inv = inventory(vec![
        deployment("shop", "web", 1, json!({"app": "web", "v": "1"})),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"selector": {"app": "web"}, "ports": [{"name": "http-web", "port": 80}]}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-v2", "namespace": "shop"},
               "spec": {"selector": {"app": "web", "v": "2"}, "ports": [{"port": 8080}]}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-hl", "namespace": "shop"},
               "spec": {"clusterIP": "None", "selector": {"v": "1"}, "ports": [{"port": 3306}]}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "manual", "namespace": "shop"},
               "spec": {"ports": [{"port": 80}]}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "elsewhere"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    ]);
    let facts = FactsBase::new(&spec_with(&[], "1.30"), &inv).at(&MeshView::default());
    let web = facts.workload("Deployment/shop/web").expect("workload");
    assert_eq!(
        web.services,
        vec!["shop/web".to_string(), "shop/web-hl".to_string()]
    );
    assert_eq!(web.headless_services, vec!["shop/web-hl".to_string()]);
    let hl = facts.service("Service/shop/web-hl").expect("service");
    assert!(hl.headless);
    assert_eq!(
        (hl.ports[0].protocol.as_str(), hl.ports[0].source.as_str()),
        ("tcp", "port")
    );
    assert_eq!(
        facts
            .service("Service/shop/web-v2")
            .map(|s| s.ports[0].protocol.as_str()),
        Some("unknown")
    );
    assert!(
        facts
            .service("Service/shop/manual")
            .expect("service")
            .workloads
            .is_empty()
    );
    assert!(
        !facts
            .service("Service/shop/web")
            .expect("service")
            .selects_injected
    );
}

#[test]
fn namespace_labels_object_then_spec_then_managed_revision() {
    let inv = inventory(vec![
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "legacy", "labels": {"istio-injection": "enabled"}}}),
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "moving", "labels": {"istio.io/rev": "1-24-6", "team": "a"}}}),
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "both", "labels": {"istio-injection": "enabled"}}}),
        deployment("plain", "web", 1, json!({"app": "web"})),
    ]);
    let spec = spec_with(
        &[
            ("moving", &[("team", "b"), ("mesh", "on")]),
            ("both", &[]),
            ("fresh", &[]),
        ],
        "1.30",
    );
    let base = FactsBase::new(&spec, &inv);
    let v = view(
        &[("1-24-6", "1.24.6"), ("1-26-8", "1.26.8")],
        &[("default", "1-24-6")],
        &[
            ("moving", Some("1-26-8")),
            ("both", Some("1-26-8")),
            ("fresh", None),
        ],
    );
    let facts = base.at(&v);
    let names: Vec<_> = facts.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, vec!["both", "fresh", "legacy", "moving", "plain"]);
    let moving = facts.namespace("moving").expect("ns");
    assert_eq!(moving.revision.as_deref(), Some("1-26-8"));
    assert_eq!(
        moving.labels.get("team").map(String::as_str),
        Some("b"),
        "spec labels win"
    );
    assert_eq!(moving.labels.get("mesh").map(String::as_str), Some("on"));
    // istio-injection would beat istio.io/rev, so the render's patch that labels the
    // namespace removes `istio-injection=enabled` in the same change, and the facts with it.
    let both = facts.namespace("both").expect("ns");
    assert_eq!(both.revision.as_deref(), Some("1-26-8"));
    assert_eq!(both.rev_label.as_deref(), Some("1-26-8"));
    assert_eq!(both.injection_label, None);
    assert!(!both.labels.contains_key("istio-injection"));
    let legacy = facts.namespace("legacy").expect("ns");
    assert_eq!(legacy.injection_label.as_deref(), Some("enabled"));
    let fresh = facts.namespace("fresh").expect("ns");
    assert!(fresh.labels.is_empty() && !fresh.injected && fresh.file.is_none());
    let legacy = facts.namespace("legacy").expect("ns");
    assert_eq!(
        (legacy.revision.as_deref(), legacy.managed),
        (Some("1-24-6"), false)
    );
    assert_eq!(legacy.file.as_deref(), Some("test.yaml"));
    assert!(!facts.namespace("plain").expect("ns").injected);
    assert_eq!(facts.default_revision.as_deref(), Some("1-24-6"));
    assert_eq!(
        facts.revisions.get("1-24-6").map(|r| r.tags.clone()),
        Some(vec!["default".to_string()])
    );
}

#[test]
fn workload_injection_and_sidecar_mode_follow_the_view() {
    let mut job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "shop"},
        "spec": {"template": {"metadata": {"annotations": {"sidecar.istio.io/nativeSidecar": "false"}},
                              "spec": {"restartPolicy": "Never", "containers": [{"name": "m"}]}}}});
    let host = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "shop"},
        "spec": {"template": {"metadata": {}, "spec": {"hostNetwork": true, "containers": [{"name": "a"}]}}}});
    let vm = json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
        "metadata": {"name": "vm1", "namespace": "shop"}, "spec": {"address": "10.0.0.1", "labels": {"app": "legacy"}}});
    job["spec"]["parallelism"] = json!(2);
    let inv = inventory(vec![
        deployment("shop", "web", 2, json!({"app": "web"})),
        job,
        host,
        vm,
    ]);
    let spec = spec_with(&[("shop", &[])], "1.33");
    let base = FactsBase::new(&spec, &inv);
    let facts = base.at(&view(
        &[("1-27-1", "1.27.1")],
        &[],
        &[("shop", Some("1-27-1"))],
    ));
    let web = facts.workload("Deployment/shop/web").expect("web");
    assert_eq!(
        (web.revision.as_deref(), web.sidecar.as_str()),
        (Some("1-27-1"), "native")
    );
    let job = facts.workload("Job/shop/migrate").expect("job");
    assert_eq!(
        (job.sidecar.as_str(), job.restartable, job.replicas),
        ("legacy", false, 2)
    );
    let agent = facts.workload("DaemonSet/shop/agent").expect("ds");
    assert!(!agent.injected && agent.reason.contains("hostNetwork"));
    assert_eq!(agent.sidecar, "none");
    let vm = facts.workload("WorkloadEntry/shop/vm1").expect("vm");
    assert_eq!(
        (vm.injected, vm.restartable, vm.sidecar.as_str()),
        (true, false, "legacy")
    );
    // Before meshplan labels the namespace, nothing is injected.
    let before = base.at(&view(&[("1-27-1", "1.27.1")], &[], &[("shop", None)]));
    assert!(
        before
            .workloads
            .iter()
            .all(|w| !w.injected && w.sidecar == "none")
    );
    let text = render_text(&facts);
    assert!(text.contains("Deployment/shop/web"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("shop ") && l.contains("1-27-1") && l.contains("yes")),
        "{text}"
    );
}

#[test]
fn waves_come_from_names_then_selectors() {
    let mut spec = spec_with(
        &[
            ("a", &[("mesh", "on")]),
            ("b", &[("mesh", "on")]),
            ("c", &[]),
        ],
        "1.30",
    );
    spec.spec.upgrade.waves = serde_saphyr::from_str(
        "- {name: canary, namespaces: [b]}\n- {name: rest, namespaceSelector: {matchLabels: {mesh: 'on'}}}\n",
    )
    .expect("waves parse");
    let facts = FactsBase::new(&spec, &Inventory::default()).at(&MeshView::default());
    let wave = |n: &str| facts.namespace(n).and_then(|n| n.wave.clone());
    assert_eq!(wave("a").as_deref(), Some("rest"));
    assert_eq!(wave("b").as_deref(), Some("canary"));
    // Managed namespaces in no wave move last, in the step the plan calls `wave unlisted`.
    assert_eq!(wave("c").as_deref(), Some("unlisted"));
}
