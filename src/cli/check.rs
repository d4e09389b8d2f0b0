//! `meshplan check`: judge every remaining step (or only the next) with the policies.

use super::context::Context;
use super::reports::{MinSeverity, ReportTarget, parse_target, write_reports};
use super::{FailOn, SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::facts::Facts;
use crate::policy::{self, PolicySet};
use crate::report::{self, OutputFormat, Report, RuleInfo};
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Which steps `check` judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StepRange {
    /// Every remaining step, one by one (a problem in the last wave is known now).
    All,
    /// Only the next step.
    Next,
}

/// Arguments of `meshplan check`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  meshplan check                                   # meshplan.yaml in the current directory
  meshplan check -C clusters/prod-eu-1 --fail-on warn
  kustomize build apps | meshplan check -f -       # manifests from stdin
  meshplan check --report sarif=meshplan.sarif --report junit=junit.xml   # text on stdout too
  meshplan check --summary --min-severity warn     # one line per rule, infos left out
  meshplan check --today 2026-11-23                # reproducible end-of-life checks

Exit codes: 0 passed; 1 findings at or above --fail-on; 2 invalid input (file and line are named,
nothing is written); 3 internal error.")]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Add the Rego policies in DIR (repeatable; `spec.policies` adds more).
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Lowest severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Deny)]
    pub fail_on: FailOn,
    /// Write the --format report to FILE instead of printing it (written atomically).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a machine report, e.g. `sarif=meshplan.sarif` (repeatable; atomic; the
    /// --format report is still printed).
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_target)]
    pub reports: Vec<ReportTarget>,
    /// Leave findings below this severity out of every report (the verdict is unchanged).
    #[arg(long, value_enum, default_value_t = MinSeverity::Info)]
    pub min_severity: MinSeverity,
    /// Print one line per rule (its count and first three objects) instead of each finding
    /// (text format only).
    #[arg(long)]
    pub summary: bool,
    /// Judge all remaining steps or only the next one.
    #[arg(long, value_enum, default_value_t = StepRange::All)]
    pub step: StepRange,
    /// The templates `render` was run with, for the rendered-drift check (MP502).
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
}

/// Refuses option combinations that would make a report lie, before anything is loaded.
fn validate_args(args: &CheckArgs) -> Result<(), Error> {
    if args.min_severity.severity() > args.fail_on.threshold() {
        return Err(Error::Usage(format!(
            "--min-severity {} would hide findings that fail the run under --fail-on {}",
            args.min_severity.severity(),
            args.fail_on.threshold()
        )));
    }
    if args.summary && args.format != OutputFormat::Text {
        return Err(Error::Usage(
            "--summary is a text report; use it without --format (or with --format text)".into(),
        ));
    }
    Ok(())
}

