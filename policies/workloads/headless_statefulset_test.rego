package meshplan.workloads.headless_statefulset_test

import data.meshplan.workloads.headless_statefulset

postgres := {
	"object": {"apiVersion": "apps/v1", "kind": "StatefulSet", "namespace": "db", "name": "postgres"},
	"injected": true,
	"moving": false,
	"headlessServices": ["db/postgres-headless"],
}

fixture_fires := {"facts": {"workloads": [postgres]}}

fixture_ok_clusterip := {"facts": {"workloads": [object.union(postgres, {"headlessServices": []})]}}

fixture_ok_not_injected := {"facts": {"workloads": [object.union(postgres, {"injected": false})]}}

test_fires_on_headless if {
	findings := headless_statefulset.info with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "db/postgres-headless")
}

test_ok_clusterip if {
	count(headless_statefulset.info) == 0 with input as fixture_ok_clusterip
}

test_ok_not_injected if {
	count(headless_statefulset.info) == 0 with input as fixture_ok_not_injected
}
