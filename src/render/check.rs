//! What the model must satisfy before anything renders: revision, namespace and gateway
//! names that are DNS labels (they become paths and object names), colours on known
//! revisions.

use super::*;

pub(super) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub(super) fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Refuses models the planner should never build: names that cannot be paths or object
/// names, colours on unknown revisions.
pub(super) fn check_model(m: &RenderModel) -> Result<(), RenderError> {
    let bad =
        |what: &str, name: &str| RenderError::Model(format!("{what} `{name}` is not a DNS label"));
    let mut revisions = BTreeSet::new();
    for r in &m.revisions {
        if !is_dns_label(&r.name) {
            return Err(bad("revision", &r.name));
        }
        if !revisions.insert(r.name.as_str()) {
            return Err(RenderError::Model(format!(
                "revision `{}` listed twice",
                r.name
            )));
        }
    }
    // `default` names a revisionless install the user's own object still runs (adopted):
    // the base chart points the default validator at its `istiod` Service.
    if let Some(d) = &m.default_revision
        && !revisions.contains(d.as_str())
        && d != "default"
    {
        return Err(RenderError::Model(format!(
            "default revision `{d}` is not installed"
        )));
    }
    let mut gateways = BTreeSet::new();
    for g in &m.gateways {
        for (what, name) in [("gateway", &g.name), ("gateway namespace", &g.namespace)] {
            if !is_dns_label(name) {
                return Err(bad(what, name));
            }
        }
        if !gateways.insert((&g.namespace, &g.name)) {
            return Err(RenderError::Model(format!(
                "gateway {}/{} listed twice",
                g.namespace, g.name
            )));
        }
        for (colour, rev) in &g.colours {
            if !is_dns_label(colour) {
                return Err(bad("colour", colour));
            }
            if !revisions.contains(rev.as_str()) {
                return Err(RenderError::Model(format!(
                    "gateway {}/{} colour {colour} runs on revision `{rev}`, which is not installed",
                    g.namespace, g.name
                )));
            }
        }
        // An active colour the gateway lacks is not refused here: a hand-edited lock can
        // say so, and the policies report it (MP401, MP404) before anything is written.
    }
    let mut namespaces = BTreeSet::new();
    for n in &m.namespaces {
        if !is_dns_label(&n.name) {
            return Err(bad("namespace", &n.name));
        }
        if !namespaces.insert(n.name.as_str()) {
            return Err(RenderError::Model(format!(
                "namespace `{}` listed twice",
                n.name
            )));
        }
    }
    let mut restarted = BTreeSet::new();
    for b in &m.restarts {
        let o = &b.object;
        if !is_dns_label(&o.namespace) || !is_dns_subdomain(&o.name) {
            return Err(RenderError::Model(format!(
                "restart of {}: bad namespace or name",
                o.key()
            )));
        }
        if !restarted.insert(o.key()) {
            return Err(RenderError::Model(format!(
                "{} restarted twice in one step",
                o.key()
            )));
        }
    }
    Ok(())
}