/// Runs `check`.
pub(crate) fn run(args: CheckArgs) -> Result<ExitCode, Error> {
    validate_args(&args)?;
    let ctx = Context::load(&args.spec)?;
    let mut extra = args.policies.clone();
    extra.extend(args.charts.clone());
    let inputs = super::guard::inputs(&ctx, &extra);
    if let Some(path) = &args.output {
        super::guard::check_report_path(&ctx, "--output", path, &inputs)?;
    }
    for target in &args.reports {
        super::guard::check_report_path(&ctx, "--report", &target.path, &inputs)?;
    }
    let policies = load_policies(&ctx, &args.policies)?;
    let judged = match args.step {
        StepRange::All => remaining(&ctx.plan, usize::MAX),
        StepRange::Next => remaining(&ctx.plan, 1),
    };
    let step = match args.step {
        StepRange::All => None,
        StepRange::Next => ctx.plan.next_step().map(|s| s.name.as_str()),
    };
    let charts = super::render::charts(&ctx, args.charts.as_deref())?;
    let (drift, committed) =
        super::drift::rendered_drift(&ctx, &charts, super::rendered::may_hold_release)?;
    let gateways = super::rendered::check_gateways(&ctx, &judged, &charts, &committed)?;
    let mut rendered = super::rendered::to_input(drift.as_ref(), &gateways)?;
    let collisions = super::collisions::check_collisions(&ctx, &judged, &charts)?;
    super::collisions::add_to(&mut rendered, collisions);
    let transitions = step_inputs(&ctx, &judged, false)?;
    let refusals = super::refusals::render_refusals(&ctx, &judged, &charts, &transitions.after)?;
    if let Some(fields) = rendered.as_object_mut() {
        fields.insert("refused".into(), super::refusals::to_input(&refusals));
    }
    let mut diagnostics = evaluate(
        &ctx,
        &policies,
        &judged,
        step,
        Some(&rendered),
        &transitions,
    )?;
    if let Some(drift) = &drift {
        drift.locate(&mut diagnostics);
    }
    super::refusals::locate(&ctx, &refusals, &mut diagnostics);
    crate::diagnostic::normalize(&mut diagnostics);
    let rules = rule_infos(&policies);
    let mut warnings = ctx.inventory.warnings.clone();
    warnings.extend(ctx.base.warnings.iter().cloned());
    // The verdict is the whole run's; --min-severity only trims what the reports show, and
    // cannot hide a finding that fails the run (see `validate_args`).
    let failed = Report {
        diagnostics: &diagnostics,
        plan: None,
        warnings: &[],
        rules: &[],
        fail_on: args.fail_on.threshold(),
    }
    .failed();
    let min = args.min_severity.severity();
    let shown: Vec<_> = diagnostics
        .into_iter()
        .filter(|d| d.severity >= min)
        .collect();
    let report = Report {
        diagnostics: &shown,
        plan: Some(&ctx.plan),
        warnings: &warnings,
        rules: &rules,
        fail_on: args.fail_on.threshold(),
    };
    let color = args.format == OutputFormat::Text
        && args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let text = if args.summary {
        report::text::render_summary(&report)
    } else {
        report::render(&report, args.format, &ctx.dir, color)
    };
    let mut files: Vec<(PathBuf, String)> = args
        .reports
        .iter()
        .map(|t| {
            let body = report::render(&report, t.format, &ctx.dir, false);
            (args.spec.dir.join(&t.path), body)
        })
        .collect();
    let printed = match &args.output {
        Some(path) => {
            files.push((args.spec.dir.join(path), text));
            None
        }
        None => Some(text),
    };
    // Files first: when one cannot be written, the run is exit 2 and nothing is printed as
    // if it had passed.
    write_reports(&files)?;
    if let Some(text) = printed {
        emit(&text)?;
    }
    Ok(if failed {
        ExitCode::Findings
    } else {
        ExitCode::Ok
    })
}

/// Indices in `plan.steps` of the first `count` steps not done, in plan order.
pub(crate) fn remaining(plan: &crate::plan::Plan, count: usize) -> Vec<usize> {
    plan.steps
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.done)
        .map(|(i, _)| i)
        .take(count)
        .collect()
}

