//! What a step leaves to the delivery's operator. With `delivery: sail` the rendered
//! `Istio` names only the newest version, so a cleanup step deletes no file for the old
//! revision: the Sail Operator deletes it once unused. The lock after the step records that
//! (`operatorDeletes`, [`crate::state::operator`]).

use crate::spec::{Delivery, Spec};
use crate::state::Lock;

/// Records in `next` (the lock after a step applied to `before`) the revisions the step
/// removed, which the Sail Operator deletes itself after
/// [`crate::catalog::sail::GRACE_PERIOD_SECONDS`]; for the other deliveries, whose render
/// deletes them, clears any such record.
pub fn record_deletions(spec: &Spec, before: &Lock, next: &mut Lock) {
    if spec.spec.istio.delivery == Delivery::Sail {
        let owner = format!("Istio/{}", spec.metadata.name);
        let grace = crate::catalog::sail::GRACE_PERIOD_SECONDS;
        next.record_operator_deletions(before, &owner, grace);
    } else {
        next.operator_deletes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::sail_revision_name;

    #[test]
    fn only_the_sail_cleanup_records_what_the_operator_deletes() {
        let text = |delivery: &str| {
            format!(
                "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata: {{name: prod}}\nspec:\n  kubernetesVersion: \"1.32\"\n  istio: {{version: 1.30.3, delivery: {delivery}}}\n"
            )
        };
        let path = std::path::Path::new("meshplan.yaml");
        let sail = crate::spec::parse(path, &text("sail")).expect("spec");
        let flux = crate::spec::parse(path, &text("flux-helm")).expect("spec");
        let mut before = Lock::empty("prod");
        for v in ["1.29.6", "1.30.3"] {
            before.revisions.push(crate::state::RevisionState {
                name: sail_revision_name("prod", v),
                version: v.into(),
                installed_by: None,
            });
        }
        let mut after = before.clone();
        after.revisions.remove(0);
        record_deletions(&sail, &before, &mut after);
        assert_eq!(after.operator_deletes.len(), 1);
        let d = &after.operator_deletes[0];
        assert_eq!(
            (d.revision.as_str(), d.version.as_str()),
            ("prod-v1-29-6", "1.29.6")
        );
        assert_eq!(
            (d.owner.as_str(), d.grace_period_seconds),
            ("Istio/prod", 30)
        );
        // The next step removes nothing: the record goes.
        let mut next = after.clone();
        record_deletions(&sail, &after, &mut next);
        assert!(next.operator_deletes.is_empty());
        // Another delivery deletes the files itself and records nothing.
        record_deletions(&flux, &before, &mut after);
        assert!(after.operator_deletes.is_empty());
    }
}
