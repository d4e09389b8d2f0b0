package meshplan.workloads.cluster_restart_budget_test

import data.meshplan.workloads.cluster_restart_budget

restarts(max) := {"facts": {"tenancy": {"restarts": {"byMesh": {"mesh-a": 70, "mesh-b": 50, "mesh-c": 0}, "total": 120, "max": max}}}}

test_fires_over_the_cluster_budget if {
	findings := cluster_restart_budget.warn with input as restarts(100)
	count(findings) == 1
	some f in findings
	contains(f.msg, "restart 120 workloads together (mesh-a 70, mesh-b 50), more than maxRestartsPerCluster (100)")
}

test_quiet_within_the_budget if {
	count(cluster_restart_budget.warn) == 0 with input as restarts(120)
}

test_quiet_without_a_budget if {
	count(cluster_restart_budget.warn) == 0 with input as restarts(null)
}

test_quiet_for_a_single_mesh if {
	count(cluster_restart_budget.warn) == 0 with input as {"facts": {}}
}
