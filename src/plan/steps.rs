//! The steps of one hop: install, waves, tags, gateways and cleanup for a revisioned
//! upgrade, or upgrade and restarts in place, and the release of dropped namespaces.

use super::*;

/// A step with the fields every kind sets.
pub(super) fn step(name: String, hop: &str, kind: StepKind, revision: &str) -> Step {
    Step {
        name,
        hop: hop.to_string(),
        kind,
        revision: revision.to_string(),
        ..Step::default()
    }
}

/// The first non-default revision tag of the spec: namespaces carry it instead of a
/// revision name, so an upgrade moves the tag rather than relabelling them.
pub(super) fn namespace_tag(spec: &Spec) -> Option<String> {
    spec.spec
        .istio
        .revision_tags
        .iter()
        .find(|t| t.as_str() != "default")
        .cloned()
}

/// Every step the hops need, in order, before done-marking and simulation.
pub(super) fn skeleton(spec: &Spec, lock: &Lock, running: bool, hops: &[String]) -> Vec<Step> {
    let istio = &spec.spec.istio;
    let waves = spec.waves();
    let tag = namespace_tag(spec);
    let tags = istio.revision_tags.clone();
    let target = &istio.version;
    let mut out = Vec::new();
    if !running {
        // A new cluster: install with the tags, then label the namespaces wave by wave.
        let revision = spec.revision();
        let label = tag.unwrap_or_else(|| revision.clone());
        let mut install = step("install".into(), target, StepKind::Install, &revision);
        install.tags = tags;
        out.push(install);
        for (wave, namespaces) in waves {
            let mut s = step(format!("wave {wave}"), target, StepKind::Wave, &revision);
            s.label = label.clone();
            s.namespaces = namespaces;
            out.push(s);
        }
        return out;
    }
    out.extend(release(spec, lock, hops));
    let in_place = spec.spec.upgrade.strategy == Strategy::InPlace;
    if let [only] = hops {
        // No version change: converge labels, then restarts for config changes.
        let revision = if in_place {
            in_place_revision(lock, spec)
        } else {
            spec.revision()
        };
        let label = tag.clone().unwrap_or_else(|| revision.clone());
        out.extend(label_waves(&waves, only, &revision, &label, &tags, |w| {
            format!("wave {w}")
        }));
        let want = ConfigHash::of(&istio.config);
        let have = lock.config_hash.as_ref();
        if have.is_some_and(|h| h.workloads != want.workloads) {
            let count = waves.len();
            for (k, (wave, namespaces)) in waves.iter().enumerate() {
                let mut s = step(
                    format!("restart {wave}"),
                    only,
                    StepKind::Restart,
                    &revision,
                );
                s.namespaces = namespaces.clone();
                s.bump = if k + 1 == count {
                    Bump::NamespacesAndUnmanaged
                } else {
                    Bump::Namespaces
                };
                out.push(s);
            }
            if waves.is_empty() {
                // No namespace is listed, yet some may be injected by their own labels.
                let mut s = step("restart all".into(), only, StepKind::Restart, &revision);
                s.bump = Bump::NamespacesAndUnmanaged;
                out.push(s);
            }
        }
        if have.is_some_and(|h| h.gateways != want.gateways) {
            let mut s = step(
                "gateway-restart".into(),
                only,
                StepKind::GatewayRestart,
                &revision,
            );
            s.gateway_restarts = gateway_deployments(spec, lock, |_| true);
            out.push(s);
        }
        return out;
    }
    let several = hops.len() > 2;
    for (i, hop) in hops.iter().enumerate().skip(1) {
        let name = |base: &str| {
            if several {
                format!("{hop}: {base}")
            } else {
                base.to_string()
            }
        };
        if in_place {
            let revision = in_place_revision(lock, spec);
            let mut s = step(name("upgrade"), hop, StepKind::Upgrade, &revision);
            s.bump = Bump::All;
            s.gateway_restarts = gateway_deployments(spec, lock, |_| true);
            out.push(s);
            if i + 1 == hops.len() {
                // Labels and tags the spec changed along with the version; left out of a
                // fresh plan when nothing changed.
                let label = tag.clone().unwrap_or_else(|| revision.clone());
                out.extend(label_waves(&waves, hop, &revision, &label, &tags, |w| {
                    name(&format!("wave {w}"))
                }));
            }
            continue;
        }
        let last = i + 1 == hops.len();
        let revision = if last {
            spec.revision()
        } else {
            spec.revision_for(hop)
        };
        out.push(step(name("install"), hop, StepKind::Install, &revision));
        match &tag {
            Some(t) => {
                let mut s = step(name(&format!("tag {t}")), hop, StepKind::Tag, &revision);
                s.label = t.clone();
                s.namespaces = waves.iter().flat_map(|(_, n)| n.clone()).collect();
                s.tags = tags.clone();
                out.push(s);
            }
            None => {
                let count = waves.len();
                for (k, (wave, namespaces)) in waves.iter().enumerate() {
                    let mut s = step(
                        name(&format!("wave {wave}")),
                        hop,
                        StepKind::Wave,
                        &revision,
                    );
                    s.label = revision.clone();
                    s.namespaces = namespaces.clone();
                    if k + 1 == count {
                        // Tags nobody's namespace carries (e.g. `default`) follow the last wave.
                        s.tags = tags.clone();
                    }
                    out.push(s);
                }
            }
        }
        if !spec.spec.gateways.is_empty() {
            let mut s = step(name("gateway"), hop, StepKind::Gateway, &revision);
            s.gateway_restarts =
                gateway_deployments(spec, lock, |g| g.strategy == GatewayStrategy::InPlace);
            out.push(s);
        }
        let mut cleanup = step(name("cleanup"), hop, StepKind::Cleanup, &revision);
        cleanup.tags = tags.clone();
        out.push(cleanup);
    }
    out
}

