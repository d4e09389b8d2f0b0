# What it does
#   Flags a cluster of several meshes whose pending next steps together restart more
#   workloads than `spec.upgrade.maxRestartsPerCluster` (of the mesh judged).
#
# Why is this bad?
#   Each mesh's steps are reviewed and merged on their own, so nothing else stops every
#   tenant's next wave from landing the same afternoon. The cluster's API server,
#   scheduler and image registries then take every mesh's restarts at once: the field
#   report behind per-tenant meshes feared exactly this ("it would kill the Kubernetes
#   masters").
#
# Example
#   `maxRestartsPerCluster: 100`, mesh-a's next wave restarts 70 workloads and mesh-b's 50.
#
# Fix
#   Merge one mesh's step and let it settle before the next, split the waves, or raise
#   `maxRestartsPerCluster` deliberately.
package meshplan.workloads.cluster_restart_budget

metadata := {
	"code": "MP315",
	"name": "cluster-restart-budget",
	"severity": "warn",
	"title": "All meshes' next steps restart too many workloads together",
	"description": "The pending next steps of all meshes of a cluster together restart more workloads than upgrade.maxRestartsPerCluster.",
	"remediation": "Roll the meshes' steps out one after the other, split their waves, or raise upgrade.maxRestartsPerCluster.",
}

warn contains {"msg": msg, "hint": hint} if {
	r := input.facts.tenancy.restarts
	r.max != null
	r.total > r.max
	parts := [sprintf("%s %d", [mesh, n]) | some mesh, n in r.byMesh; n > 0]
	msg := sprintf("the next steps of the cluster's meshes restart %d workloads together (%s), more than maxRestartsPerCluster (%d)", [r.total, concat(", ", parts), r.max])
	hint := "merge one mesh's step at a time, or split the waves in spec.upgrade.waves"
}
