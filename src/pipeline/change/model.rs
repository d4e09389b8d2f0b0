//! The glue between the lock and the renderer: what a lock records (revisions, tags, labels,
//! gateway colours, restart generations) becomes the [`RenderModel`] the renderer writes.
//! The renderer stays a pure function of that value; this is the only place that knows how
//! the lock's words map onto it, so `render`, `diff`, `commit` and the MP502 drift check all
//! render the same thing for the same lock.

use crate::facts::FactsBase;
use crate::facts::tenancy::MESH_LABEL;
use crate::inventory::Inventory;
use crate::render::{RenderGateway, RenderModel, RenderNamespace, RenderRevision, RestartBump};
use crate::spec::Spec;
use crate::state::Lock;
use std::collections::BTreeMap;

/// The label that selects the injecting revision (or tag) of a namespace.
const REV_LABEL: &str = "istio.io/rev";

/// The mesh as `lock` records it, in the renderer's terms. Workloads the lock restarted but
/// the inventory no longer has (deleted, or meshplan's own gateway Deployments) get no patch:
/// a Kustomize patch for an object that does not exist breaks the whole build. A restart
/// bump names the revision that injects the workload at the lock's view, as the facts of
/// `base` decide it (a pod's own `istio.io/rev`, a tag, the default revision), so the value
/// changes exactly when the planner restarts it.
pub fn render_model(
    spec: &Spec,
    inventory: &Inventory,
    lock: &Lock,
    base: &FactsBase,
    tenancy: Option<&crate::facts::tenancy::Tenancy>,
) -> RenderModel {
    let istio = &spec.spec.istio;
    // A single mesh renders as it always did unless its spec names a control-plane
    // namespace or discovery selectors; a mesh of several always has both.
    let tenant = match tenancy {
        Some(_) => Some(crate::render::model::RenderTenant {
            mesh: Some(spec.metadata.name.clone()),
            namespace: crate::facts::tenancy::control_plane_namespace(spec).to_string(),
            discovery_selectors: crate::facts::tenancy::discovery_selectors(spec),
        }),
        None if istio.namespace.is_some() || istio.discovery_selectors.is_some() => {
            Some(crate::render::model::RenderTenant {
                mesh: None,
                namespace: crate::facts::tenancy::control_plane_namespace(spec).to_string(),
                discovery_selectors: istio.discovery_selectors.clone().unwrap_or_default(),
            })
        }
        None => None,
    };
    let mut tags_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (tag, target) in &lock.tags {
        tags_of
            .entry(target.as_str())
            .or_default()
            .push(tag.clone());
    }
    // An adopted revision is installed by the user's own object: rendering it too would be
    // a second copy of the same release (MP208); its cleanup deletes that object instead.
    let revisions = lock
        .revisions
        .iter()
        .filter(|r| r.installed_by.is_none())
        .map(|r| RenderRevision {
            name: r.name.clone(),
            version: r.version.clone(),
            tags: tags_of.remove(r.name.as_str()).unwrap_or_default(),
        })
        .collect();
    let gateways = render_gateways(spec, lock);
    let namespaces = render_namespaces(spec, inventory, lock, tenancy);
    // The revision the facts call the default (the `default` tag's target, else an adopted
    // revisionless install): the taken-over `base` release keeps validating for it, and
    // moves with the plan's `default` tag once the adopted install is retired.
    let view = crate::facts::MeshView::of_lock(lock);
    let default_revision = crate::facts::default_revision(&view);
    let restarts = restart_bumps(inventory, lock, &view, base, default_revision.as_deref());
    RenderModel {
        // A mesh of several: the cluster is `spec.cluster`, the mesh is in `tenant`.
        cluster: tenancy.map_or_else(|| spec.metadata.name.clone(), |t| t.cluster.clone()),
        delivery: istio.delivery,
        chart_repository: istio.chart_repository.clone(),
        hub: istio.hub.clone(),
        argocd: istio.argocd.clone(),
        values: istio.values.clone(),
        config: istio.config.clone(),
        revisions,
        default_revision,
        gateways,
        namespaces,
        restarts,
        tenant,
    }
}

