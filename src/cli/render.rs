//! `meshplan render`: applies the chosen steps to the lock, judges that change with the
//! policies, and writes the render plus the new `meshplan.lock` into the output directory.
//! [`prepare`] is shared with `diff` and `commit`, so all three show, gate and write the same
//! change for the same `--step`.

use super::check::{evaluate, load_policies, lock_after, remaining, rule_infos, step_inputs};
use super::context::Context;
use super::drift::{display_path, output_dir, render_lock};
use super::{SpecArgs, emit};
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::{Error, ExitCode};
use crate::render::{Charts, RenderedTree};
use crate::report::{self, OutputFormat, Report};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// `--step` of `render`, `diff` and `commit`: which steps the change applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepArg {
    /// The first step not done.
    Next,
    /// Every remaining step in one change.
    All,
    /// Every remaining step up to and including this 1-based index in the plan.
    Index(usize),
}

impl FromStr for StepArg {
    type Err = String;

    fn from_str(s: &str) -> Result<StepArg, String> {
        match s {
            "next" => Ok(StepArg::Next),
            "all" => Ok(StepArg::All),
            _ => match s.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(StepArg::Index(n)),
                _ => Err(format!(
                    "`{s}`: expected next, all, or a step number from 1 (see meshplan plan)"
                )),
            },
        }
    }
}

/// Options shared by the commands that render a change.
#[derive(Debug, Clone, Args)]
pub(crate) struct ChangeArgs {
    /// Which steps to apply: next (the first not done), all (every remaining one), or N
    /// (every remaining step up to and including the N-th of `meshplan plan`).
    #[arg(long, value_name = "next|all|N", default_value = "next", value_parser = StepArg::from_str)]
    pub step: StepArg,
    /// Templates to render with instead of the embedded charts (same layout as `charts/`).
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
}

/// Arguments of `meshplan render`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  meshplan render                       # the next step into spec.output (with meshplan.lock)
  meshplan render --step all            # a new cluster: everything in one change (judged as
                                        # one transition too: across hops it is refused)
  meshplan render --step 3 --out preview   # a preview directory inside the repository

Exit codes: 0 rendered (or nothing left to render); 1 deny findings, nothing written (--force
renders anyway); 2 invalid input or a step that cannot be chosen; 3 internal error.")]
pub(crate) struct RenderArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Write into DIR instead of spec.output (relative to -C DIR, inside the repository, the
    /// same rules as spec.output); the plan still starts from the lock in spec.output, so
    /// this is a preview, not a place to continue from.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Render even when deny findings remain (they are still printed).
    #[arg(long)]
    pub force: bool,
    /// Add the Rego policies in DIR (repeatable; `spec.policies` adds more).
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
}

/// One change: the steps applied, the lock they leave, its render and its findings.
pub(crate) struct Change {
    /// Indices in `plan.steps` of the applied steps, in order (never empty).
    pub applied: Vec<usize>,
    /// The files of the output directory (relative to it), `meshplan.lock` included.
    pub tree: RenderedTree,
    /// The policies' findings on the change.
    pub diagnostics: Vec<Diagnostic>,
}

