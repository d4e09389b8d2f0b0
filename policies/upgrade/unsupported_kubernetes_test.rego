package meshplan.upgrade.unsupported_kubernetes_test

import data.meshplan.upgrade.unsupported_kubernetes

v124 := {"version": "1.24.3", "minor": "1.24", "known": true, "kubernetesSupported": ["1.28", "1.29", "1.30", "1.31"], "kubernetesOk": false}

v126 := {"version": "1.26.3", "minor": "1.26", "known": true, "kubernetesSupported": ["1.29", "1.30", "1.31", "1.32", "1.33"], "kubernetesOk": true}

fixture_fires := {"facts": {"versions": {"kubernetes": "1.33", "target": v124, "installed": [v124]}}, "plan": {"hops": ["1.23.4", "1.24.3"]}}

fixture_fires_on_hop := {
	"facts": {"versions": {"kubernetes": "1.33", "target": v126, "installed": [v124, v126]}},
	"plan": {"hops": ["1.22.8", "1.24.3", "1.26.3"]},
}

fixture_ok := {"facts": {"versions": {"kubernetes": "1.33", "target": v126, "installed": [v126]}}, "plan": {"hops": ["1.25.2", "1.26.3"]}}

test_fires_on_target if {
	findings := unsupported_kubernetes.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "1.28, 1.29, 1.30, 1.31")
}

test_fires_on_hop if {
	findings := unsupported_kubernetes.deny with input as fixture_fires_on_hop
	count(findings) == 1
	some f in findings
	startswith(f.msg, "istio 1.24.3")
}

test_ok_supported if {
	count(unsupported_kubernetes.deny) == 0 with input as fixture_ok
}
