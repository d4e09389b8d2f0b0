package meshplan.workloads.missing_readiness_probe_test

import data.meshplan.workloads.missing_readiness_probe

cart := {
	"object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"},
	"injected": true,
	"moving": true,
	"step": "wave canary",
	"containersWithoutReadiness": ["app", "worker"],
}

fixture_fires := {"facts": {"workloads": [cart]}}

fixture_ok_probed := {"facts": {"workloads": [object.union(cart, {"containersWithoutReadiness": []})]}}

fixture_ok_not_injected := {"facts": {"workloads": [object.union(cart, {"injected": false})]}}

fixture_ok_job := {"facts": {"workloads": [object.union(cart, {"object": {"apiVersion": "batch/v1", "kind": "Job", "namespace": "shop", "name": "migrate"}})]}}

test_ok_job if {
	count(missing_readiness_probe.warn) == 0 with input as fixture_ok_job
}

test_fires_once_per_container if {
	findings := missing_readiness_probe.warn with input as fixture_fires
	count(findings) == 2
}

test_ok_probed if {
	count(missing_readiness_probe.warn) == 0 with input as fixture_ok_probed
}

test_ok_not_injected if {
	count(missing_readiness_probe.warn) == 0 with input as fixture_ok_not_injected
}
