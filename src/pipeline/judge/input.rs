//! The Rego input document (docs/policy-input.md): the facts, the plan and the lock as the
//! rules read them, and one slimmed input per step transition.

use crate::diagnostic::ObjectRef;
use crate::error::Error;
use crate::facts::Facts;
use crate::pipeline::Pipeline;
use crate::policy;

/// The Rego input document (docs/policy-input.md).
/// `step` names the step when one alone is judged; `rendered` is what the render tells
/// (`{drift?, gateways}`, see `rendered.rs`); `relabelled` is [`Transitions::relabelled`].
pub fn policy_input(
    ctx: &Pipeline,
    facts: &Facts,
    step: Option<&str>,
    rendered: Option<&serde_json::Value>,
    relabelled: &std::collections::BTreeMap<String, String>,
) -> Result<serde_json::Value, Error> {
    let plan = serde_json::to_value(&ctx.plan).map_err(|e| Error::Internal(e.to_string()))?;
    let state = match &ctx.lock {
        Some(lock) => {
            let mut state =
                serde_json::to_value(lock).map_err(|e| Error::Internal(e.to_string()))?;
            // The file digests are MP502's, judged in Rust (`drift.rs`): no rule reads them.
            if let Some(fields) = state.as_object_mut() {
                fields.remove("files");
            }
            Some(state)
        }
        None => None,
    };
    let mut input = policy::build_input(policy::InputParts {
        cluster: &ctx.spec.spec.metadata.name,
        spec: &ctx.spec.spec.spec,
        state: state.as_ref(),
        plan: &plan,
        step,
        facts,
        rendered,
    })?;
    // What the built manifest entries could not render offline (MP504): an inventory
    // fact, the same for every step.
    if let Some(facts) = input
        .get_mut("facts")
        .and_then(serde_json::Value::as_object_mut)
    {
        let unrendered = serde_json::to_value(&ctx.inventory.unrendered)
            .map_err(|e| Error::Internal(e.to_string()))?;
        facts.insert("unrendered".to_string(), unrendered);
        facts.insert("wiring".to_string(), wiring(ctx, relabelled));
        // Only a spec of several meshes has one, so a single mesh's input is unchanged.
        if let Some(tenancy) = &ctx.tenancy {
            let tenancy =
                serde_json::to_value(tenancy).map_err(|e| Error::Internal(e.to_string()))?;
            facts.insert("tenancy".to_string(), tenancy);
        }
    }
    Ok(input)
}

/// Whether the builds include meshplan's Components (MP505): `{checked, component,
/// namespacesComponent, workloads, namespaces, relabelled}`. `workloads` and `namespaces`
/// map a workload key or a Namespace name (the user's Namespace objects only: those
/// meshplan renders itself need no wiring) to `{build, included}`, `build` null when no
/// kustomization meshplan sees builds it; `relabelled` maps a namespace the judged steps
/// relabel to the step.
fn wiring(
    ctx: &Pipeline,
    relabelled: &std::collections::BTreeMap<String, String>,
) -> serde_json::Value {
    use serde_json::json;
    let output = ctx.spec.base_dir.join(&ctx.spec.spec.spec.output);
    let output = crate::pipeline::relative_to(&output, &ctx.dir)
        .unwrap_or(output)
        .to_string_lossy()
        .replace('\\', "/");
    let output = output.trim_end_matches('/');
    let component = format!("{output}/restarts");
    let namespaces_component = format!("{output}/namespaces");
    let entry = |obj: &crate::inventory::Object, component: &str| {
        let by = ctx
            .inventory
            .built_by
            .get(&crate::inventory::group_key(&obj.id));
        json!({
            "build": by.map(|b| b.build.as_str()),
            "included": by.is_some_and(|b| b.components.iter().any(|c| c == component)),
        })
    };
    let mut workloads = serde_json::Map::new();
    let mut namespaces = serde_json::Map::new();
    for obj in &ctx.inventory.objects {
        match obj.id.kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "CronJob" => {
                workloads.insert(obj.id.key(), entry(obj, &component));
            }
            "Namespace" if obj.id.api_version == "v1" => {
                namespaces.insert(obj.id.name.clone(), entry(obj, &namespaces_component));
            }
            _ => {}
        }
    }
    json!({"checked": ctx.inventory.wiring_checked, "component": component,
           "namespacesComponent": namespaces_component, "workloads": workloads,
           "namespaces": namespaces, "relabelled": relabelled})
}