/// The `release` step of namespaces the lock labels but the spec no longer lists, if any.
/// It comes first: meshplan stops steering a namespace before it moves anything else, so no
/// later step (a cleanup) is judged against a label nobody wants any more.
pub(super) fn release(spec: &Spec, lock: &Lock, hops: &[String]) -> Option<Step> {
    let listed: std::collections::BTreeSet<&str> = spec
        .spec
        .namespaces
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    let gone: Vec<String> = lock
        .namespaces
        .keys()
        .filter(|n| !listed.contains(n.as_str()))
        .cloned()
        .collect();
    if gone.is_empty() {
        return None;
    }
    // The first hop the plan makes (the only one when no version changes).
    let hop = hops.get(1).or(hops.first())?;
    let name = if hops.len() > 2 {
        format!("{hop}: {RELEASE}")
    } else {
        RELEASE.to_string()
    };
    let mut s = step(name, hop, StepKind::Release, "");
    s.namespaces = gone;
    Some(s)
}

/// One `Wave` step per wave labelling its namespaces `label` and pointing `tags` at
/// `revision`: what a cluster needs when labels change without a version change.
pub(super) fn label_waves(
    waves: &[(String, Vec<String>)],
    hop: &str,
    revision: &str,
    label: &str,
    tags: &[String],
    name: impl Fn(&str) -> String,
) -> Vec<Step> {
    waves
        .iter()
        .map(|(wave, namespaces)| {
            let mut s = step(name(wave), hop, StepKind::Wave, revision);
            s.label = label.to_string();
            s.namespaces = namespaces.clone();
            s.tags = tags.to_vec();
            s
        })
        .collect()
}

/// The revision an in-place upgrade keeps: the newest the lock has (namespaces' labels name
/// it, so its name stays), or the spec's when none is installed.
pub(super) fn in_place_revision(lock: &Lock, spec: &Spec) -> String {
    lock.revisions
        .iter()
        .filter_map(|r| Version::parse(&r.version).ok().map(|v| (v, &r.name)))
        .max()
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| spec.revision())
}

/// `Deployment/<ns>/<gateway>-<colour>` for every colour the lock has of the spec's gateways
/// that `pick` selects (the first colour when the lock has none yet).
pub(super) fn gateway_deployments(
    spec: &Spec,
    lock: &Lock,
    pick: impl Fn(&crate::spec::Gateway) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for g in spec.spec.gateways.iter().filter(|g| pick(g)) {
        let key = format!("{}/{}", g.namespace, g.name);
        let colours: Vec<String> = match lock.gateways.get(&key) {
            Some(state) => state.colours.keys().cloned().collect(),
            None => vec![FIRST_COLOUR.to_string()],
        };
        for c in colours {
            out.push(crate::state::colour_deployment(&key, &c));
        }
    }
    out.sort();
    out.dedup();
    out
}
