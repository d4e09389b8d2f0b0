//! A change: the steps one pull request applies, the lock they leave, its render and its
//! findings. [`drift`] compares committed rendered files with what meshplan would render
//! (MP502), [`model`] turns spec, lock and facts into the render model, [`retire`] deletes an
//! adopted install's documents at cleanup, [`takeover`] replaces the adopted `base` release
//! and its HelmRepository by meshplan's of the same names in the first step.

pub mod drift;
pub mod model;
pub mod retire;
pub mod takeover;

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::Error;
use crate::pipeline::Pipeline;
use crate::pipeline::judge::{evaluate, lock_after, step_inputs};
use crate::render::{Charts, RenderedTree};
use drift::{display_path, output_dir, render_lock};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// `--step` of `render`, `diff` and `commit`: which steps the change applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepSelection {
    /// The first step not done.
    Next,
    /// Every remaining step in one change.
    All,
    /// Every remaining step up to and including this 1-based index in the plan.
    Index(usize),
}

impl FromStr for StepSelection {
    type Err = String;

    fn from_str(s: &str) -> Result<StepSelection, String> {
        match s {
            "next" => Ok(StepSelection::Next),
            "all" => Ok(StepSelection::All),
            _ => match s.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(StepSelection::Index(n)),
                _ => Err(format!(
                    "`{s}`: expected next, all, or a step number from 1 (see meshplan plan)"
                )),
            },
        }
    }
}

/// What a change applies and renders with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeOptions {
    /// Which steps the change applies.
    pub step: StepSelection,
    /// Templates to render with instead of the embedded charts (relative to `-C DIR`).
    pub charts: Option<PathBuf>,
}

impl Default for ChangeOptions {
    fn default() -> ChangeOptions {
        ChangeOptions {
            step: StepSelection::Next,
            charts: None,
        }
    }
}

/// One change: the steps applied, the lock they leave, its render and its findings.
pub struct Change {
    /// Indices in `plan.steps` of the applied steps, in order (never empty).
    pub applied: Vec<usize>,
    /// The files of the output directory (relative to it), `meshplan.lock` included.
    pub tree: RenderedTree,
    /// The policies' findings on the change.
    pub diagnostics: Vec<Diagnostic>,
}

impl Change {
    /// `"wave main" (2/4)` or `"install" to "cleanup" (1-4/4)`.
    pub fn describe(&self, ctx: &Pipeline) -> String {
        let total = ctx.plan.steps.len();
        let name = |i: usize| ctx.plan.steps.get(i).map_or("", |s| s.name.as_str());
        match (self.applied.first(), self.applied.last()) {
            (Some(&a), Some(&b)) if a != b => {
                format!(
                    "steps \"{}\" to \"{}\" ({}-{}/{total})",
                    name(a),
                    name(b),
                    a + 1,
                    b + 1
                )
            }
            (Some(&a), _) => format!("step \"{}\" ({}/{total})", name(a), a + 1),
            _ => String::from("no step"),
        }
    }

    /// Whether a deny finding remains.
    pub fn denied(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Deny)
    }
}

/// The steps `step` selects: a prefix of the remaining steps. Empty when nothing remains
/// (for next and all); an index that is done or out of range is a usage error.
pub fn select(ctx: &Pipeline, step: StepSelection) -> Result<Vec<usize>, Error> {
    let plan = &ctx.plan;
    match step {
        StepSelection::Next => Ok(plan.remaining_indices(1)),
        StepSelection::All => Ok(plan.remaining_indices(usize::MAX)),
        StepSelection::Index(n) => {
            let total = plan.steps.len();
            if total == 0 {
                return Err(Error::Usage(format!(
                    "--step {n}: the plan is done, no step is left"
                )));
            }
            let Some(target) = n.checked_sub(1).and_then(|i| plan.steps.get(i)) else {
                return Err(Error::Usage(format!(
                    "--step {n}: the plan has {total} step{} (see meshplan plan)",
                    if total == 1 { "" } else { "s" }
                )));
            };
            if target.done {
                return Err(Error::Usage(format!(
                    "--step {n}: step \"{}\" is already done",
                    target.name
                )));
            }
            Ok(plan
                .remaining_indices(usize::MAX)
                .into_iter()
                .take_while(|&i| i < n)
                .collect())
        }
    }
}

/// The charts to render with: `--charts DIR` (relative to `-C DIR`) or the embedded ones.
pub fn charts(ctx: &Pipeline, dir: Option<&Path>) -> Result<Charts, Error> {
    Ok(match dir {
        Some(dir) => Charts::from_dir(&ctx.dir.join(dir))?,
        None => Charts::embedded(),
    })
}

/// Applies the steps `options.step` selects, judges the change, renders it. `None` when no step
/// remains. `policies` is `None` for commands that only show the change (`diff`).
pub fn prepare(
    ctx: &Pipeline,
    options: &ChangeOptions,
    policies: Option<&crate::policy::PolicySet>,
) -> Result<Option<Change>, Error> {
    prepare_into(ctx, options, policies, &output_dir(ctx))
}

