//! Revisions an operator deletes by itself. With `delivery: sail` the rendered `Istio`
//! names only the newest version: the Sail Operator keeps each older `IstioRevision` while
//! a namespace, tag or proxy uses it, and deletes it once unused and
//! `inactiveRevisionDeletionGracePeriodSeconds` have passed. So the cleanup step removes
//! nothing from the rendered files; what it changes is the lock, which drops the revision
//! and records here that the operator, not a file deletion, retires it. MP202 judges the
//! cleanup as for every delivery: it still refuses one whose revision something uses.

use super::Lock;
use serde::{Deserialize, Serialize};

/// One revision the operator deletes after a cleanup step.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OperatorDeletion {
    /// The revision, e.g. `prod-v1-29-6`.
    pub revision: String,
    /// The Istio version it ran.
    pub version: String,
    /// The object whose operator deletes it, `Kind/name` (e.g. `Istio/prod`).
    pub owner: String,
    /// The grace period the operator waits once the revision is unused.
    pub grace_period_seconds: u64,
}

impl Lock {
    /// Records in `self` (the lock after a step) the revisions of `before` the step
    /// removed, as deleted by the operator of `owner` after `grace_period_seconds`;
    /// replaces what an earlier step recorded (those revisions are gone by now), so the
    /// lock of a step that removes nothing records nothing.
    pub fn record_operator_deletions(
        &mut self,
        before: &Lock,
        owner: &str,
        grace_period_seconds: u64,
    ) {
        let mut deletes: Vec<OperatorDeletion> = before
            .revisions
            .iter()
            .filter(|r| !self.revisions.iter().any(|n| n.name == r.name))
            .map(|r| OperatorDeletion {
                revision: r.name.clone(),
                version: r.version.clone(),
                owner: owner.to_string(),
                grace_period_seconds,
            })
            .collect();
        deletes.sort();
        self.operator_deletes = deletes;
    }
}
