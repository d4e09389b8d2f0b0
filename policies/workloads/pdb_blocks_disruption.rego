# What it does
#   Flags a PodDisruptionBudget that selects a moving workload but allows zero
#   disruptions (`maxUnavailable: 0`, `minAvailable` at or above the replicas, or 100%).
#
# Why is this bad?
#   The rolling restart itself is not blocked by a PDB, but every node drain and
#   eviction during the upgrade window is: the rollout stalls and nodes cannot be
#   drained until someone edits the budget by hand.
#
# Example
#   `shop/cart-pdb` with `minAvailable: 2` selecting the 2 replicas of `shop/cart`.
#
# Fix
#   Allow at least one disruption: `maxUnavailable: 1`, or `minAvailable` below the
#   replica count (or add a replica).
package meshplan.workloads.pdb_blocks_disruption

import data.meshplan.lib.util

metadata := {
	"code": "MP302",
	"name": "pdb-blocks-disruption",
	"severity": "warn",
	"title": "PodDisruptionBudget allows no disruption of a moving workload",
	"description": "A PodDisruptionBudget selecting a moving workload allows zero disruptions (maxUnavailable: 0, minAvailable >= replicas, or 100%), so evictions during the upgrade stall.",
	"remediation": "Let the PodDisruptionBudget allow at least one disruption, e.g. maxUnavailable: 1.",
}

warn contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	w.moving == true
	some pdb in w.blockingPdbs
	msg := sprintf("the PodDisruptionBudget %s allows no disruption of these pods, so evictions during the restart stall", [pdb])
	hint := "set maxUnavailable: 1 or lower minAvailable below the replica count"
}
