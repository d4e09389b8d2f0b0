//! The route: the versions an upgrade passes through (hops), the minors it may skip, and
//! what the Kubernetes version rules out.

use super::*;

/// The most minors one hop may move: 2 for a canary hop, 1 in place, tightened by
/// `upgrade.maxMinorSkip`.
pub fn max_skip(spec: &Spec) -> u32 {
    let upgrade = &spec.spec.upgrade;
    let istio_limit = match upgrade.strategy {
        Strategy::Revision => 2,
        Strategy::InPlace => 1,
    };
    upgrade.max_minor_skip.clamp(1, istio_limit)
}

/// The hops from `current` to the spec's version: `[current, intermediate…, target]`, or
/// `[target]` when nothing about the version needs to change. An error is a problem that
/// stops the plan (a refused downgrade, a major change, an unknown intermediate minor).
pub(super) fn route(
    current: &str,
    spec: &Spec,
    lock: &Lock,
    catalog: &Catalog,
) -> Result<Vec<String>, Box<PlanProblem>> {
    let target = &spec.spec.istio.version;
    // Boxed: a problem is rare and larger than the hops.
    let problem = |kind: ProblemKind, message: String| {
        Box::new(PlanProblem {
            rule: kind.rule().to_string(),
            kind,
            message,
            hop: None,
            kubernetes: Vec::new(),
            step: None,
            last_supported: None,
        })
    };
    let (Ok(from), Ok(to)) = (Version::parse(current), Version::parse(target)) else {
        return Err(problem(
            ProblemKind::UnorderedVersions,
            format!("cannot order versions {current} and {target}: no upgrade path can be planned"),
        ));
    };
    if from == to {
        let settled = match spec.spec.upgrade.strategy {
            Strategy::Revision => {
                lock.revisions.len() == 1 && lock.revision_version(&spec.revision()) == Some(target)
            }
            Strategy::InPlace => lock.revisions.iter().all(|r| &r.version == target),
        };
        return Ok(if settled {
            vec![target.clone()]
        } else {
            vec![current.to_string(), target.clone()]
        });
    }
    if to < from && !spec.spec.upgrade.allow_downgrade {
        return Err(problem(
            ProblemKind::Downgrade,
            format!(
                "{target} is older than the installed {current}: a downgrade; set upgrade.allowDowngrade: true to plan it"
            ),
        ));
    }
    if to.major != from.major {
        return Err(problem(
            ProblemKind::MajorChange,
            format!(
                "no upgrade path from {current} to {target}: Istio upgrades within one major version only"
            ),
        ));
    }
    let limit = max_skip(spec);
    let mut hops = vec![current.to_string()];
    let mut minor = from.minor;
    while minor.abs_diff(to.minor) > limit {
        minor = if to.minor > minor {
            minor + limit
        } else {
            minor - limit
        };
        let Some(v) = catalog.latest_patch(from.major, minor) else {
            return Err(problem(
                ProblemKind::MissingMinor,
                format!(
                    "the release catalogue has no release of {}.{minor}, needed as an intermediate hop from {current} to {target}; pass a newer --catalog",
                    from.major
                ),
            ));
        };
        hops.push(v.to_string());
    }
    hops.push(target.clone());
    Ok(hops)
}

/// MP103 problems for intermediate hops the spec's Kubernetes version does not support,
/// each saying which Kubernetes versions would work and whether to upgrade Kubernetes before
/// or after the hop. The target itself is judged by the MP103 policy from the facts.
pub(super) fn kubernetes_problems(
    spec: &Spec,
    catalog: &Catalog,
    hops: &[String],
    upgrade: bool,
) -> Vec<PlanProblem> {
    let k8s = &spec.spec.kubernetes_version;
    let Some(want) = parse_minor(k8s) else {
        return Vec::new();
    };
    let intermediate = match (upgrade, hops) {
        (true, [_, middle @ .., _]) => middle,
        _ => &[],
    };
    let mut out = Vec::new();
    for hop in intermediate {
        let Ok(v) = Version::parse(hop) else { continue };
        let minor = v.minor_string();
        if catalog.supports_kubernetes(&minor, k8s) != Some(false) {
            continue;
        }
        let supported: Vec<String> = catalog
            .minor(&minor)
            .and_then(|m| m.k8s_supported.clone())
            .unwrap_or_default();
        let mut keys: Vec<(u32, u32)> = supported.iter().filter_map(|k| parse_minor(k)).collect();
        keys.sort();
        let (Some(low), Some(high)) = (keys.first(), keys.last()) else {
            continue;
        };
        let list = supported.join(", ");
        let message = if want > *high {
            format!(
                "intermediate hop {hop} does not support Kubernetes {k8s} (Istio {minor} supports {list}): make this hop while the cluster runs Kubernetes {}.{} or older, then upgrade Kubernetes to {k8s}",
                high.0, high.1
            )
        } else {
            format!(
                "intermediate hop {hop} does not support Kubernetes {k8s} (Istio {minor} supports {list}): upgrade Kubernetes to {}.{} or newer first",
                low.0, low.1
            )
        };
        out.push(PlanProblem {
            rule: ProblemKind::IntermediateKubernetes.rule().to_string(),
            kind: ProblemKind::IntermediateKubernetes,
            message,
            hop: Some(hop.clone()),
            kubernetes: supported,
            step: None,
            last_supported: None,
        });
    }
    out
}
