//! `input.rendered.collisions` (rule MP208): objects meshplan renders that the manifests
//! declare too, by API group, kind, namespace and name. Two files declaring one object means
//! two GitOps owners fighting over it, and a prune by either uninstalls it. Computed once in
//! Rust against the inventory's group index; the policy only turns the list into findings.
//!
//! Only the render's resources count (the files the root `kustomization.yaml` lists under
//! `resources`): its patches name objects of the manifests on purpose. Objects of the
//! manifests that are meshplan's own committed render (labelled
//! `app.kubernetes.io/managed-by: meshplan`), and those `meshplan adopt` took over, are not
//! collisions.

use crate::diagnostic::ObjectRef;
use crate::pipeline::Pipeline;
use crate::plan::LockTransition;
use crate::render::RenderedTree;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// The collisions of `tree` (paths relative to the output directory, shown as `prefix/…`)
/// with the inventory, sorted and without duplicates.
pub fn collisions(ctx: &Pipeline, tree: &RenderedTree, prefix: &str) -> Vec<Value> {
    let resources = resources(tree);
    let prefix = prefix.trim_end_matches('/');
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (rel, text) in tree {
        if !resources.contains(rel.as_str()) {
            continue;
        }
        let file = crate::pipeline::change::drift::display_in(prefix, rel);
        // meshplan's own render: a document it cannot read back is a bug reported by the
        // renderer's validation, not a collision.
        let Ok(docs) = crate::inventory::parse_documents(text, Path::new(&file)) else {
            continue;
        };
        for doc in docs {
            let Some(id) = object_ref(&doc.value) else {
                continue;
            };
            let group = crate::inventory::group_of(&id.api_version);
            let Some(theirs) = ctx
                .inventory
                .get_in_group(group, &id.kind, &id.namespace, &id.name)
            else {
                continue;
            };
            let ours = theirs
                .body
                .pointer("/metadata/labels/app.kubernetes.io~1managed-by")
                .and_then(Value::as_str)
                == Some("meshplan");
            let adopted = ctx
                .lock
                .as_ref()
                .is_some_and(|l| l.adopted_object(&id.kind, &id.namespace, &id.name));
            if ours || adopted || !seen.insert(theirs.id.key()) {
                continue;
            }
            out.push(json!({
                "key": theirs.id.key(),
                "object": theirs.id,
                "file": theirs.file,
                "line": theirs.line,
                "rendered": file,
            }));
        }
    }
    out
}

/// The files the root `kustomization.yaml` lists under `resources`.
pub fn resources(tree: &RenderedTree) -> BTreeSet<&str> {
    let Some(text) = tree.get("kustomization.yaml") else {
        return BTreeSet::new();
    };
    let Ok(value) = serde_saphyr::from_str::<Value>(text) else {
        return BTreeSet::new();
    };
    let listed: BTreeSet<String> = value
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    tree.keys()
        .filter(|k| listed.contains(k.as_str()))
        .map(String::as_str)
        .collect()
}

/// The reference of a rendered document (namespace as written: meshplan writes it).
fn object_ref(doc: &Value) -> Option<ObjectRef> {
    Some(ObjectRef {
        api_version: doc.get("apiVersion")?.as_str()?.to_string(),
        kind: doc.get("kind")?.as_str()?.to_string(),
        namespace: doc
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        name: doc.pointer("/metadata/name")?.as_str()?.to_string(),
    })
}

/// The collisions `check` judges: those of the render after the first judged step (the next
/// pull request) and after all of them, without restart patches (they are no resources).
pub fn check_collisions(
    ctx: &Pipeline,
    judged: &[usize],
    charts: &crate::render::Charts,
) -> Result<Vec<Value>, crate::error::Error> {
    let prefix = crate::pipeline::change::drift::display_path(
        ctx,
        &crate::pipeline::change::drift::output_dir(ctx),
    );
    let mut lock = ctx.lock.as_ref().map_or_else(
        || crate::state::Lock::empty(&ctx.spec.spec.metadata.name),
        crate::state::Lock::without_workloads,
    );
    let mut out = Vec::new();
    let last = judged.len().saturating_sub(1);
    for (i, step) in judged
        .iter()
        .filter_map(|&i| ctx.plan.steps.get(i))
        .enumerate()
    {
        lock = lock.transform(&ctx.plan.gateways, step);
        if i == 0 || i == last {
            let mut model = crate::pipeline::change::model::render_model(
                &ctx.spec.spec,
                &ctx.inventory,
                &lock,
                &ctx.base,
                ctx.tenancy.as_ref(),
            );
            model.restarts.clear();
            let rendered = crate::render::render(&model, charts);
            let Some(tree) =
                super::refusals::unless_refused(rendered).map_err(|e| ctx.render_error(e))?
            else {
                continue;
            };
            out.extend(collisions(ctx, &tree, &prefix));
        }
    }
    out.sort_by_key(|c| c["key"].as_str().map(str::to_string));
    out.dedup_by(|a, b| a["key"] == b["key"]);
    Ok(out)
}

/// Adds `collisions` to the `rendered` part of the policy input.
pub fn add_to(rendered: &mut Value, collisions: Vec<Value>) {
    if let Value::Object(map) = rendered {
        map.insert("collisions".into(), Value::Array(collisions));
    }
}
