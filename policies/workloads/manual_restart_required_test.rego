package meshplan.workloads.manual_restart_required_test

import data.meshplan.workloads.manual_restart_required

migrate := {
	"object": {"apiVersion": "batch/v1", "kind": "Job", "namespace": "shop", "name": "migrate"},
	"injected": true,
	"moving": true,
	"step": "wave canary",
	"restartable": false,
	"customProxyImage": null,
}

fixture_fires := {"facts": {"workloads": [migrate]}}

fixture_ok_restartable := {"facts": {"workloads": [object.union(migrate, {
	"object": object.union(migrate.object, {"kind": "Deployment", "apiVersion": "apps/v1"}),
	"restartable": true,
})]}}

fixture_ok_not_moving := {"facts": {"workloads": [object.union(migrate, {"moving": false})]}}

test_fires_for_job if {
	findings := manual_restart_required.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object.kind == "Job"
	f.step == "wave canary"
}

test_ok_restartable if {
	count(manual_restart_required.warn) == 0 with input as fixture_ok_restartable
}

test_ok_not_moving if {
	count(manual_restart_required.warn) == 0 with input as fixture_ok_not_moving
}
