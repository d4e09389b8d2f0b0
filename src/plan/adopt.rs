//! The first lock of a mesh that already runs: `meshplan adopt` takes over the Istio
//! installation found in the manifests, so the first plan is an upgrade from it rather than
//! a second control plane beside it. Pure: it reads the installations and the facts as the
//! webhooks of that installation decide them, and returns the lock plus what it adopted and
//! what it could not decide, in words (docs/adopt.md).

use crate::facts::installations::Installation;
use crate::facts::{FactsBase, MeshView};
use crate::state::{Lock, ObjectOrigin, RevisionState, WorkloadState};
use std::collections::BTreeMap;

/// What `adopt` took over, for the lock and for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    /// The first lock.
    pub lock: Lock,
    /// One line per thing adopted, e.g. `revision default (1.19.3) installed by …`.
    pub adopted: Vec<String>,
    /// One line per thing it left alone and why.
    pub undecided: Vec<String>,
}

/// Why nothing can be adopted: the user's input, exit 2 (the message says how to choose).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AdoptError(pub String);

/// The lock of cluster `cluster` taking over the control planes of `installations` (the
/// unmanaged ones; `only` keeps the revision of that name), with the namespaces the spec
/// manages labelled as their objects are, and every injected workload's running proxy.
pub fn adopt(
    cluster: &str,
    managed_namespaces: &[String],
    installations: &[Installation],
    base: &FactsBase,
    only: Option<&str>,
) -> Result<Adoption, AdoptError> {
    let unmanaged: Vec<&Installation> = installations.iter().filter(|i| !i.managed).collect();
    let plane = select_plane(&unmanaged, only)?;
    let Some(version) = plane.version.clone() else {
        return Err(AdoptError(format!(
            "{}: the Istio version it installs is unknown ({}); pin an exact version there \
             (or make its Flux variable resolvable from the manifests) and run adopt again",
            describe(plane),
            plane.version_source
        )));
    };
    let mut lock = Lock::empty(cluster);
    let mut adopted = Vec::new();
    let mut undecided = Vec::new();
    lock.revisions.push(RevisionState {
        name: plane.revision.clone(),
        version: version.clone(),
        installed_by: Some(origin(plane)),
    });
    adopted.push(format!(
        "revision {} (Istio {version}, {}) installed by {}",
        plane.revision,
        plane.version_source,
        describe(plane)
    ));
    for tag in &plane.tags {
        if tag != &plane.revision {
            lock.tags.insert(tag.clone(), plane.revision.clone());
            adopted.push(format!("revision tag {tag} → {}", plane.revision));
        }
    }
    adopt_others(&unmanaged, plane, &mut lock, &mut adopted, &mut undecided);
    lock.adopted.sort();
    lock.adopted.dedup();
    let view = MeshView {
        revisions: BTreeMap::from([(plane.revision.clone(), version.clone())]),
        tags: lock.tags.clone(),
        managed_namespaces: BTreeMap::new(),
    };
    let facts = base.at(&view);
    for ns in &facts.namespaces {
        if !managed_namespaces.contains(&ns.name) {
            continue;
        }
        match &ns.rev_label {
            Some(label) if ns.injection_label.is_none() => {
                lock.namespaces.insert(ns.name.clone(), label.clone());
                adopted.push(format!(
                    "namespace {} labelled istio.io/rev={label}",
                    ns.name
                ));
            }
            _ => match &ns.revision {
                Some(rev) => adopted.push(format!(
                    "namespace {} injected by revision {rev} ({})",
                    ns.name, ns.reason
                )),
                None => adopted.push(format!("namespace {} not injected", ns.name)),
            },
        }
    }
    adopt_workloads(&facts, &version, &mut lock, &mut adopted, &mut undecided);
    let injected = lock.workloads.len();
    adopted.push(format!(
        "{injected} injected workload(s) with their proxy versions"
    ));
    Ok(Adoption {
        lock,
        adopted,
        undecided,
    })
}

