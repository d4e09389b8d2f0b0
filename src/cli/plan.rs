//! `meshplan plan`: the journey from the lock to the spec, as a table or JSON.

use super::context::Context;
use super::{SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::plan::Plan;
use clap::{Args, ValueEnum};

/// Formats of `meshplan plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    /// A table of hops and steps with counts.
    Text,
    /// The `plan` object of the JSON report.
    Json,
    /// A pull-request comment with a Mermaid diagram of hops and waves.
    Markdown,
}

/// Arguments of `meshplan plan`.
#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

/// Runs `plan`.
pub(crate) fn run(args: PlanArgs) -> Result<ExitCode, Error> {
    let ctx = Context::load(&args.spec)?;
    let text = match args.format {
        PlanFormat::Json => {
            let mut s = serde_json::to_string_pretty(&ctx.plan)
                .map_err(|e| Error::Internal(e.to_string()))?;
            s.push('\n');
            s
        }
        PlanFormat::Text => render_text(&ctx.spec.spec.metadata.name, &ctx.plan),
        PlanFormat::Markdown => crate::report::markdown::render_plan(&ctx.plan),
    };
    emit(&text)?;
    Ok(ExitCode::Ok)
}

/// The plan as a table: one row per step with its hop, restart and manual counts, then the
/// workloads needing a person.
pub fn render_text(cluster: &str, plan: &Plan) -> String {
    let mut out = format!(
        "plan for {cluster}: {} -> {}\nhops: {}\n\n",
        plan.from.as_deref().unwrap_or("(nothing installed)"),
        plan.to,
        plan.hops.join(" -> ")
    );
    let name_w = plan
        .steps
        .iter()
        .map(|s| s.name.len())
        .chain([4])
        .max()
        .unwrap_or(4);
    let hop_w = plan
        .steps
        .iter()
        .map(|s| s.hop.len())
        .chain([3])
        .max()
        .unwrap_or(3);
    out.push_str(&format!(
        "  #  {:name_w$}  {:hop_w$}  {:>8}  {:>6}  {}\n",
        "step", "hop", "restarts", "manual", "status"
    ));
    for (i, s) in plan.steps.iter().enumerate() {
        out.push_str(&format!(
            "{:>3}  {:name_w$}  {:hop_w$}  {:>8}  {:>6}  {}\n",
            i + 1,
            s.name,
            s.hop,
            s.restarts.len(),
            s.manual.len(),
            if s.done { "done" } else { "pending" }
        ));
    }
    if !plan.problems.is_empty() {
        out.push_str("\nproblems (reported by `meshplan check`):\n");
        for p in &plan.problems {
            out.push_str(&format!("  {}: {}\n", p.rule, p.message));
        }
    }
    let manual: Vec<(&str, &str)> = plan
        .steps
        .iter()
        .flat_map(|s| s.manual.iter().map(move |m| (s.name.as_str(), m.as_str())))
        .collect();
    if !manual.is_empty() {
        out.push_str("\nneeds a person (restart by hand after the step):\n");
        for (step, key) in manual {
            out.push_str(&format!("  {step}: {key}\n"));
        }
    }
    out
}
