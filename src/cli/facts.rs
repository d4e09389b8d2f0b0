//! `meshplan facts`: who injects what, as of the lock, after the next step, or at the end.

use super::{SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::pipeline::Pipeline;
use crate::pipeline::judge::{judged_facts, lock_after};
use clap::{Args, ValueEnum};

/// The point of the plan the facts describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FactsPoint {
    /// As the lock records (before any remaining step).
    Current,
    /// After the next step.
    Next,
    /// After the whole plan.
    Final,
}

/// Formats of `meshplan facts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FactsFormat {
    /// Readable tables.
    Text,
    /// The versioned facts document (the same one policies read as `input.facts`).
    Json,
}

/// Arguments of `meshplan facts`.
#[derive(Debug, Args)]
pub(crate) struct FactsArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Point of the plan.
    #[arg(long, value_enum, default_value_t = FactsPoint::Final)]
    pub step: FactsPoint,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FactsFormat::Text)]
    pub format: FactsFormat,
}

/// Runs `facts`.
pub(crate) fn run(args: FactsArgs) -> Result<ExitCode, Error> {
    let ctx = Pipeline::load(&args.spec.options())?;
    let mut facts = match args.step {
        FactsPoint::Current => {
            let mut facts = ctx.base.at(&ctx.plan.start);
            crate::facts::installations::mark_adopted(&mut facts.installations, ctx.lock.as_ref());
            facts
        }
        FactsPoint::Next | FactsPoint::Final => {
            let count = if args.step == FactsPoint::Next {
                1
            } else {
                usize::MAX
            };
            let judged = ctx.plan.remaining_indices(count);
            judged_facts(&ctx, &judged, &lock_after(&ctx, &judged))
        }
    };
    facts.versions = ctx.version_facts();
    let text = match args.format {
        FactsFormat::Json => {
            let mut s =
                serde_json::to_string_pretty(&facts).map_err(|e| Error::Internal(e.to_string()))?;
            s.push('\n');
            s
        }
        FactsFormat::Text => crate::facts::render_text(&facts),
    };
    emit(&text)?;
    Ok(ExitCode::Ok)
}
