package meshplan.upgrade.downgrade_test

import data.meshplan.upgrade.downgrade

fixture_fires := {"plan": {"from": "1.26.8", "to": "1.24.6", "hops": [], "steps": [], "problems": [{"rule": "MP102", "message": "istio 1.24.6 is older than the installed 1.26.8: a downgrade needs upgrade.allowDowngrade"}]}}

fixture_ok_upgrade := {"plan": {"from": "1.24.6", "to": "1.26.8", "hops": ["1.26.8"], "steps": []}}

fixture_ok_other_problem := {"plan": {"from": "1.24.6", "to": "1.26.8", "hops": ["1.26.8"], "steps": [], "problems": [{"rule": "MP103", "message": "kubernetes 1.27 is not supported by istio 1.26"}]}}

test_fires_on_refused_downgrade if {
	findings := downgrade.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "1.24.6")
}

test_ok_upgrade if {
	count(downgrade.deny) == 0 with input as fixture_ok_upgrade
}

test_ok_other_problem if {
	count(downgrade.deny) == 0 with input as fixture_ok_other_problem
}