/// One input per judged step for the transition rules (MP101, MP105, MP106, MP202, MP203,
/// MP401, MP403, MP404, MP603): the lock before the step and the lock the step leaves behind,
/// simulated from the lock (or an empty one for a new cluster) step by step. `judged` are
/// indices into `plan.steps`, a prefix of the remaining steps. With `one_change` and more
/// than one step, one more input judges the whole change as a single step (kind `change`,
/// named `<first> .. <last>`): what lands in one pull request must be safe as one transition
/// too, so `--step all` across hops skips minors (MP101) even though each step alone does
/// not. `one_change`: the judged steps land together (`render`/`commit --step all|N`);
/// `check` judges each step as the pull request it will be. Also gives the lock after the
/// last step (as [`lock_after`] computes it), so no caller applies the steps twice.
pub fn step_inputs(
    ctx: &Pipeline,
    judged: &[usize],
    one_change: bool,
) -> Result<Transitions, Error> {
    let cluster = &ctx.spec.spec.metadata.name;
    // The transition rules read `input.step`; the plan is passed without its steps (whose
    // restart lists the facts input already judged), and the committed lock is
    // `input.step.before` of the first step, so neither is repeated in every step's input.
    let plan = serde_json::json!({
        "from": ctx.plan.from,
        "to": ctx.plan.to,
        "hops": ctx.plan.hops,
        "problems": ctx.plan.problems,
    });
    let mut before = ctx
        .lock
        .clone()
        .unwrap_or_else(|| crate::state::Lock::empty(cluster));
    let steps: Vec<&crate::plan::Step> = judged
        .iter()
        .filter_map(|&i| ctx.plan.steps.get(i))
        .collect();
    // Cloned only when the whole change is judged: it is the inventory's size.
    let start = (one_change && steps.len() > 1).then(|| before.clone());
    let mut out = Vec::new();
    let mut relabelled = std::collections::BTreeMap::new();
    for step in &steps {
        let after = ctx.apply(&before, step);
        for (ns, label) in &after.namespaces {
            if before.namespaces.get(ns) != Some(label) {
                relabelled
                    .entry(ns.clone())
                    .or_insert_with(|| step.name.clone());
            }
        }
        let header = serde_json::json!({
            "name": step.name,
            "kind": step.kind,
            "hop": step.hop,
            "restarts": step.restarts,
            "manual": step.manual_workloads().collect::<Vec<_>>(),
            "stranded": stranded_input(ctx, step),
            "committed": super::committed::input(ctx, &after),
        });
        out.push(transition_input(ctx, &plan, header, &before, &after)?);
        before = after;
    }
    // Nothing left to do: `check` still judges the committed lock as it stands (a step that
    // changes nothing, named by no step), so a hand edit that leaves the traffic Service on
    // a missing colour (MP401) or a proxy out of skew (MP105) is reported on a settled
    // cluster too; rules comparing before and after stay quiet.
    if steps.is_empty()
        && !one_change
        && let Some(lock) = &ctx.lock
    {
        let header = serde_json::json!({
            "name": null,
            "kind": "settled",
            "hop": null,
            "restarts": [],
            "manual": [],
            "stranded": [],
            "committed": super::committed::input(ctx, lock),
        });
        out.push(transition_input(ctx, &plan, header, lock, lock)?);
    }
    if let (Some(start), Some(first), Some(last)) = (start, steps.first(), steps.last()) {
        let header = serde_json::json!({
            "name": format!("{} .. {}", first.name, last.name),
            "kind": "change",
            "hop": last.hop,
            "restarts": [],
            "manual": [],
            "stranded": [],
            "committed": super::committed::input(ctx, &before),
        });
        out.push(transition_input(ctx, &plan, header, &start, &before)?);
    }
    Ok(Transitions {
        inputs: out,
        after: before,
        relabelled,
    })
}

/// The judged steps as the transition rules see them ([`step_inputs`]).
pub struct Transitions {
    /// One policy input per step, and one for the whole change when it is judged as one.
    pub inputs: Vec<serde_json::Value>,
    /// The lock after the last judged step.
    pub after: crate::state::Lock,
    /// Namespaces whose `istio.io/rev` label the judged steps set or change, each with the
    /// first step that does (MP505 checks the `namespaces/` Component reaches them).
    pub relabelled: std::collections::BTreeMap<String, String>,
}

/// One transition's input: `header` (name, kind, hop and lists) as `input.step`, with the
/// locks `before` and `after` it as [`step_locks`] slims them.
fn transition_input(
    ctx: &Pipeline,
    plan: &serde_json::Value,
    mut header: serde_json::Value,
    before: &crate::state::Lock,
    after: &crate::state::Lock,
) -> Result<serde_json::Value, Error> {
    let (before_json, after_json) =
        step_locks(before, after).map_err(|e| Error::Internal(e.to_string()))?;
    // The manifests' objects of the workloads the step's locks keep, so a finding about one
    // (MP105) names the object and points at its file and line.
    let objects: serde_json::Map<String, serde_json::Value> = after_json["workloads"]
        .as_object()
        .into_iter()
        .flat_map(|w| w.keys())
        .filter_map(|key| {
            let (kind, namespace, name) = ObjectRef::split_key(key)?;
            let object = &ctx.inventory.get(kind, namespace, name)?.id;
            Some((key.clone(), serde_json::to_value(object).ok()?))
        })
        .collect();
    if let Some(step) = header.as_object_mut() {
        step.insert("before".into(), before_json);
        step.insert("after".into(), after_json);
        step.insert("objects".into(), serde_json::Value::Object(objects));
        // Only an ambient mesh has them, so a sidecar mesh's step input is unchanged.
        let waypoints = waypoints_input(ctx);
        if !waypoints.is_empty() {
            step.insert("waypoints".into(), serde_json::Value::Array(waypoints));
        }
    }
    Ok(policy::build_step_input(
        &ctx.spec.spec.metadata.name,
        &ctx.spec.spec.spec,
        None,
        plan,
        header,
    )?)
}

