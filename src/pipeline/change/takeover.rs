//! Taking over the adopted `base` release (and the HelmRepository it installs from) in place.
//!
//! Uninstalling a `base` release leaves Istio's CRDs behind owned by no release (they carry
//! `helm.sh/resource-policy: keep`), so the next `base` install fails on Helm's ownership
//! metadata, and it deletes the default revision's validation webhook. Moving a Flux object
//! from one Kustomization to another with `prune: true` is such an uninstall. So the commit
//! whose render first declares an object `meshplan adopt` took over (the install step)
//! removes the user's document and adds meshplan's of the same kind, namespace and name, and
//! meshplan's carries the annotations that stop Flux and Argo CD from pruning it while one
//! of them still has the user's copy in its inventory (docs/adopt.md).

use crate::pipeline::Pipeline;
use crate::render::RenderedTree;
use crate::state::{Lock, ObjectOrigin};
use serde_json::Value;
use std::path::Path;

/// Annotations that keep an object when the GitOps source that applied it drops it: Flux
/// kustomize-controller's and Argo CD's.
pub const KEEP_ANNOTATIONS: [(&str, &str); 2] = [
    ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
    ("argocd.argoproj.io/sync-options", "Prune=false"),
];

/// Marks every rendered resource that is an object `lock` took over (`adopted`) with
/// [`KEEP_ANNOTATIONS`], rewriting its file in the canonical form. The user's copy and
/// meshplan's have the same name, so whichever Kustomization or Application reconciles the
/// hand-over commit first must not delete the object the other one is about to own.
pub fn mark(tree: &mut RenderedTree, lock: &Lock) {
    if lock.adopted.is_empty() {
        return;
    }
    let resources: Vec<String> = crate::pipeline::judge::collisions::resources(tree)
        .into_iter()
        .map(str::to_string)
        .collect();
    for rel in resources {
        let Some(text) = tree.get(&rel) else { continue };
        // meshplan's own canonical render always reads back (the renderer checked it).
        let Ok(mut docs) = serde_saphyr::from_multiple::<Value>(text) else {
            continue;
        };
        let mut changed = false;
        for doc in &mut docs {
            if !taken_over(doc, lock) {
                continue;
            }
            let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) else {
                continue;
            };
            let annotations = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Value::Object(map) = annotations {
                for (key, value) in KEEP_ANNOTATIONS {
                    map.insert(key.to_string(), Value::String(value.to_string()));
                }
                changed = true;
            }
        }
        if changed {
            tree.insert(rel, crate::render::canonical::to_yaml_documents(&docs));
        }
    }
}

/// Whether the rendered document `doc` is an object `lock` took over.
fn taken_over(doc: &Value, lock: &Lock) -> bool {
    let field = |pointer: &str| doc.pointer(pointer).and_then(Value::as_str);
    let (Some(kind), Some(name)) = (field("/kind"), field("/metadata/name")) else {
        return false;
    };
    let namespace = field("/metadata/namespace").unwrap_or("");
    lock.adopted.iter().any(|o| o.is(kind, namespace, name))
}

/// The adopted objects whose user document the change from `before` to `after` replaces:
/// those `tree` (the render of `after`) declares, when `before` renders no release of
/// meshplan's own yet (every revision it records is installed by the user's object). That is
/// the first step of the first hop; from then on meshplan's copy is the only one.
pub fn replaced(before: Option<&Lock>, after: &Lock, tree: &RenderedTree) -> Vec<ObjectOrigin> {
    let Some(before) = before else {
        return Vec::new();
    };
    if before.adopted.is_empty() || !first_own_release(before, after) {
        return Vec::new();
    }
    let declared = declared(tree);
    before
        .adopted
        .iter()
        .filter(|o| declared.iter().any(|(k, ns, n)| o.is(k, ns, n)))
        .cloned()
        .collect()
}

/// Whether `after` is the first lock with a revision meshplan renders itself.
pub fn first_own_release(before: &Lock, after: &Lock) -> bool {
    let own = |l: &Lock| l.revisions.iter().any(|r| r.installed_by.is_none());
    !own(before) && own(after)
}

/// `(kind, namespace, name)` of every resource document of `tree`.
fn declared(tree: &RenderedTree) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for rel in crate::pipeline::judge::collisions::resources(tree) {
        let Some(text) = tree.get(rel) else { continue };
        let Ok(docs) = crate::inventory::parse_documents(text, Path::new(rel)) else {
            continue;
        };
        for doc in docs {
            let field = |pointer: &str| doc.value.pointer(pointer).and_then(Value::as_str);
            if let (Some(kind), Some(name)) = (field("/kind"), field("/metadata/name")) {
                out.push((
                    kind.to_string(),
                    field("/metadata/namespace").unwrap_or("").to_string(),
                    name.to_string(),
                ));
            }
        }
    }
    out
}

/// The documents of the user's files the change from `before` to `after` deletes: the
/// `installedBy` objects of the adopted revisions it retires
/// ([`super::retire::retired`]), then the adopted objects meshplan's render (`tree`) takes
/// over in place ([`replaced`]).
pub fn deleted(before: Option<&Lock>, after: &Lock, tree: &RenderedTree) -> Vec<ObjectOrigin> {
    let mut out = super::retire::retired(before, after);
    out.extend(replaced(before, after, tree));
    out
}

/// The render of the first step of `ctx`'s plan that renders a release of meshplan's own
/// beside adopted revisions: what [`super::retire::annotate`] needs to list the documents
/// meshplan cannot replace itself and the [`helm_actions`]. Rendered with the embedded
/// charts (only the names of the releases and their source matter here).
pub fn render_after(ctx: &Pipeline, before: &Lock, after: &Lock) -> Option<RenderedTree> {
    if before.revisions.is_empty() || !first_own_release(before, after) {
        return None;
    }
    super::drift::try_render(ctx, after, &crate::render::Charts::embedded()).ok()
}