impl Change {
    /// `"wave main" (2/4)` or `"install" to "cleanup" (1-4/4)`.
    pub fn describe(&self, ctx: &Context) -> String {
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
pub(crate) fn select(ctx: &Context, step: StepArg) -> Result<Vec<usize>, Error> {
    let plan = &ctx.plan;
    match step {
        StepArg::Next => Ok(remaining(plan, 1)),
        StepArg::All => Ok(remaining(plan, usize::MAX)),
        StepArg::Index(n) => {
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
            Ok(remaining(plan, usize::MAX)
                .into_iter()
                .take_while(|&i| i < n)
                .collect())
        }
    }
}

/// The charts to render with: `--charts DIR` (relative to `-C DIR`) or the embedded ones.
pub(crate) fn charts(ctx: &Context, dir: Option<&Path>) -> Result<Charts, Error> {
    Ok(match dir {
        Some(dir) => Charts::from_dir(&ctx.dir.join(dir))?,
        None => Charts::embedded(),
    })
}

/// Applies the steps `args.step` selects, judges the change, renders it. `None` when no step
/// remains. `policies` is `None` for commands that only show the change (`diff`).
pub(crate) fn prepare(
    ctx: &Context,
    args: &ChangeArgs,
    policies: Option<&crate::policy::PolicySet>,
) -> Result<Option<Change>, Error> {
    prepare_into(ctx, args, policies, &output_dir(ctx))
}

/// [`prepare`] for a change written into `out` (where its findings' files are).
pub(crate) fn prepare_into(
    ctx: &Context,
    args: &ChangeArgs,
    policies: Option<&crate::policy::PolicySet>,
    out: &Path,
) -> Result<Option<Change>, Error> {
    let applied = select(ctx, args.step)?;
    if applied.is_empty() {
        return Ok(None);
    }
    let charts = charts(ctx, args.charts.as_deref())?;
    let (tree, diagnostics) = match policies {
        Some(p) => {
            // The transitions the policies judge end at the lock to render: applied once.
            let transitions = step_inputs(ctx, &applied, true)?;
            let tree = render_lock(ctx, &transitions.after, &charts)?;
            let single = match applied.as_slice() {
                [one] => ctx.plan.steps.get(*one).map(|s| s.name.as_str()),
                _ => None,
            };
            let rendered = super::rendered::gateway_releases(
                &tree,
                &display_path(ctx, out),
                &ctx.spec.spec.spec.gateways,
            )?;
            let gateways =
                super::rendered::merge(vec![rendered, super::rendered::inventory_releases(ctx)]);
            let mut rendered = super::rendered::to_input(None, &gateways)?;
            let collisions = super::collisions::collisions(ctx, &tree, &display_path(ctx, out));
            super::collisions::add_to(&mut rendered, collisions);
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
pub(crate) fn stuck(
    ctx: &Context,
    policies: &crate::policy::PolicySet,
) -> Result<Option<Change>, Error> {
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

/// Prints the findings of a change (text) to stderr; says when they refuse it.
pub(crate) fn print_findings(
    ctx: &Context,
    policies: &crate::policy::PolicySet,
    change: &Change,
    force: bool,
) {
    if change.diagnostics.is_empty() {
        return;
    }
    let rules = rule_infos(policies);
    let report = Report {
        diagnostics: &change.diagnostics,
        plan: None,
        warnings: &[],
        rules: &rules,
        fail_on: Severity::Deny,
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut text = report::render(&report, OutputFormat::Text, &ctx.dir, color);
    if change.applied.is_empty() {
        text.push_str(
            "refused: the planner found no way to the spec's version; nothing was written\n",
        );
    } else if change.denied() {
        text.push_str(if force {
            "deny findings overridden by --force\n"
        } else {
            "refused: deny findings remain; nothing was written (--force overrides)\n"
        });
    }
    eprint!("{text}");
}

/// Runs `render`.
pub(crate) fn run(args: RenderArgs) -> Result<ExitCode, Error> {
    let ctx = Context::load(&args.spec)?;
    let policies = load_policies(&ctx, &args.policies)?;
    let mut extra = args.policies.clone();
    extra.extend(args.change.charts.clone());
    let inputs = super::guard::inputs(&ctx, &extra);
    // The checked paths are canonical; the ones kept below are as the user wrote them, for
    // messages relative to -C DIR.
    let out = match &args.out {
        Some(dir) => {
            super::guard::check_out_arg(&ctx, dir, &inputs)?;
            ctx.dir.join(dir)
        }
        None => {
            super::guard::check_spec_output(&ctx.spec, &ctx.root, &inputs)?;
            output_dir(&ctx)
        }
    };
    let Some(change) = prepare_into(&ctx, &args.change, Some(&policies), &out)? else {
        if let Some(stuck) = stuck(&ctx, &policies)? {
            print_findings(&ctx, &policies, &stuck, args.force);
            return Ok(ExitCode::Findings);
        }
        emit("nothing to render: the plan is done\n")?;
        return Ok(ExitCode::Ok);
    };
    print_findings(&ctx, &policies, &change, args.force);
    if change.denied() && !args.force {
        return Ok(ExitCode::Findings);
    }
    let after = super::check::lock_after(&ctx, &change.applied);
    let retired = super::takeover::deleted(ctx.lock.as_ref(), &after, &change.tree);
    let root = ctx.root.clone();
    let mut retirement =
        super::retire::retire(&ctx, &retired, &|rel| std::fs::read(root.join(rel)).ok());
    retirement.manual.extend(super::takeover::helm_actions(
        ctx.lock.as_ref(),
        &after,
        &change.tree,
    ));
    crate::render::write_tree(&change.tree, &out)?;
    super::retire::write(&ctx.root, &retirement)?;
    for m in &retirement.manual {
        eprintln!("manual action: {m}");
    }
    let shown = display_path(&ctx, &out);
    emit(&format!(
        "rendered {} into {}/\n",
        change.describe(&ctx),
        shown.trim_end_matches('/')
    ))?;
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_argument_parses_next_all_and_positive_numbers() {
        assert_eq!("next".parse::<StepArg>(), Ok(StepArg::Next));
        assert_eq!("all".parse::<StepArg>(), Ok(StepArg::All));
        assert_eq!("3".parse::<StepArg>(), Ok(StepArg::Index(3)));
        assert!("0".parse::<StepArg>().is_err());
        assert!("-1".parse::<StepArg>().is_err());
        assert!("current".parse::<StepArg>().is_err());
    }
}
