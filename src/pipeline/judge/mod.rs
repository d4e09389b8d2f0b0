//! Judging a change: the facts after the judged steps, one policy input for them and one per
//! step transition, evaluated by the policy set and located in the manifests or the spec.
//! The Rego input is built in [`input`]; what the render tells the rules comes from
//! [`rendered`] (MP402), [`collisions`] (MP208) and [`refusals`] (MP108/MP110 render refusals);
//! [`committed`] gives each step the committed sidecars and the istiod they talk to (MP105,
//! MP202).

pub mod collisions;
pub mod committed;
mod input;
pub mod refusals;
pub mod rendered;

pub use input::{Transitions, policy_input, step_inputs};

use crate::error::Error;
use crate::facts::Facts;
use crate::pipeline::Pipeline;
use crate::policy::{self, PolicySet};
use crate::report::RuleInfo;
use std::path::PathBuf;

/// Evaluates the policies on the facts after the `judged` steps and on each judged step's
/// transition, then applies overrides, waivers and locations: the diagnostics of one change.
/// `judged` must be a prefix of the remaining steps (see [`Plan::remaining_indices`](crate::plan::Plan::remaining_indices)), and `transitions`
/// their [`step_inputs`].
pub fn evaluate(
    ctx: &Pipeline,
    policies: &PolicySet,
    judged: &[usize],
    step: Option<&str>,
    rendered: Option<&serde_json::Value>,
    transitions: &Transitions,
) -> Result<Vec<crate::diagnostic::Diagnostic>, Error> {
    let facts = judged_facts(ctx, judged, &transitions.after);
    let input = policy_input(ctx, &facts, step, rendered, &transitions.relabelled)?;
    let mut findings = policies.evaluate(&input)?;
    for step_input in &transitions.inputs {
        findings.extend(policies.evaluate(step_input)?);
    }
    let mut diagnostics = policy::apply(findings, &ctx.spec.spec.spec, &ctx.today, &|o| {
        ctx.locate(o)
    });
    for d in &mut diagnostics {
        ctx.locate_in_spec(d);
    }
    crate::diagnostic::normalize(&mut diagnostics);
    Ok(diagnostics)
}

/// The rules' metadata as the reporters need it.
pub fn rule_infos(policies: &PolicySet) -> Vec<RuleInfo> {
    policies
        .rules()
        .iter()
        .map(|r| RuleInfo {
            code: r.code.clone(),
            name: r.name.clone(),
            severity: r.severity,
            title: r.title.clone(),
            description: r.description.clone(),
            help: r.remediation.clone(),
        })
        .collect()
}

/// The built-in policies plus `--policies` and `spec.policies` directories.
pub fn load_policies(ctx: &Pipeline, extra: &[PathBuf]) -> Result<PolicySet, Error> {
    let mut dirs: Vec<PathBuf> = extra.iter().map(|d| ctx.dir.join(d)).collect();
    dirs.extend(
        ctx.spec
            .spec
            .spec
            .policies
            .iter()
            .map(|d| ctx.spec.base_dir.join(d)),
    );
    Ok(PolicySet::load(true, &dirs)?)
}

/// The lock after the judged steps (indices into `plan.steps`, a prefix of the remaining
/// ones): the committed lock, or an empty one for a new cluster, with each step applied.
pub fn lock_after(ctx: &Pipeline, judged: &[usize]) -> crate::state::Lock {
    let mut lock = ctx
        .lock
        .clone()
        .unwrap_or_else(|| crate::state::Lock::empty(&ctx.spec.spec.metadata.name));
    for step in judged.iter().filter_map(|&i| ctx.plan.steps.get(i)) {
        lock = ctx.apply(&lock, step);
    }
    lock
}

/// The facts after the judged steps (indices into `plan.steps`), with each workload marked
/// moving in the first step that moves it, and what its running proxy was started with
/// according to `after`, the lock those steps leave (see [`lock_after`]).
pub fn judged_facts(ctx: &Pipeline, judged: &[usize], after: &crate::state::Lock) -> Facts {
    let indices = judged;
    let judged: Vec<&crate::plan::Step> = judged
        .iter()
        .filter_map(|&i| ctx.plan.steps.get(i))
        .collect();
    let mut facts = match judged.last() {
        Some(step) => ctx.base.at(&step.view),
        None => ctx.base.at(&ctx.plan.start),
    };
    let mut step_of = std::collections::BTreeMap::new();
    for step in &judged {
        for key in step.restarts.iter().chain(step.manual_workloads()) {
            step_of.entry(key.as_str()).or_insert(step.name.as_str());
        }
    }
    for w in &mut facts.workloads {
        if let Some(step) = step_of.get(w.key.as_str()) {
            w.moving = true;
            w.step = Some((*step).to_string());
        }
    }
    facts.versions = ctx.version_facts();
    facts.config_hash = ctx.plan.config.clone();
    fill_running_proxies(ctx, &mut facts, indices, after);
    crate::facts::installations::mark_adopted(&mut facts.installations, ctx.lock.as_ref());
    facts
}

