//! Which workloads each step moves: restarts, manual restarts and stranded workloads,
//! asked of the facts once per step.

use super::*;

/// Gives a plan with nothing left to do a `release` step when the lock still records
/// workloads deleted from the manifests (`gone`): their restart patches must leave the
/// render, since a Kustomize patch without its object breaks the build, and only an applied
/// step writes the render. A plan with steps left needs none: every applied step forgets
/// them (`Lock::forget_workloads`).
pub fn release_gone_workloads(plan: &mut Plan, gone: bool) {
    if !gone || plan.remaining().next().is_some() {
        return;
    }
    // The version the mesh stays on: the only hop of a settled plan, the current version of
    // a plan a problem stopped.
    let hop = plan.hops.first().unwrap_or(&plan.to).clone();
    let mut s = step(RELEASE.to_string(), &hop, StepKind::Release, "");
    s.view = plan.start.clone();
    plan.steps.push(s);
}

/// Fills each remaining step's `restarts` and `manual` lists: a workload moves in a step
/// when the revision that would inject it differs before and after the step, or when the
/// step bumps restarts without a revision change (in-place upgrades, config changes). The
/// first remaining step starts from the lock's view; done steps keep empty lists. Asks the
/// base for each workload's injecting revision per step ([`FactsBase::revisions_at`]), so
/// nothing per workload is cloned.
pub fn annotate(plan: &mut Plan, base: &FactsBase) {
    let mut before = base.revisions_at(&plan.start);
    for step in &mut plan.steps {
        if step.done {
            continue;
        }
        let after = base.revisions_at(&step.view);
        let (mut restarts, manual) = moved(&before, &after, step);
        for g in &step.gateway_restarts {
            if !restarts.contains(g) {
                restarts.push(g.clone());
            }
        }
        step.restarts = restarts;
        step.manual = manual;
        step.stranded = stranded(&before, &step.view);
        before = after;
    }
}

/// Workloads a step moves, split into those a restart bump handles and those a person must
/// restart, sorted by key. Both lists come from the same base, so they are index-aligned. A
/// tag step lists them in wave order (its namespaces are in wave order).
pub(super) fn moved(
    before: &[(&str, bool, Option<String>)],
    after: &[(&str, bool, Option<String>)],
    step: &Step,
) -> (Vec<String>, Vec<String>) {
    let position: BTreeMap<&str, usize> = step
        .namespaces
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let bumped = |ns: &str| match step.bump {
        Bump::None => false,
        Bump::All => true,
        Bump::Namespaces => position.contains_key(ns),
        Bump::NamespacesAndUnmanaged => {
            position.contains_key(ns) || !step.view.managed_namespaces.contains_key(ns)
        }
    };
    let mut restarts = Vec::new();
    let mut manual = Vec::new();
    for ((_, _, b), (key, restartable, a)) in before.iter().zip(after) {
        if a.is_none() {
            continue;
        }
        let ns = crate::diagnostic::ObjectRef::key_namespace(key);
        if a != b || bumped(ns) {
            let rank = position.get(ns).copied().unwrap_or(usize::MAX);
            if *restartable {
                restarts.push((rank, (*key).to_string()));
            } else {
                manual.push((rank, (*key).to_string()));
            }
        }
    }
    let order = |v: &mut Vec<(usize, String)>| {
        if step.kind == StepKind::Tag {
            v.sort();
        } else {
            v.sort_by(|a, b| a.1.cmp(&b.1));
        }
    };
    order(&mut restarts);
    order(&mut manual);
    let keys = |v: Vec<(usize, String)>| v.into_iter().map(|(_, k)| k).collect();
    (keys(restarts), keys(manual))
}

/// Workloads whose injecting revision in `before` is not installed in `after`, with that
/// revision, sorted by key.
pub(super) fn stranded(
    before: &[(&str, bool, Option<String>)],
    after: &MeshView,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = before
        .iter()
        .filter_map(|(key, _, revision)| {
            let revision = revision.as_ref()?;
            (!after.revisions.contains_key(revision))
                .then(|| ((*key).to_string(), revision.clone()))
        })
        .collect();
    out.sort();
    out
}
