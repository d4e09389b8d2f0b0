//! What `delivery: sail` cannot express, refused at its line before anything is planned.
//! The Sail Operator names the revisions of a `RevisionBased` `Istio` itself
//! (`<Istio name>-v1-24-3`), so a revision name of the spec's own would be a name nothing
//! installs; and meshplan renders `RevisionBased` only (waves move namespaces from the old
//! `IstioRevision` to the new one), so an in-place strategy has no Sail rendering yet.

use super::located::{Node, Seg};
use super::model::{Delivery, Spec, Strategy};
use super::validate::Failure;

/// The Sail-specific checks; `Ok` for every other delivery.
pub(super) fn check(spec: &Spec, tree: &Node) -> Result<(), Failure> {
    use Seg::Key as K;
    let s = &spec.spec;
    if s.istio.delivery != Delivery::Sail {
        return Ok(());
    }
    if let Some(revision) = &s.istio.revision {
        return Err((
            tree.pos(&[K("spec"), K("istio"), K("revision")]),
            format!(
                "`spec.istio.revision` (`{revision}`) cannot be used with `delivery: sail`: the Sail Operator names each revision after the Istio resource and its version (`{}`); remove it",
                super::sail_revision_name(&spec.metadata.name, &s.istio.version)
            ),
        ));
    }
    if s.upgrade.strategy == Strategy::InPlace {
        return Err((
            tree.pos(&[K("spec"), K("upgrade"), K("strategy")]),
            "`spec.upgrade.strategy: in-place` cannot be used with `delivery: sail`: meshplan renders the Istio resource with `updateStrategy.type: RevisionBased` only; use `strategy: revision`".to_string(),
        ));
    }
    Ok(())
}