/// Evaluates the policies on the facts after the `judged` steps and on each judged step's
/// transition, then applies overrides, waivers and locations: the diagnostics of one change.
/// `judged` must be a prefix of the remaining steps (see [`remaining`]), and `transitions`
/// their [`step_inputs`].
pub(crate) fn evaluate(
    ctx: &Context,
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
pub(crate) fn rule_infos(policies: &PolicySet) -> Vec<RuleInfo> {
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
pub(crate) fn load_policies(ctx: &Context, extra: &[PathBuf]) -> Result<PolicySet, Error> {
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
pub(crate) fn lock_after(ctx: &Context, judged: &[usize]) -> crate::state::Lock {
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
pub(crate) fn judged_facts(ctx: &Context, judged: &[usize], after: &crate::state::Lock) -> Facts {
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
    ctx: &Context,
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
        let Some((namespace, name)) = gateway.split_once('/') else {
            continue;
        };
        let existed = |colour: &str| {
            committed
                .and_then(|l| l.gateways.get(gateway))
                .is_some_and(|g| g.colours.contains_key(colour))
        };
        for (colour, revision) in &state.colours {
            let object = crate::diagnostic::ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: namespace.to_string(),
                name: format!("{name}-{colour}"),
            };
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

/// The Rego input document (docs/policy-input.md).
/// `step` names the step when one alone is judged; `rendered` is what the render tells
/// (`{drift?, gateways}`, see `rendered.rs`); `relabelled` is [`Transitions::relabelled`].
pub(crate) fn policy_input(
    ctx: &Context,
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
    ctx: &Context,
    relabelled: &std::collections::BTreeMap<String, String>,
) -> serde_json::Value {
    use serde_json::json;
    let output = ctx.spec.base_dir.join(&ctx.spec.spec.spec.output);
    let output = super::context::relative_to(&output, &ctx.dir)
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
/// MP401, MP403, MP404): the lock before the step and the lock the step leaves behind,
/// simulated from the lock (or an empty one for a new cluster) step by step. `judged` are
/// indices into `plan.steps`, a prefix of the remaining steps. With `one_change` and more
/// than one step, one more input judges the whole change as a single step (kind `change`,
/// named `<first> .. <last>`): what lands in one pull request must be safe as one transition
/// too, so `--step all` across hops skips minors (MP101) even though each step alone does
/// not. `one_change`: the judged steps land together (`render`/`commit --step all|N`);
/// `check` judges each step as the pull request it will be. Also gives the lock after the
/// last step (as [`lock_after`] computes it), so no caller applies the steps twice.
pub(crate) fn step_inputs(
    ctx: &Context,
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
pub(crate) struct Transitions {
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
    ctx: &Context,
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
            let mut parts = key.splitn(3, '/');
            let (kind, namespace, name) = (parts.next()?, parts.next()?, parts.next()?);
            let object = &ctx.inventory.get(kind, namespace, name)?.id;
            Some((key.clone(), serde_json::to_value(object).ok()?))
        })
        .collect();
    if let Some(step) = header.as_object_mut() {
        step.insert("before".into(), before_json);
        step.insert("after".into(), after_json);
        step.insert("objects".into(), serde_json::Value::Object(objects));
    }
    Ok(policy::build_step_input(
        &ctx.spec.spec.metadata.name,
        &ctx.spec.spec.spec,
        None,
        plan,
        header,
    )?)
}

/// `step.stranded` of a step input: `{key, object, revision}` per workload whose injecting
/// revision the step removes, the object as diagnostics reference it.
fn stranded_input(ctx: &Context, step: &crate::plan::Step) -> Vec<serde_json::Value> {
    step.stranded
        .iter()
        .filter_map(|(key, revision)| {
            let mut parts = key.splitn(3, '/');
            let (kind, namespace, name) = (parts.next()?, parts.next()?, parts.next()?);
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
        let served = key
            .split('/')
            .nth(1)
            .and_then(|ns| serving(after, ns))
            .and_then(|v| v.parse::<Version>().ok());
        match (served, w.proxy.parse::<Version>().ok()) {
            (Some(served), Some(proxy)) => {
                served < proxy || served.major != proxy.major || served.minor > proxy.minor + 1
            }
            _ => false,
        }
    };
    let concerned = |key: &str| -> bool {
        before.workloads.get(key) != after.workloads.get(key)
            || key.split('/').nth(1).is_some_and(|ns| moved.contains(ns))
            || out_of_skew(key)
    };
    let keep = |lock: &crate::state::Lock| -> Result<serde_json::Value, serde_json::Error> {
        let mut slim = lock.clone();
        slim.workloads.retain(|k, _| concerned(k));
        slim.files.clear();
        serde_json::to_value(&slim)
    };
    Ok((keep(before)?, keep(after)?))
}
