package meshplan.workloads.restart_policy_never_test

import data.meshplan.workloads.restart_policy_never

report := {
	"object": {"apiVersion": "v1", "kind": "Pod", "namespace": "batch", "name": "report"},
	"injected": true,
	"moving": false,
	"restartPolicy": "Never",
}

fixture_fires := {"facts": {"workloads": [report]}}

fixture_ok_on_failure := {"facts": {"workloads": [object.union(report, {"restartPolicy": "OnFailure"})]}}

fixture_ok_not_injected := {"facts": {"workloads": [object.union(report, {"injected": false})]}}

test_fires_on_never if {
	findings := restart_policy_never.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object.name == "report"
	f.step == null
}

test_ok_on_failure if {
	count(restart_policy_never.warn) == 0 with input as fixture_ok_on_failure
}

test_ok_not_injected if {
	count(restart_policy_never.warn) == 0 with input as fixture_ok_not_injected
}
