//! The built-in policies, embedded in the binary so `meshplan` runs with no files beside
//! it. The list is written out by hand (no build script); a unit test compares it with the
//! `policies/` directory so a new rule cannot be forgotten here.

/// One embedded Rego file: its path relative to `policies/` and its text.
pub(crate) type Embedded = (&'static str, &'static str);

macro_rules! rule {
    ($p:literal) => {
        [
            (
                concat!($p, ".rego"),
                include_str!(concat!("../../policies/", $p, ".rego")),
            ),
            (
                concat!($p, "_test.rego"),
                include_str!(concat!("../../policies/", $p, "_test.rego")),
            ),
        ]
    };
}

/// Shared helpers under `policies/lib/` (no rules, no tests of their own).
pub(crate) const LIB: &[Embedded] = &[(
    "lib/util.rego",
    include_str!("../../policies/lib/util.rego"),
)];

/// Every rule with its test file, in code order.
pub(crate) const RULES: &[[Embedded; 2]] = &[
    rule!("upgrade/skipped_minor"),
    rule!("upgrade/downgrade"),
    rule!("upgrade/unsupported_kubernetes"),
    rule!("upgrade/end_of_life"),
    rule!("upgrade/data_plane_skew"),
    rule!("upgrade/in_place_upgrade"),
    rule!("upgrade/unknown_version"),
    rule!("upgrade/no_upgrade_path"),
    rule!("upgrade/delivery_unsupported"),
    rule!("revisions/unknown_revision"),
    rule!("revisions/revision_in_use"),
    rule!("revisions/too_many_revisions"),
    rule!("revisions/conflicting_injection_labels"),
    rule!("revisions/invalid_revision_name"),
    rule!("revisions/no_default_revision"),
    rule!("workloads/missing_pdb"),
    rule!("workloads/pdb_blocks_disruption"),
    rule!("workloads/missing_readiness_probe"),
    rule!("workloads/manual_restart_required"),
    rule!("workloads/custom_proxy_image"),
    rule!("workloads/restart_policy_never"),
    rule!("workloads/job_legacy_sidecar"),
    rule!("workloads/native_sidecar_unsupported"),
    rule!("workloads/restart_budget_exceeded"),
    rule!("workloads/vm_restart_required"),
    rule!("workloads/port_protocol_unknown"),
    rule!("workloads/headless_statefulset"),
    rule!("workloads/drain_shorter_than_grace"),
    rule!("gateways/gateway_switch_unready"),
    rule!("gateways/gateway_owns_loadbalancer"),
    rule!("gateways/gateway_in_place"),
    rule!("gateways/active_gateway_removed"),
    rule!("config/restart_not_bumped"),
    rule!("config/rendered_drift"),
    rule!("config/waiver_expired"),
    rule!("config/unrendered_source"),
    rule!("config/component_not_applied"),
    rule!("revisions/unmanaged_control_plane"),
    rule!("revisions/object_collision"),
    rule!("workloads/manual_injection"),
    rule!("revisions/mesh_overlap"),
    rule!("revisions/cross_mesh_injection"),
    rule!("revisions/control_plane_namespace"),
    rule!("workloads/cluster_restart_budget"),
    rule!("ambient/waypoint_revision"),
];

/// The label regorus reports for an embedded file, e.g. `policies/workloads/missing_pdb.rego`.
pub(crate) fn label(rel: &str) -> String {
    format!("policies/{rel}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn embedded_list_matches_policies_dir() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");
        let on_disk: BTreeSet<String> = walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter(|e| e.path().extension().is_some_and(|x| x == "rego"))
            .filter_map(|e| {
                e.path()
                    .strip_prefix(root)
                    .ok()
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
            })
            .collect();
        let embedded: BTreeSet<String> = LIB
            .iter()
            .chain(RULES.iter().flatten())
            .map(|(p, _)| (*p).to_string())
            .collect();
        assert_eq!(on_disk, embedded, "update src/policy/builtin.rs");
        assert!(embedded.len() > 2);
    }
}