/// What a person must do in the cluster before the change from `before` to `after` merges:
/// when it is the first to render meshplan's `istio-base` Flux HelmRelease beside an
/// adopted install that no `istio-base` release of the user's installed (an IstioOperator,
/// Sail, `helm template` output applied with kubectl, a base release of another name),
/// Istio's CRDs and the base chart's other objects exist without Helm's ownership metadata
/// for that release, and Helm refuses to install over them.
pub fn helm_actions(before: Option<&Lock>, after: &Lock, tree: &RenderedTree) -> Vec<String> {
    let Some(before) = before else {
        return Vec::new();
    };
    if before.revisions.is_empty() || !first_own_release(before, after) {
        return Vec::new();
    }
    let base = declared(tree)
        .into_iter()
        .find(|(kind, _, name)| kind == "HelmRelease" && name == "istio-base");
    let Some((_, namespace, name)) = base else {
        return Vec::new();
    };
    if before
        .adopted
        .iter()
        .any(|o| o.is("HelmRelease", &namespace, &name))
    {
        return Vec::new();
    }
    let installers: Vec<String> = before
        .revisions
        .iter()
        .filter_map(|r| r.installed_by.as_ref())
        .map(|o| {
            let ns = if o.namespace.is_empty() {
                String::new()
            } else {
                format!("{}/", o.namespace)
            };
            format!("{}/{ns}{} ({})", o.kind, o.name, o.file)
        })
        .collect();
    vec![format!(
        "before this pull request merges, let Helm adopt the objects of Istio's base chart that \
         {} installed (its CRDs, the default validating webhook, the reader ServiceAccount): \
         label them app.kubernetes.io/managed-by=Helm and annotate them \
         meta.helm.sh/release-name={name} and meta.helm.sh/release-namespace={namespace} in the \
         cluster, or the {name} install fails on Helm's ownership metadata",
        installers.join(", ")
    )]
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::state::RevisionState;

    fn origin(kind: &str, name: &str) -> ObjectOrigin {
        ObjectOrigin {
            file: "apps/istio/releases.yaml".to_string(),
            kind: kind.to_string(),
            namespace: "istio-system".to_string(),
            name: name.to_string(),
        }
    }

    fn adopted_lock() -> Lock {
        let mut lock = Lock::empty("c");
        lock.revisions.push(RevisionState {
            name: "default".to_string(),
            version: "1.24.6".to_string(),
            installed_by: Some(origin("HelmRelease", "istiod")),
        });
        lock.adopted = vec![origin("HelmRelease", "istio-base")];
        lock
    }

    fn tree() -> RenderedTree {
        let mut tree = RenderedTree::new();
        tree.insert(
            "kustomization.yaml".to_string(),
            "resources:\n  - istio-system/istio-base.yaml\n".to_string(),
        );
        tree.insert(
            "istio-system/istio-base.yaml".to_string(),
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: istio-base\n  namespace: istio-system\n".to_string(),
        );
        tree
    }

    #[test]
    fn the_first_own_release_replaces_what_its_render_declares() {
        let before = adopted_lock();
        let mut after = before.clone();
        after.revisions.push(RevisionState {
            name: "1-26-8".to_string(),
            version: "1.26.8".to_string(),
            installed_by: None,
        });
        assert_eq!(
            replaced(Some(&before), &after, &tree()),
            vec![origin("HelmRelease", "istio-base")]
        );
        // Once meshplan renders its own release, the copy is already its own.
        assert!(replaced(Some(&after), &after, &tree()).is_empty());
        // Nothing is replaced that the render does not declare again.
        assert!(replaced(Some(&before), &after, &RenderedTree::new()).is_empty());
    }

    #[test]
    fn a_base_release_over_objects_helm_does_not_own_is_a_manual_action() {
        let mut before = adopted_lock();
        let mut after = before.clone();
        after.revisions.push(RevisionState {
            name: "1-26-8".to_string(),
            version: "1.26.8".to_string(),
            installed_by: None,
        });
        // The user's istio-base release is taken over: Helm owns its objects already.
        assert!(helm_actions(Some(&before), &after, &tree()).is_empty());
        // Without it (an IstioOperator installed the CRDs), Helm must adopt them first.
        before.adopted.clear();
        after.adopted.clear();
        let actions = helm_actions(Some(&before), &after, &tree());
        assert_eq!(actions.len(), 1, "{actions:?}");
        assert!(
            actions[0].contains("HelmRelease/istio-system/istiod (apps/istio/releases.yaml)")
                && actions[0].contains("meta.helm.sh/release-name=istio-base")
                && actions[0].contains("meta.helm.sh/release-namespace=istio-system"),
            "{actions:?}"
        );
        // Only the first step rendering a release of meshplan's own asks, and a new cluster
        // has nothing to adopt.
        assert!(helm_actions(Some(&after), &after, &tree()).is_empty());
        assert!(helm_actions(None, &after, &tree()).is_empty());
    }

    #[test]
    fn taken_over_objects_are_marked_against_pruning() {
        let mut t = tree();
        mark(&mut t, &adopted_lock());
        let text = &t["istio-system/istio-base.yaml"];
        assert!(
            text.contains("kustomize.toolkit.fluxcd.io/prune: disabled"),
            "{text}"
        );
        assert!(
            text.contains("argocd.argoproj.io/sync-options: Prune=false"),
            "{text}"
        );
        let mut plain = tree();
        mark(&mut plain, &Lock::empty("c"));
        assert_eq!(plain, tree());
    }
}
