//! Facts over real manifests from `../shared/data/corpus`: what a platform engineer would
//! check by hand (who selects whom, which budgets block) computed through the public API.

use meshplan::diagnostic::ObjectRef;
use meshplan::facts::{Facts, FactsBase, MeshView};
use meshplan::inventory::{Inventory, Object};
use meshplan::spec::Spec;
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/corpus");

/// An inventory of the corpus files given, objects without a namespace put in `namespace`.
fn load(files: &[&str], namespace: &str) -> Inventory {
    let mut objects = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(format!("{CORPUS}/{file}")).expect("corpus file present");
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("corpus file parses");
        for (i, body) in docs.into_iter().filter(|d| d.is_object()).enumerate() {
            let kind = body["kind"]
                .as_str()
                .expect("the object has a kind")
                .to_string();
            let ns = if kind == "Namespace" {
                String::new()
            } else {
                body.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or(namespace)
                    .to_string()
            };
            let id = ObjectRef {
                api_version: body["apiVersion"]
                    .as_str()
                    .expect("the object has an apiVersion")
                    .to_string(),
                kind,
                namespace: ns,
                name: body
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .expect("the object has a name")
                    .to_string(),
            };
            // Document index stands in for the line: the loader is another module's job.
            objects.push(Object {
                id,
                file: file.to_string(),
                line: i as u32 + 1,
                body,
            });
        }
    }
    Inventory::from_objects(objects).expect("corpus objects are distinct")
}

