//! `meshplan plan`: the journey from the lock to the spec, as a table or JSON.

use super::{SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::pipeline::Pipeline;
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
    let ctx = Pipeline::load(&args.spec.options())?;
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

/// How many items of one list the text shows; `--format json` lists them all.
const SHOWN: usize = 20;

/// What each pending step moves: the namespaces it relabels, restarts in or releases, and
/// the workloads whose restart annotation it bumps (the first [`SHOWN`] of each list).
fn details(out: &mut String, plan: &Plan) {
    use crate::plan::StepKind;
    let mut header = false;
    for s in plan.steps.iter().filter(|s| !s.done) {
        let verb = match s.kind {
            StepKind::Wave | StepKind::Tag => "moves namespaces",
            StepKind::Restart => "restarts in namespaces",
            StepKind::Release => "releases namespaces",
            _ => "namespaces",
        };
        if s.namespaces.is_empty() && s.restarts.is_empty() {
            continue;
        }
        if !header {
            out.push_str(
                "
what each step moves:
",
            );
            header = true;
        }
        out.push_str(&format!(
            "  {}
",
            s.name
        ));
        if !s.namespaces.is_empty() {
            out.push_str(&format!(
                "    {verb}: {}
",
                shown(&s.namespaces, ", ")
            ));
        }
        if !s.restarts.is_empty() {
            out.push_str(&format!(
                "    restarts ({}):
      {}
",
                s.restarts.len(),
                shown(&s.restarts, "\n      ")
            ));
        }
    }
}

/// The first [`SHOWN`] items joined with `sep`, and how many more there are.
fn shown(items: &[String], sep: &str) -> String {
    let mut text = items
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(sep);
    if items.len() > SHOWN {
        text.push_str(&format!(
            "{sep}... and {} more (meshplan plan --format json lists them all)",
            items.len() - SHOWN
        ));
    }
    text
}

/// The plan as a table: one row per step with its hop, restart and manual counts, what each
/// pending step moves, then the workloads needing a person.
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
    details(&mut out, plan);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Step, StepKind};

    #[test]
    fn each_pending_step_says_what_it_moves_and_long_lists_are_cut() {
        let restarts: Vec<String> = (0..25)
            .map(|i| format!("Deployment/shop/app-{i:02}"))
            .collect();
        let plan = Plan {
            from: Some("1.24.6".into()),
            to: "1.26.8".into(),
            hops: vec!["1.24.6".into(), "1.26.8".into()],
            steps: vec![
                Step {
                    name: "wave canary".into(),
                    hop: "1.26.8".into(),
                    done: true,
                    kind: StepKind::Wave,
                    namespaces: vec!["canary".into()],
                    restarts: vec!["Deployment/canary/web".into()],
                    ..Step::default()
                },
                Step {
                    name: "wave shop".into(),
                    hop: "1.26.8".into(),
                    kind: StepKind::Wave,
                    namespaces: vec!["shop".into()],
                    restarts,
                    ..Step::default()
                },
            ],
            ..Plan::default()
        };
        let text = render_text("prod", &plan);
        let details = text
            .split_once("what each step moves:\n")
            .map(|(_, d)| d)
            .expect("the text lists what each step moves");
        assert!(
            !details.contains("wave canary"),
            "done steps are history: {text}"
        );
        assert!(details.contains("  wave shop\n    moves namespaces: shop\n    restarts (25):\n      Deployment/shop/app-00\n"));
        assert!(details.contains("Deployment/shop/app-19\n"));
        assert!(!details.contains("app-20"));
        assert!(details.contains("... and 5 more (meshplan plan --format json lists them all)"));
    }
}
