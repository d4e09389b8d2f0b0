//! What `render` would refuse, `check` reports: every judged step is rendered in memory, so
//! a step the renderer cannot write (revision tags on an intermediate hop whose istiod chart
//! predates them) is a finding of today's pull request, not an error when that step's turn
//! comes. Refusals another spec or path avoids are MP108 findings at the spec field that asks
//! for them (through `input.rendered.refused`, so they can be waived or re-rated like any
//! rule); every other render error is what `render` would exit with (2 for invalid input,
//! 3 for meshplan's bugs), now instead of later.

use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::pipeline::Pipeline;
use crate::plan::LockTransition;
use crate::render::{Charts, RenderError};
use crate::spec::located::Seg;
use crate::state::Lock;

/// The rule render refusals fall under.
const MP108: &str = "MP108";

/// One step the renderer refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The first judged step refused for this reason.
    pub step: String,
    /// The finding's message, naming the step and the renderer's reason.
    pub message: String,
    /// The spec field that asks for what cannot be rendered, as keys from the root.
    pub field: &'static [&'static str],
}

/// Renders the lock after each judged step (indices into `plan.steps`, a prefix of the
/// remaining steps) and collects the refusals, one per distinct reason (the first step
/// that meets it); any other render error is returned as `render` would return it. `after`
/// is the lock after the last judged step ([`crate::pipeline::judge::step_inputs`]), rendered whole;
/// the steps before it are rendered without workloads (control plane, gateways,
/// namespaces, not the restart patches, which are one template over the inventory): what a
/// refusal depends on, at a cost that does not grow with steps × workloads.
pub fn render_refusals(
    ctx: &Pipeline,
    judged: &[usize],
    charts: &Charts,
    after: &Lock,
) -> Result<Vec<Refusal>, Error> {
    let mut lock = match &ctx.lock {
        Some(lock) => lock.without_workloads(),
        None => Lock::empty(&ctx.spec.spec.metadata.name),
    };
    let mut out: Vec<Refusal> = Vec::new();
    let mut reasons = std::collections::BTreeSet::new();
    let steps: Vec<&crate::plan::Step> = judged
        .iter()
        .filter_map(|&i| ctx.plan.steps.get(i))
        .collect();
    for (k, step) in steps.iter().enumerate() {
        lock = lock.transform(&ctx.plan.gateways, step);
        let whole = k + 1 == steps.len();
        let rendered = if whole {
            crate::pipeline::change::drift::try_render(ctx, after, charts)
        } else {
            crate::pipeline::change::drift::try_render(ctx, &lock, charts)
        };
        match rendered {
            Ok(_) => {}
            Err(RenderError::UnsupportedAt { message, field }) => {
                if reasons.insert(message.clone()) {
                    out.push(Refusal {
                        step: step.name.clone(),
                        message: format!("step \"{}\" cannot be rendered: {message}", step.name),
                        field,
                    });
                }
            }
            Err(e) => return Err(ctx.render_error(e)),
        }
    }
    Ok(out)
}

/// A render, or `None` when the renderer refuses it for a reason [`render_refusals`]
/// reports as MP108: the other readers of a judged render (gateway releases, collisions)
/// have nothing to read from a step that cannot be rendered, and must not turn the finding
/// into an input error.
pub(crate) fn unless_refused(
    rendered: Result<crate::render::RenderedTree, RenderError>,
) -> Result<Option<crate::render::RenderedTree>, RenderError> {
    match rendered {
        Ok(tree) => Ok(Some(tree)),
        Err(RenderError::UnsupportedAt { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `input.rendered.refused`: `[{step, message}]`.
pub fn to_input(refusals: &[Refusal]) -> serde_json::Value {
    refusals
        .iter()
        .map(|r| serde_json::json!({"step": r.step, "message": r.message}))
        .collect()
}

/// Points each MP108 finding of a refusal at the spec field that asks for it, and names its
/// step.
pub fn locate(ctx: &Pipeline, refusals: &[Refusal], diagnostics: &mut [Diagnostic]) {
    for d in diagnostics.iter_mut().filter(|d| d.rule == MP108) {
        let Some(r) = refusals.iter().find(|r| r.message == d.message) else {
            continue;
        };
        let path: Vec<Seg<'_>> = r.field.iter().map(|k| Seg::Key(k)).collect();
        let pos = ctx.spec.locations.key_pos(&path);
        d.file = Some(ctx.spec_file());
        d.line = Some(u32::try_from(pos.line.max(1)).unwrap_or(u32::MAX));
        d.step = Some(r.step.clone());
    }
}