fn spec(namespaces: &[&str], kubernetes: &str) -> Spec {
    let text = format!(
        "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata: {{name: t}}\nspec:\n  kubernetesVersion: \"{kubernetes}\"\n  istio: {{version: 1.26.8}}\n  namespaces: [{}]\n",
        namespaces
            .iter()
            .map(|n| format!("{{name: {n}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    serde_saphyr::from_str(&text).expect("test spec parses")
}

fn one_revision(managed: &[(&str, Option<&str>)]) -> MeshView {
    MeshView {
        revisions: [("1-26-8".to_string(), "1.26.8".to_string())].into(),
        tags: [("default".to_string(), "1-26-8".to_string())].into(),
        managed_namespaces: managed
            .iter()
            .map(|(n, r)| (n.to_string(), r.map(str::to_string)))
            .collect(),
    }
}

#[test]
fn bookinfo_every_deployment_has_its_service_and_no_pdb() {
    let inv = load(
        &["istio-samples/bookinfo/platform/kube/bookinfo.yaml"],
        "bookinfo",
    );
    let base = FactsBase::new(&spec(&["bookinfo"], "1.30"), &inv);
    assert!(base.warnings.is_empty(), "{:?}", base.warnings);
    let facts: Facts = base.at(&one_revision(&[("bookinfo", Some("default"))]));
    let deployments: Vec<_> = facts
        .workloads
        .iter()
        .filter(|w| w.object.kind == "Deployment")
        .collect();
    assert_eq!(deployments.len(), 6);
    for d in deployments {
        let app = d.pod_labels.get("app").expect("app label");
        let service = facts
            .service(&format!("Service/bookinfo/{app}"))
            .expect("a Service per app");
        assert!(
            service.workloads.contains(&d.key),
            "{} not selected by {}",
            d.key,
            service.key
        );
        assert!(d.pdbs.is_empty(), "{} has a PDB", d.key);
        assert_eq!(
            d.revision.as_deref(),
            Some("1-26-8"),
            "istio.io/rev=default resolves through the tag"
        );
        assert!(
            d.containers_without_readiness.len() == 1,
            "bookinfo declares no probes"
        );
    }
    assert!(facts.services.iter().all(|s| s.selects_injected));
    let json = serde_json::to_value(&facts).expect("facts serialize");
    assert_eq!(json["workloads"][0]["disruptionAllowed"], Value::Null);
    assert!(json["namespaces"][0].get("revision").is_some());
}

#[test]
fn zookeeper_statefulset_budget_headless_service_and_unnamed_protocols() {
    let inv = load(
        &["kubernetes-website/application/zookeeper/zookeeper.yaml"],
        "zk",
    );
    let facts = FactsBase::new(&spec(&[], "1.30"), &inv).at(&MeshView::default());
    let zk = facts.workload("StatefulSet/zk/zk").expect("zk statefulset");
    assert_eq!(zk.replicas, 3);
    assert!(zk.restartable && !zk.injected);
    assert_eq!(zk.pdbs, vec!["zk/zk-pdb".to_string()]);
    assert_eq!(zk.disruption_allowed, Some(true), "maxUnavailable 1 of 3");
    assert_eq!(zk.headless_services, vec!["zk/zk-hs".to_string()]);
    assert_eq!(
        zk.services,
        vec!["zk/zk-cs".to_string(), "zk/zk-hs".to_string()]
    );
    let hs = facts.service("Service/zk/zk-hs").expect("headless service");
    assert!(
        hs.ports.iter().all(|p| p.protocol == "unknown"),
        "server/leader-election carry no prefix"
    );
}

#[test]
fn cockroachdb_67_percent_min_available_blocks_three_replicas() {
    let inv = load(
        &["kubernetes-examples/_archived/cockroachdb/cockroachdb-statefulset.yaml"],
        "db",
    );
    let facts = FactsBase::new(&spec(&[], "1.30"), &inv).at(&MeshView::default());
    let pdb = facts.pdb("db/cockroachdb-budget").expect("pdb");
    // 67% of 3 = 2.01, rounded up to 3 pods that must stay: nothing may be evicted.
    assert_eq!((pdb.expected_pods, pdb.disruptions_allowed), (3, 0));
    let db = facts
        .workload("StatefulSet/db/cockroachdb")
        .expect("statefulset");
    assert_eq!(db.blocking_pdbs, vec!["db/cockroachdb-budget".to_string()]);
    let public = facts
        .service("Service/db/cockroachdb-public")
        .expect("service");
    let protocols: Vec<_> = public.ports.iter().map(|p| p.protocol.as_str()).collect();
    assert_eq!(protocols, vec!["grpc", "http"]);
}

#[test]
fn jobs_and_cronjobs_are_not_restartable() {
    let inv = load(
        &[
            "kubernetes-website/controllers/job.yaml",
            "argo-cd/test/e2e/testdata/resource-actions/cron-job.yaml",
        ],
        "batch",
    );
    let facts = FactsBase::new(&spec(&["batch"], "1.34"), &inv).at(&MeshView {
        revisions: [("1-28-1".to_string(), "1.28.1".to_string())].into(),
        tags: Default::default(),
        managed_namespaces: [("batch".to_string(), Some("1-28-1".to_string()))].into(),
    });
    let kinds: Vec<_> = facts
        .workloads
        .iter()
        .map(|w| w.object.kind.as_str())
        .collect();
    assert_eq!(kinds, vec!["CronJob", "Job"]);
    for w in &facts.workloads {
        assert!(!w.restartable, "{}", w.key);
        assert!(w.injected, "{}", w.key);
        assert_eq!(
            w.sidecar, "native",
            "Istio 1.28 on Kubernetes 1.34 defaults to native sidecars"
        );
        assert_ne!(
            w.restart_policy, "Always",
            "{}: Jobs run to completion",
            w.key
        );
    }
}

#[test]
fn text_table_for_bookinfo_and_zookeeper() {
    let bookinfo = load(
        &["istio-samples/bookinfo/platform/kube/bookinfo.yaml"],
        "bookinfo",
    );
    let zk = load(
        &["kubernetes-website/application/zookeeper/zookeeper.yaml"],
        "zk",
    );
    let objects = bookinfo.objects.into_iter().chain(zk.objects).collect();
    let inv = Inventory::from_objects(objects).expect("distinct objects");
    let facts = FactsBase::new(&spec(&["bookinfo", "zk"], "1.30"), &inv)
        .at(&one_revision(&[("bookinfo", Some("1-26-8")), ("zk", None)]));
    insta::assert_snapshot!(meshplan::facts::render_text(&facts));
}
