//! `meshplan diff`: what `meshplan render` would change, as a Git-style unified diff (or a
//! `--stat` table), against the working tree or against a commit (`--against REF`, read from
//! Git's objects, nothing checked out). When the plan is done it compares what the current
//! lock renders, so it still tells whether the files match spec and lock. Outside a Git
//! repository the working-tree comparison reads the files directly; `--against` needs a
//! repository (exit 2).

use super::render::{ChangeArgs, print_findings};
use super::{SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::git;
use crate::pipeline::{Event, Pipeline};
use clap::Args;
use std::io::IsTerminal;

/// Arguments of `meshplan diff`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  meshplan diff                                  # the next step vs your working tree
  meshplan diff --against origin/main --stat     # vs what the cluster runs
  meshplan diff --exit-code                      # in scripts: exit 1 when a render would change files

Exit codes: 0 no differences (or without --exit-code); 1 differences with --exit-code;
2 invalid input or usage; 3 internal error.")]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Compare with the files of this commit (`origin/main`, `HEAD`, a sha) instead of the
    /// working tree.
    #[arg(long, value_name = "REF")]
    pub against: Option<String>,
    /// Exit 1 when there are differences.
    #[arg(long)]
    pub exit_code: bool,
    /// Print a `git diff --stat` table instead of the diff.
    #[arg(long)]
    pub stat: bool,
}

/// Runs `diff`.
pub(crate) fn run(args: DiffArgs) -> Result<ExitCode, Error> {
    let ctx = Pipeline::load(&args.spec.options())?;
    let diffs = ctx.diff(
        &args.change.options(),
        args.against.as_deref(),
        &mut |event| match event {
            Event::Findings {
                pipeline,
                policies,
                change,
                force,
            } => print_findings(pipeline, policies, change, force),
            Event::ManualAction(m) => eprintln!("manual action: {m}"),
            Event::Rebuilt { .. } => {}
        },
    )?;
    let Some(diffs) = diffs else {
        return Ok(ExitCode::Findings);
    };
    let color = super::colour_on(std::io::stdout().is_terminal());
    let text = if args.stat {
        git::render_stat(&diffs)
    } else {
        git::render_unified(&diffs, color)
    };
    emit(&text)?;
    Ok(if args.exit_code && !diffs.is_empty() {
        ExitCode::Findings
    } else {
        ExitCode::Ok
    })
}
