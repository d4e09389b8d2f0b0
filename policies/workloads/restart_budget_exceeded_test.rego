package meshplan.workloads.restart_budget_exceeded_test

import data.meshplan.workloads.restart_budget_exceeded

fixture_fires := {
	"spec": {"upgrade": {"maxRestartsPerStep": 2}},
	"plan": {"steps": [
		{"name": "install", "done": true, "restarts": [], "manual": []},
		{"name": "wave rest", "done": false, "restarts": ["Deployment/a/x", "Deployment/a/y", "Deployment/a/z"], "manual": []},
	]},
}

fixture_ok_within_budget := {
	"spec": {"upgrade": {"maxRestartsPerStep": 3}},
	"plan": {"steps": [{"name": "wave rest", "done": false, "restarts": ["Deployment/a/x", "Deployment/a/y", "Deployment/a/z"], "manual": []}]},
}

fixture_ok_done := {
	"spec": {"upgrade": {"maxRestartsPerStep": 2}},
	"plan": {"steps": [{"name": "wave rest", "done": true, "restarts": ["Deployment/a/x", "Deployment/a/y", "Deployment/a/z"], "manual": []}]},
}

test_fires_over_budget if {
	findings := restart_budget_exceeded.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.step == "wave rest"
	contains(f.msg, "3 workloads")
}

test_ok_within_budget if {
	count(restart_budget_exceeded.deny) == 0 with input as fixture_ok_within_budget
}

test_ok_done if {
	count(restart_budget_exceeded.deny) == 0 with input as fixture_ok_done
}