/// `step.waypoints` of a step input: `{key, object, uses}` per waypoint of this mesh, `uses`
/// the revision or tag its `istio.io/rev` label names (`default` without one), which MP603
/// resolves in the lock after the step and MP202 counts as a use. In a spec of several
/// meshes only the waypoints in this mesh's namespaces are its own.
fn waypoints_input(ctx: &Pipeline) -> Vec<serde_json::Value> {
    let own = |namespace: &str| {
        ctx.tenancy.is_none()
            || ctx
                .spec
                .spec
                .spec
                .namespaces
                .iter()
                .any(|n| n.name == namespace)
    };
    ctx.base
        .waypoints()
        .iter()
        .filter(|w| own(&w.object.namespace))
        .map(|w| serde_json::json!({"key": w.key, "object": w.object, "uses": w.uses}))
        .collect()
}

/// `step.stranded` of a step input: `{key, object, revision}` per workload whose injecting
/// revision the step removes, the object as diagnostics reference it.
fn stranded_input(ctx: &Pipeline, step: &crate::plan::Step) -> Vec<serde_json::Value> {
    step.stranded
        .iter()
        .filter_map(|(key, revision)| {
            let (kind, namespace, name) = ObjectRef::split_key(key)?;
            let object = &ctx.inventory.get(kind, namespace, name)?.id;
            Some(serde_json::json!({"key": key, "object": object, "revision": revision}))
        })
        .collect()
}

/// The locks before and after a step as the transition rules see them: complete, except
/// that `workloads` keeps only those the step concerns — whose proxy or restart generation
/// changes, whose namespace the step moves to another control plane, or whose recorded proxy
/// is outside its control plane's skew after the step. The others cannot skip a minor or
/// change skew in this step, and leaving them out keeps each step's input proportional to
/// the step rather than to the whole inventory.
fn step_locks(
    before: &crate::state::Lock,
    after: &crate::state::Lock,
) -> Result<(serde_json::Value, serde_json::Value), serde_json::Error> {
    use std::collections::BTreeSet;
    let serving = |lock: &crate::state::Lock, ns: &str| -> Option<String> {
        let revision = lock.namespace_revision(ns)?;
        lock.revision_version(revision).map(str::to_string)
    };
    let namespaces: BTreeSet<&String> = before
        .namespaces
        .keys()
        .chain(after.namespaces.keys())
        .collect();
    let moved: BTreeSet<&str> = namespaces
        .into_iter()
        .filter(|ns| serving(before, ns) != serving(after, ns))
        .map(String::as_str)
        .collect();
    // A proxy the lock already records outside its control plane's skew (a hand-edited
    // lock, or one left by a release that did not restart it) is judged in every step
    // until it is restarted, whether or not the step touches it: MP105 must see it.
    let out_of_skew = |key: &str| -> bool {
        use crate::catalog::Version;
        let Some(w) = after.workloads.get(key) else {
            return false;
        };
        let served =
            serving(after, ObjectRef::key_namespace(key)).and_then(|v| v.parse::<Version>().ok());
        match (served, w.proxy.parse::<Version>().ok()) {
            (Some(served), Some(proxy)) => {
                served < proxy || served.major != proxy.major || served.minor > proxy.minor + 1
            }
            _ => false,
        }
    };
    let concerned = |key: &str| -> bool {
        before.workloads.get(key) != after.workloads.get(key)
            || moved.contains(ObjectRef::key_namespace(key))
            || out_of_skew(key)
    };
    let keep = |lock: &crate::state::Lock| -> Result<serde_json::Value, serde_json::Error> {
        let mut slim = lock.clone();
        slim.workloads.retain(|k, _| concerned(k));
        slim.files.clear();
        let mut value = serde_json::to_value(&slim)?;
        // The parts of each workload's key as fields, so no rule splits the key string.
        if let Some(workloads) = value["workloads"].as_object_mut() {
            for (key, w) in workloads.iter_mut() {
                let (Some((kind, namespace, name)), Some(fields)) =
                    (ObjectRef::split_key(key), w.as_object_mut())
                else {
                    continue;
                };
                fields.insert("kind".into(), kind.into());
                fields.insert("namespace".into(), namespace.into());
                fields.insert("name".into(), name.into());
            }
        }
        Ok(value)
    };
    Ok((keep(before)?, keep(after)?))
}
