//! `meshplan render`: applies the chosen steps to the lock, judges that change with the
//! policies, and writes the render plus the new `meshplan.lock` into the output directory
//! (`Pipeline::render`). `diff` and `commit` prepare the change the same way, so all three
//! show, gate and write the same change for the same `--step`.

use super::{SpecArgs, emit};
use crate::diagnostic::Severity;
use crate::error::{Error, ExitCode};
use crate::pipeline::change::{Change, ChangeOptions, RenderRequest, Rendered, StepSelection};
use crate::pipeline::judge::rule_infos;
use crate::pipeline::{Event, Pipeline};
use crate::report::{self, OutputFormat, Report};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::str::FromStr;

/// Options shared by the commands that render a change.
#[derive(Debug, Clone, Args)]
pub(crate) struct ChangeArgs {
    /// Which steps to apply: next (the first not done), all (every remaining one), or N
    /// (every remaining step up to and including the N-th of `meshplan plan`).
    #[arg(long, value_name = "next|all|N", default_value = "next", value_parser = StepSelection::from_str)]
    pub step: StepSelection,
    /// Templates to render with instead of the embedded charts (same layout as `charts/`).
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
}

impl ChangeArgs {
    /// The change these arguments ask for.
    pub fn options(&self) -> ChangeOptions {
        ChangeOptions {
            step: self.step,
            charts: self.charts.clone(),
        }
    }
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

/// Prints the findings of a change (text) to stderr; says when they refuse it.
pub(crate) fn print_findings(
    ctx: &Pipeline,
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
    let color = super::colour_on(std::io::stderr().is_terminal());
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
    let request = RenderRequest {
        change: args.change.options(),
        out: args.out.clone(),
        force: args.force,
        policies: args.policies.clone(),
    };
    let ctx = Pipeline::load(&args.spec.options())?;
    let rendered = ctx.render(&request, &mut |event| match event {
        Event::Findings {
            pipeline,
            policies,
            change,
            force,
        } => print_findings(pipeline, policies, change, force),
        Event::ManualAction(m) => eprintln!("manual action: {m}"),
        Event::Rebuilt { .. } => {}
    })?;
    match rendered {
        Rendered::Refused => return Ok(ExitCode::Findings),
        Rendered::PlanDone => emit("nothing to render: the plan is done\n")?,
        Rendered::Written { description, out } => {
            emit(&format!("rendered {description} into {out}/\n"))?;
        }
    }
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_argument_parses_next_all_and_positive_numbers() {
        assert_eq!("next".parse::<StepSelection>(), Ok(StepSelection::Next));
        assert_eq!("all".parse::<StepSelection>(), Ok(StepSelection::All));
        assert_eq!("3".parse::<StepSelection>(), Ok(StepSelection::Index(3)));
        assert!("0".parse::<StepSelection>().is_err());
        assert!("-1".parse::<StepSelection>().is_err());
        assert!("current".parse::<StepSelection>().is_err());
    }
}