/// The control plane to adopt among the unmanaged installations: the only one, or the one
/// of revision `only`; an error says how to choose when they cannot be told apart.
fn select_plane<'a>(
    unmanaged: &[&'a Installation],
    only: Option<&str>,
) -> Result<&'a Installation, AdoptError> {
    let mut planes: Vec<&Installation> = unmanaged
        .iter()
        .copied()
        .filter(|i| i.is_control_plane())
        .collect();
    if planes.is_empty() {
        return Err(AdoptError(
            "no Istio control plane found in the manifests (an istiod HelmRelease or Argo CD \
             Application, an IstioOperator, a Sail Istio, or a rendered istiod Deployment); \
             nothing to adopt: `meshplan render` installs a new one"
                .to_string(),
        ));
    }
    let list = |planes: &[&Installation]| -> String {
        planes
            .iter()
            .map(|i| {
                format!(
                    "{} ({}:{}, revision {})",
                    i.object.key(),
                    i.file,
                    i.line,
                    i.revision
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut by_revision: BTreeMap<&str, Vec<&Installation>> = BTreeMap::new();
    for p in &planes {
        by_revision.entry(p.revision.as_str()).or_default().push(p);
    }
    match only {
        Some(rev) => {
            if !by_revision.contains_key(rev) {
                return Err(AdoptError(format!(
                    "--revision {rev}: no control plane of that revision; found {}",
                    list(&planes)
                )));
            }
            planes.retain(|p| p.revision == rev);
        }
        None if by_revision.len() > 1 => {
            let names: Vec<&str> = by_revision.keys().copied().collect();
            return Err(AdoptError(format!(
                "found control planes of several revisions: {}; choose the one that serves the \
                 mesh with --revision NAME (one of: {})",
                list(&planes),
                names.join(", ")
            )));
        }
        None => {}
    }
    if let [first, second, ..] = planes.as_slice() {
        return Err(AdoptError(format!(
            "{} and {} both install revision {}, and meshplan cannot tell which one runs; \
             leave only the one that does in the manifests meshplan.yaml names",
            describe(first),
            describe(second),
            first.revision
        )));
    }
    planes
        .first()
        .copied()
        .ok_or_else(|| AdoptError("no control plane selected".to_string()))
}

/// What becomes of the installations beside the adopted control plane: the `base`, `cni`,
/// `ztunnel` and `gateway` releases are taken over in place (with their chart source); its
/// own injector goes with it; anything else stays the user's and is reported.
fn adopt_others(
    unmanaged: &[&Installation],
    plane: &Installation,
    lock: &mut Lock,
    adopted: &mut Vec<String>,
    undecided: &mut Vec<String>,
) {
    for other in unmanaged {
        if std::ptr::eq(*other, plane) {
            continue;
        }
        match other.component.as_str() {
            "base" | "cni" | "ztunnel" | "gateway" => {
                lock.adopted.push(origin(other));
                adopted.push(format!(
                    "{} release {}, taken over in place (never reinstalled)",
                    other.component,
                    describe(other)
                ));
                if let Some(repo) = &other.source
                    && !lock.adopted.contains(repo)
                {
                    lock.adopted.push(repo.clone());
                    adopted.push(format!(
                        "{} {}/{} (the source of {}), taken over in place",
                        repo.kind, repo.namespace, repo.name, other.object.name
                    ));
                }
                if other.component == "base" && other.object.name != BASE_RELEASE {
                    undecided.push(format!(
                        "{}: meshplan renders its base release as {BASE_RELEASE}, so it cannot \
                         take this one over in place (a second base release would fight it \
                         over Istio's CRDs); rename is not supported yet: keep this release and \
                         delete meshplan's rendered {BASE_RELEASE} in the install pull request",
                        describe(other)
                    ));
                }
                if other.component == "gateway" {
                    undecided.push(format!(
                        "{}: a gateway release, kept running as it is (in place, on revision \
                         {}); list it in spec.gateways to have meshplan move it",
                        describe(other),
                        other.revision
                    ));
                }
            }
            "injector" if other.revision == plane.revision => {}
            _ => undecided.push(format!(
                "{} (revision {}): not adopted; it stays MP207 until it is removed or adopted \
                 with --revision {}",
                describe(other),
                other.revision,
                other.revision
            )),
        }
    }
}

/// Every injected workload's running proxy: the adopted control plane's `version` for those
/// its webhooks inject; a committed sidecar's is read from its manifest each time, so the
/// lock records none for it.
fn adopt_workloads(
    facts: &crate::facts::Facts,
    version: &str,
    lock: &mut Lock,
    adopted: &mut Vec<String>,
    undecided: &mut Vec<String>,
) {
    for w in &facts.workloads {
        // A committed sidecar's proxy is read from its manifest every time (a re-injection
        // moves it without any step): the lock records none.
        let proxy = if w.sidecar == "manual" {
            match &w.proxy {
                Some(p) => adopted.push(format!(
                    "{} ({}:{}): a committed sidecar pinned to {p}, read from its manifest \
                     (re-inject it to move it)",
                    w.key, w.file, w.line
                )),
                None => undecided.push(format!(
                    "{} ({}:{}): a committed sidecar whose image tag is not a version; \
                     its proxy version is unknown",
                    w.key, w.file, w.line
                )),
            }
            None
        } else if w.injected {
            w.revision.as_ref().map(|_| version.to_string())
        } else {
            None
        };
        if let Some(proxy) = proxy {
            lock.workloads.insert(
                w.key.clone(),
                WorkloadState {
                    generation: 0,
                    proxy,
                    config: None,
                },
            );
        }
    }
}

/// The name of the base release meshplan renders: only one of that name is taken over.
const BASE_RELEASE: &str = "istio-base";

/// `Kind/namespace/name (file:line)`.
fn describe(i: &Installation) -> String {
    format!("{} ({}:{})", i.object.key(), i.file, i.line)
}

/// Where an installation is defined, as the lock records it.
fn origin(i: &Installation) -> ObjectOrigin {
    ObjectOrigin {
        file: i.file.clone(),
        kind: i.object.kind.clone(),
        namespace: i.object.namespace.clone(),
        name: i.object.name.clone(),
    }
}
