//! `meshplan check`: judge every remaining step (or only the next) with the policies.

use super::reports::{MinSeverity, ReportTarget, parse_target, write_reports};
use super::{FailOn, SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::pipeline::Pipeline;
use crate::pipeline::judge::{load_policies, rule_infos};
use crate::report::{self, OutputFormat, Report};
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
    let ctx = Pipeline::load(&args.spec.options())?;
    let mut extra = args.policies.clone();
    extra.extend(args.charts.clone());
    let inputs = crate::pipeline::inputs::inputs(&ctx, &extra);
    if let Some(path) = &args.output {
        crate::pipeline::inputs::check_report_path(&ctx, "--output", path, &inputs)?;
    }
    for target in &args.reports {
        crate::pipeline::inputs::check_report_path(&ctx, "--report", &target.path, &inputs)?;
    }
    let policies = load_policies(&ctx, &args.policies)?;
    let judged = match args.step {
        StepRange::All => ctx.plan.remaining_indices(usize::MAX),
        StepRange::Next => ctx.plan.remaining_indices(1),
    };
    let step = match args.step {
        StepRange::All => None,
        StepRange::Next => ctx.plan.next_step().map(|s| s.name.as_str()),
    };
    let charts = crate::pipeline::change::charts(&ctx, args.charts.as_deref())?;
    let diagnostics = ctx.judge(&policies, &judged, step, &charts)?;
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
        && super::colour_on(std::io::stdout().is_terminal());
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