/// The namespaces the lock labels, with the spec's labels, the revision label (not on an
/// ambient namespace), the mesh label of a mesh of several, and the injection label to
/// remove where the user's Namespace object carries one meshplan's label replaces.
fn render_namespaces(
    spec: &Spec,
    inventory: &Inventory,
    lock: &Lock,
    tenancy: Option<&crate::facts::tenancy::Tenancy>,
) -> Vec<RenderNamespace> {
    let spec_labels: BTreeMap<&str, BTreeMap<String, String>> = spec
        .spec
        .namespaces
        .iter()
        .map(|n| (n.name.as_str(), crate::facts::spec_namespace_labels(n)))
        .collect();
    let ambient: std::collections::BTreeSet<&str> = spec
        .spec
        .namespaces
        .iter()
        .filter(|n| n.dataplane == crate::spec::Dataplane::Ambient)
        .map(|n| n.name.as_str())
        .collect();
    lock.namespaces
        .iter()
        .map(|(name, rev)| {
            let mut labels = spec_labels.get(name.as_str()).cloned().unwrap_or_default();
            // An ambient namespace moves with its wave in the lock, but carries no
            // `istio.io/rev`: the revision's webhook would inject sidecars into its pods.
            if !ambient.contains(name.as_str()) {
                labels.insert(REV_LABEL.to_string(), rev.clone());
            }
            if tenancy.is_some() {
                labels.insert(MESH_LABEL.to_string(), spec.metadata.name.clone());
            }
            let object = inventory.get("Namespace", "", name);
            RenderNamespace {
                name: name.clone(),
                labels,
                defined_elsewhere: object.is_some(),
                remove: object
                    .filter(|o| crate::facts::injection_label_moves(&o.body))
                    .map(|_| vec![crate::facts::INJECTION_LABEL.to_string()])
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The spec's gateways with the colours the lock gives them and their colours' restart
/// bumps (a colour's Deployment is meshplan's, keyed like a workload in the lock).
fn render_gateways(spec: &Spec, lock: &Lock) -> Vec<RenderGateway> {
    spec.spec
        .gateways
        .iter()
        .map(|g| {
            let gateway = format!("{}/{}", g.namespace, g.name);
            let state = lock.gateways.get(&gateway);
            let restarts = state
                .map(|s| {
                    s.colours
                        .iter()
                        .filter_map(|(colour, revision)| {
                            let key = crate::state::colour_deployment(&gateway, colour);
                            let w = lock.workloads.get(&key).filter(|w| w.generation > 0)?;
                            Some((colour.clone(), format!("{revision}.{}", w.generation)))
                        })
                        .collect()
                })
                .unwrap_or_default();
            RenderGateway {
                name: g.name.clone(),
                namespace: g.namespace.clone(),
                strategy: g.strategy,
                colours: state.map(|s| s.colours.clone()).unwrap_or_default(),
                active: state.map(|s| s.active.clone()),
                service: g.service.clone(),
                values: g.values.clone(),
                restarts,
            }
        })
        .collect()
}

/// The restart bumps the lock records (generation > 0) for workloads the manifests still
/// hold, each valued `<revision>.<generation>` with the revision that injects it at `view`
/// (the lock's own, [`crate::facts::MeshView::of_lock`]).
fn restart_bumps(
    inventory: &Inventory,
    lock: &Lock,
    view: &crate::facts::MeshView,
    base: &FactsBase,
    default_revision: Option<&str>,
) -> Vec<RestartBump> {
    // One pass over the workloads, then a lookup per restarted one: O(W log W), not O(W²);
    // none when nothing was restarted (a lock without workloads renders no bumps).
    let injecting: BTreeMap<&str, Option<String>> = if lock.workloads.is_empty() {
        BTreeMap::new()
    } else {
        base.revisions_at(view)
            .into_iter()
            .map(|(key, _, revision)| (key, revision))
            .collect()
    };
    let mut restarts = Vec::new();
    for (key, w) in &lock.workloads {
        if w.generation == 0 {
            continue;
        }
        let Some((kind, namespace, name)) = crate::diagnostic::ObjectRef::split_key(key) else {
            continue;
        };
        let Some(obj) = inventory.get(kind, namespace, name) else {
            continue;
        };
        let revision = match injecting.get(key.as_str()) {
            Some(Some(revision)) => revision.clone(),
            // Not injected at the lock's view (its revision was removed, or it opted out
            // since): any stable value will do, as the planner restarts nothing for it.
            _ => match restart_revision(lock, namespace, default_revision) {
                Some(revision) => revision,
                None => continue,
            },
        };
        restarts.push(RestartBump {
            object: obj.id.clone(),
            value: format!("{revision}.{}", w.generation),
        });
    }
    restarts
}

/// The revision of a restart the facts do not place: the one the namespace's `istio.io/rev`
/// label resolves to in the lock (a tag resolves to its target), else the default revision.
fn restart_revision(lock: &Lock, namespace: &str, default: Option<&str>) -> Option<String> {
    match lock.namespace_revision(namespace) {
        Some(revision) => Some(revision.to_string()),
        None => default
            .map(str::to_string)
            .or_else(|| lock.revisions.first().map(|r| r.name.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{GatewayState, RevisionState, WorkloadState};

    const BOOKINFO: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/bookinfo/meshplan.yaml"
    );

    fn bookinfo() -> (Spec, Inventory) {
        let loaded = crate::spec::load(std::path::Path::new(BOOKINFO)).expect("bookinfo spec");
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/bookinfo"));
        let inventory = crate::inventory::load(
            dir,
            &[crate::inventory::Source::Glob {
                pattern: "apps/bookinfo/*.yaml".to_string(),
                namespace: Some("bookinfo".to_string()),
            }],
            &crate::inventory::Limits {
                max_file_bytes: 1 << 26,
            },
        )
        .expect("bookinfo manifests");
        (loaded.spec, inventory)
    }

    fn lock() -> Lock {
        let mut lock = Lock::empty("bookinfo-demo");
        lock.revisions = vec![
            RevisionState {
                name: "1-28-1".into(),
                version: "1.28.1".into(),
                installed_by: None,
            },
            RevisionState {
                name: "1-26-8".into(),
                version: "1.26.8".into(),
                installed_by: None,
            },
        ];
        lock.tags.insert("default".into(), "1-28-1".into());
        lock.namespaces.insert("bookinfo".into(), "default".into());
        lock.gateways.insert(
            "istio-ingress/ingress".into(),
            GatewayState {
                colours: BTreeMap::from([
                    ("blue".into(), "1-26-8".into()),
                    ("green".into(), "1-28-1".into()),
                ]),
                active: "green".into(),
            },
        );
        for (key, generation) in [
            ("Deployment/bookinfo/reviews-v1", 2),
            ("Deployment/bookinfo/ratings-v1", 0),
            ("Deployment/bookinfo/gone", 1),
            ("Deployment/istio-ingress/ingress-blue", 1),
        ] {
            lock.workloads.insert(
                key.into(),
                WorkloadState {
                    generation,
                    proxy: "1.28.1".into(),
                    config: None,
                },
            );
        }
        lock
    }

    #[test]
    fn lock_becomes_the_render_model() {
        let (spec, inventory) = bookinfo();
        let base = FactsBase::new(&spec, &inventory);
        let m = render_model(&spec, &inventory, &lock(), &base, None);
        assert_eq!(m.cluster, "bookinfo-demo");
        assert_eq!(m.default_revision.as_deref(), Some("1-28-1"));
        let tags: BTreeMap<&str, &[String]> = m
            .revisions
            .iter()
            .map(|r| (r.name.as_str(), r.tags.as_slice()))
            .collect();
        assert_eq!(tags["1-28-1"], ["default".to_string()]);
        assert!(tags["1-26-8"].is_empty());
        let gw = &m.gateways[0];
        assert_eq!(gw.active.as_deref(), Some("green"));
        assert_eq!(gw.colours["blue"], "1-26-8");
        // The spec's labels plus the revision label; bookinfo.yaml defines no Namespace.
        assert_eq!(m.namespaces.len(), 1);
        assert_eq!(m.namespaces[0].labels["mesh"], "enabled");
        assert_eq!(m.namespaces[0].labels["istio.io/rev"], "default");
        assert!(!m.namespaces[0].defined_elsewhere);
        // Only generation > 0 workloads that exist in the inventory; the tag resolves.
        let restarts: Vec<(String, &str)> = m
            .restarts
            .iter()
            .map(|r| (r.object.key(), r.value.as_str()))
            .collect();
        assert_eq!(
            restarts,
            [("Deployment/bookinfo/reviews-v1".to_string(), "1-28-1.2")]
        );
        assert_eq!(m.restarts[0].object.api_version, "apps/v1");
    }

    #[test]
    fn namespace_defined_in_manifests_is_patched_and_unmanaged_ones_are_absent() {
        let (spec, _) = bookinfo();
        let ns = crate::inventory::Object {
            id: crate::diagnostic::ObjectRef {
                api_version: "v1".into(),
                kind: "Namespace".into(),
                namespace: String::new(),
                name: "bookinfo".into(),
            },
            file: "apps/ns.yaml".into(),
            line: 1,
            body: serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bookinfo"}}),
        };
        let inventory = Inventory::from_objects(vec![ns]).expect("inventory");
        let base = FactsBase::new(&spec, &inventory);
        let m = render_model(&spec, &inventory, &lock(), &base, None);
        assert!(m.namespaces[0].defined_elsewhere);
        let empty = render_model(
            &spec,
            &inventory,
            &Lock::empty("bookinfo-demo"),
            &base,
            None,
        );
        assert!(empty.namespaces.is_empty() && empty.revisions.is_empty());
        assert_eq!(empty.gateways[0].active, None);
    }

    /// A Deployment in namespace `legacy` (not in the spec, unlabelled) whose pod template
    /// carries `pod_labels`.
    fn legacy(name: &str, pod_labels: serde_json::Value) -> crate::inventory::Object {
        crate::inventory::Object {
            id: crate::diagnostic::ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "legacy".into(),
                name: name.into(),
            },
            file: "apps/legacy.yaml".into(),
            line: 1,
            body: serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": "legacy"},
                "spec": {"template": {"metadata": {"labels": pod_labels},
                    "spec": {"containers": [{"name": "app", "image": "app"}]}}}}),
        }
    }

    #[test]
    fn restart_bump_names_the_revision_that_injects_the_workload() {
        let (spec, inventory) = bookinfo();
        let mut objects = inventory.objects.clone();
        // Pinned to the old revision while `default` points at the new one; and one that
        // opts in without naming a revision, so the default revision injects it.
        objects.push(legacy(
            "pinned",
            serde_json::json!({"istio.io/rev": "1-26-8"}),
        ));
        objects.push(legacy(
            "opted-in",
            serde_json::json!({"sidecar.istio.io/inject": "true"}),
        ));
        let inventory = Inventory::from_objects(objects).expect("inventory");
        let base = FactsBase::new(&spec, &inventory);
        let mut lock = lock();
        for key in ["Deployment/legacy/pinned", "Deployment/legacy/opted-in"] {
            lock.workloads.insert(
                key.into(),
                WorkloadState {
                    generation: 3,
                    proxy: "1.26.8".into(),
                    config: None,
                },
            );
        }
        let m = render_model(&spec, &inventory, &lock, &base, None);
        let restarts: BTreeMap<String, &str> = m
            .restarts
            .iter()
            .map(|r| (r.object.key(), r.value.as_str()))
            .collect();
        assert_eq!(restarts["Deployment/legacy/pinned"], "1-26-8.3");
        assert_eq!(restarts["Deployment/legacy/opted-in"], "1-28-1.3");
        // The namespace label still decides for workloads of labelled namespaces.
        assert_eq!(restarts["Deployment/bookinfo/reviews-v1"], "1-28-1.2");
    }
}