/// Fills each workload's `proxy`, `proxyConfig` and `nextRestart`, and the gateway colours'
/// Deployments (MP501 reads them): the
/// lock's record when meshplan restarted it or asked for a restart, else what injected it
/// under the committed lock, which is what its pods have run since they were created.
/// Linear in the workloads and in the later steps' lists.
fn fill_running_proxies(
    ctx: &Pipeline,
    facts: &mut Facts,
    judged: &[usize],
    after: &crate::state::Lock,
) {
    use std::collections::BTreeMap;
    let committed = ctx.lock.as_ref();
    let committed_config = committed
        .and_then(|l| l.config_hash.as_ref())
        .map(|h| h.workloads.clone());
    let injected_before: BTreeMap<&str, Option<String>> = ctx
        .base
        .revisions_at(&ctx.plan.start)
        .into_iter()
        .map(|(key, _, revision)| (key, revision))
        .collect();
    let first_later = judged.last().map_or(0, |&i| i + 1);
    let mut next_restart: BTreeMap<&str, &str> = BTreeMap::new();
    for step in ctx.plan.steps.iter().skip(first_later).filter(|s| !s.done) {
        for key in step.restarts.iter().chain(step.manual_workloads()) {
            next_restart
                .entry(key.as_str())
                .or_insert(step.name.as_str());
        }
    }
    for w in &mut facts.workloads {
        w.next_restart = next_restart.get(w.key.as_str()).map(|s| (*s).to_string());
        // A committed sidecar runs the version its image pins, whatever was recorded.
        if w.sidecar == "manual" {
            continue;
        }
        match after.workloads.get(&w.key) {
            Some(record) => {
                w.proxy = Some(record.proxy.clone());
                w.proxy_config = record.config.clone().or_else(|| committed_config.clone());
            }
            None => {
                let revision = injected_before.get(w.key.as_str()).cloned().flatten();
                w.proxy = revision
                    .as_deref()
                    .and_then(|r| committed.and_then(|l| l.revision_version(r)))
                    .map(str::to_string);
                w.proxy_config = w.proxy.as_ref().and(committed_config.clone());
            }
        }
    }
    let committed_gateways = committed
        .and_then(|l| l.config_hash.as_ref())
        .map(|h| h.gateways.clone());
    let fresh = ctx.plan.config.as_ref().map(|h| h.gateways.clone());
    // Gateways the spec dropped are no longer rendered: their colours are not meshplan's
    // to restart.
    let planned = |key: &str| ctx.plan.gateways.iter().any(|g| g.key == key);
    for (gateway, state) in after.gateways.iter().filter(|(k, _)| planned(k)) {
        // Keys are `namespace/name` (the lock's loader checks it); anything else has no
        // Deployment to name.
        if !gateway.contains('/') {
            continue;
        }
        let existed = |colour: &str| {
            committed
                .and_then(|l| l.gateways.get(gateway))
                .is_some_and(|g| g.colours.contains_key(colour))
        };
        for (colour, revision) in &state.colours {
            let object = crate::state::colour_deployment_ref(gateway, colour);
            let key = object.key();
            // A colour created by the judged change is rendered with the spec's config.
            let proxy_config = match after.workloads.get(&key) {
                Some(record) => record.config.clone().or_else(|| committed_gateways.clone()),
                None if existed(colour) => committed_gateways.clone(),
                None => fresh.clone(),
            };
            facts.gateways.push(crate::facts::GatewayDeploymentFacts {
                next_restart: next_restart.get(key.as_str()).map(|s| (*s).to_string()),
                key,
                gateway: gateway.clone(),
                colour: colour.clone(),
                revision: revision.clone(),
                proxy_config,
                object,
            });
        }
    }
}

impl Pipeline {
    /// Judges the `judged` steps (indices into `plan.steps`, a prefix of the remaining ones,
    /// see [`Plan::remaining_indices`](crate::plan::Plan::remaining_indices)) as `check` does, each as the pull request it will be: the rendered
    /// files' drift (MP502), the gateways a render would ship (MP402), collisions with the
    /// manifests (MP208), render refusals, then every policy on the facts after the steps
    /// and on each step's transition. `step` names the step when one alone is judged.
    /// Diagnostics come located (manifest or spec file and line) and sorted.
    pub fn judge(
        &self,
        policies: &PolicySet,
        judged: &[usize],
        step: Option<&str>,
        charts: &crate::render::Charts,
    ) -> Result<Vec<crate::diagnostic::Diagnostic>, Error> {
        let (drift, committed) = crate::pipeline::change::drift::rendered_drift(
            self,
            charts,
            rendered::may_hold_release,
        )?;
        let gateways = rendered::check_gateways(self, judged, charts, &committed)?;
        let mut rendered = rendered::to_input(drift.as_ref(), &gateways)?;
        let collisions = collisions::check_collisions(self, judged, charts)?;
        collisions::add_to(&mut rendered, collisions);
        let transitions = step_inputs(self, judged, false)?;
        let refusals = refusals::render_refusals(self, judged, charts, &transitions.after)?;
        if let Some(fields) = rendered.as_object_mut() {
            fields.insert("refused".into(), refusals::to_input(&refusals));
        }
        let mut diagnostics =
            evaluate(self, policies, judged, step, Some(&rendered), &transitions)?;
        if let Some(drift) = &drift {
            drift.locate(&mut diagnostics);
        }
        refusals::locate(self, &refusals, &mut diagnostics);
        crate::diagnostic::normalize(&mut diagnostics);
        Ok(diagnostics)
    }

    /// Judges the next step alone with the built-in policies, `extra` policy directories and
    /// `spec.policies`, rendering with the embedded charts: `meshplan check --step next`.
    pub fn judge_next(
        &self,
        extra: &[PathBuf],
    ) -> Result<Vec<crate::diagnostic::Diagnostic>, Error> {
        let policies = load_policies(self, extra)?;
        let judged = self.plan.remaining_indices(1);
        let step = self.plan.next_step().map(|s| s.name.as_str());
        self.judge(&policies, &judged, step, &crate::render::Charts::embedded())
    }

    /// The facts after the next step (`meshplan facts --step next`), as the rules read them.
    pub fn facts_after_next(&self) -> Facts {
        let judged = self.plan.remaining_indices(1);
        judged_facts(self, &judged, &lock_after(self, &judged))
    }
}
