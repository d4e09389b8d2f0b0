package meshplan.workloads.drain_shorter_than_grace_test

import data.meshplan.workloads.drain_shorter_than_grace

cart := {
	"object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"},
	"injected": true,
	"moving": true,
	"step": "wave canary",
	"terminationGracePeriodSeconds": 60,
	"drainDurationSeconds": 5,
	"gracefulExit": false,
}

fixture_fires := {"facts": {"workloads": [cart]}}

fixture_ok_graceful := {"facts": {"workloads": [object.union(cart, {"gracefulExit": true})]}}

fixture_ok_short_grace := {"facts": {"workloads": [object.union(cart, {"terminationGracePeriodSeconds": 5})]}}

test_fires_on_long_grace if {
	findings := drain_shorter_than_grace.info with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "60s")
}

test_ok_graceful if {
	count(drain_shorter_than_grace.info) == 0 with input as fixture_ok_graceful
}

test_ok_short_grace if {
	count(drain_shorter_than_grace.info) == 0 with input as fixture_ok_short_grace
}

fixture_ok_vm := {"facts": {"workloads": [object.union(cart, {"object": {"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry", "namespace": "vm", "name": "db"}})]}}

test_ok_vm if {
	count(drain_shorter_than_grace.info) == 0 with input as fixture_ok_vm
}
