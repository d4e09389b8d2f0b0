package meshplan.workloads.cluster_restart_budget_test

import data.meshplan.workloads.cluster_restart_budget

restarts(max) := {"facts": {"tenancy": {"restarts": {"byMesh": {"mesh-a": 70, "mesh-b": 50, "mesh-c": 0}, "total": 120, "max": max}}}}

fixture_fires := restarts(100)

fixture_ok := restarts(120)

test_fires_over_the_cluster_budget if {
	findings := cluster_restart_budget.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "restart 120 workloads together (mesh-a 70, mesh-b 50), more than maxRestartsPerCluster (100)")
}

test_ok_within_the_budget if {
	count(cluster_restart_budget.warn) == 0 with input as fixture_ok
}

test_ok_without_a_budget if {
	count(cluster_restart_budget.warn) == 0 with input as restarts(null)
}

test_ok_for_a_single_mesh if {
	count(cluster_restart_budget.warn) == 0 with input as {"facts": {}}
}