/// [`prepare`] for a change written into `out` (where its findings' files are).
pub fn prepare_into(
    ctx: &Pipeline,
    options: &ChangeOptions,
    policies: Option<&crate::policy::PolicySet>,
    out: &Path,
) -> Result<Option<Change>, Error> {
    let applied = select(ctx, options.step)?;
    if applied.is_empty() {
        return Ok(None);
    }
    let charts = charts(ctx, options.charts.as_deref())?;
    let (tree, diagnostics) = match policies {
        Some(p) => {
            // The transitions the policies judge end at the lock to render: applied once.
            let transitions = step_inputs(ctx, &applied, true)?;
            let tree = render_lock(ctx, &transitions.after, &charts)?;
            let single = match applied.as_slice() {
                [one] => ctx.plan.steps.get(*one).map(|s| s.name.as_str()),
                _ => None,
            };
            let rendered = crate::pipeline::judge::rendered::gateway_releases(
                &tree,
                &display_path(ctx, out),
                &ctx.spec.spec.spec.gateways,
            )?;
            let gateways = crate::pipeline::judge::rendered::merge(vec![
                rendered,
                crate::pipeline::judge::rendered::inventory_releases(ctx),
            ]);
            let mut rendered = crate::pipeline::judge::rendered::to_input(None, &gateways)?;
            let collisions =
                crate::pipeline::judge::collisions::collisions(ctx, &tree, &display_path(ctx, out));
            crate::pipeline::judge::collisions::add_to(&mut rendered, collisions);
            let diagnostics = evaluate(ctx, p, &applied, single, Some(&rendered), &transitions)?;
            (tree, diagnostics)
        }
        None => (
            render_lock(ctx, &lock_after(ctx, &applied), &charts)?,
            Vec::new(),
        ),
    };
    Ok(Some(Change {
        applied,
        tree,
        diagnostics,
    }))
}

/// The findings of a plan the planner could not make (a major version change, a downgrade,
/// a minor missing from the catalogue): such a plan has no step left, yet it is not done.
/// `render`, `commit` and `diff` report them (exit 1) instead of saying the plan is done;
/// `diff` also for a plan whose steps the delivery cannot install (MP110). Only the
/// problems' rules are kept: nothing else is judged. `None` when the plan has no problem,
/// or every problem finding is waived or switched off.
pub fn stuck(ctx: &Pipeline, policies: &crate::policy::PolicySet) -> Result<Option<Change>, Error> {
    if ctx.plan.problems.is_empty() {
        return Ok(None);
    }
    let transitions = step_inputs(ctx, &[], false)?;
    let rules: std::collections::BTreeSet<&str> =
        ctx.plan.problems.iter().map(|p| p.rule.as_str()).collect();
    let diagnostics: Vec<Diagnostic> = evaluate(ctx, policies, &[], None, None, &transitions)?
        .into_iter()
        .filter(|d| rules.contains(d.rule.as_str()))
        .collect();
    let change = Change {
        applied: Vec::new(),
        tree: RenderedTree::new(),
        diagnostics,
    };
    Ok(change.denied().then_some(change))
}

/// What to render, and where.
#[derive(Debug, Clone, Default)]
pub struct RenderRequest {
    /// Which steps, rendered with which charts.
    pub change: ChangeOptions,
    /// Write into this directory (relative to `-C DIR`, inside the repository) instead of
    /// `spec.output`: a preview; the plan still starts from the lock in `spec.output`.
    pub out: Option<PathBuf>,
    /// Render even when deny findings remain.
    pub force: bool,
    /// Extra Rego policy directories (relative to `-C DIR`); `spec.policies` adds more.
    pub policies: Vec<PathBuf>,
}

/// How a render ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// Deny findings remain (or the planner found no way on): nothing was written.
    Refused,
    /// No step is left.
    PlanDone,
    /// The change was written.
    Written {
        /// The change, e.g. `step "wave main" (2/4)`.
        description: String,
        /// The output directory as the user names it (relative to `-C DIR`).
        out: String,
    },
}

impl Pipeline {
    /// Renders the change `request` asks for into the output directory, with the lock it
    /// leaves and the user's files an adopted install's retirement edits: `meshplan render`.
    /// Findings and manual actions go to `events`; nothing is written when it is refused.
    pub fn render(
        &self,
        request: &RenderRequest,
        events: &mut dyn FnMut(crate::pipeline::Event<'_>),
    ) -> Result<Rendered, Error> {
        use crate::pipeline::{Event, inputs};
        let policies = crate::pipeline::judge::load_policies(self, &request.policies)?;
        let mut extra = request.policies.clone();
        extra.extend(request.change.charts.clone());
        let checked = inputs::inputs(self, &extra);
        // The checked paths are canonical; the ones kept below are as the user wrote them,
        // for messages relative to -C DIR.
        let out = match &request.out {
            Some(dir) => {
                inputs::check_out_arg(self, dir, &checked)?;
                self.dir.join(dir)
            }
            None => {
                inputs::check_spec_output(&self.spec, &self.root, &checked)?;
                output_dir(self)
            }
        };
        let findings = |change: &Change, events: &mut dyn FnMut(Event<'_>)| {
            events(Event::Findings {
                pipeline: self,
                policies: &policies,
                change,
                force: request.force,
            });
        };
        let Some(change) = prepare_into(self, &request.change, Some(&policies), &out)? else {
            if let Some(stuck) = stuck(self, &policies)? {
                findings(&stuck, events);
                return Ok(Rendered::Refused);
            }
            return Ok(Rendered::PlanDone);
        };
        findings(&change, events);
        if change.denied() && !request.force {
            return Ok(Rendered::Refused);
        }
        let after = lock_after(self, &change.applied);
        let retired = takeover::deleted(self.lock.as_ref(), &after, &change.tree);
        let root = self.root.clone();
        let mut retirement =
            retire::retire(self, &retired, &|rel| std::fs::read(root.join(rel)).ok());
        retirement.manual.extend(takeover::helm_actions(
            self.lock.as_ref(),
            &after,
            &change.tree,
        ));
        crate::render::write_tree(&change.tree, &out)?;
        retire::write(&self.root, &retirement)?;
        for m in &retirement.manual {
            events(Event::ManualAction(m));
        }
        Ok(Rendered::Written {
            description: change.describe(self),
            out: display_path(self, &out).trim_end_matches('/').to_string(),
        })
    }
}
