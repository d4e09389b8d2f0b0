//! `input.step.committed`: every committed sidecar (`istioctl kube-inject` output) with the
//! version its manifest pins, the revision its injected config talks to, and that
//! revision's version once the step is applied (null when the step leaves it uninstalled).
//! MP105 judges the pinned proxy against the control plane it actually talks to, not
//! against its namespace's label (a relabel does not re-inject it), and MP202 refuses a
//! step that removes that control plane while the sidecar still talks to it. Computed once
//! in Rust from the facts base; the policies only turn it into findings.

use crate::pipeline::Pipeline;
use crate::state::Lock;
use serde_json::{Value, json};

/// The committed sidecars as the step that leads to `after` leaves them.
pub fn input(ctx: &Pipeline, after: &Lock) -> Vec<Value> {
    ctx.base
        .committed_sidecars()
        .into_iter()
        .map(|c| {
            // The revision itself, never a tag of that name: a tag adds a webhook, not the
            // `istiod[-<rev>]` Service the injected config names (a `default` tag moved to
            // the new revision does not serve a sidecar injected by a revisionless install).
            let served = after
                .revisions
                .iter()
                .find(|r| r.name == c.revision)
                .map(|r| r.version.clone());
            json!({
                "key": c.key,
                "object": c.object,
                "proxy": c.proxy,
                "revision": c.revision,
                "served": served,
            })
        })
        .collect()
}

/// The `Kind/namespace/name` keys of the committed sidecars: the lock records no proxy for
/// them (it is read from the manifest).
pub fn keys(ctx: &Pipeline) -> std::collections::BTreeSet<String> {
    ctx.base
        .committed_sidecars()
        .into_iter()
        .map(|c| c.key)
        .collect()
}
