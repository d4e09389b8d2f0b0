package meshplan.upgrade.delivery_unsupported_test

import data.meshplan.upgrade.delivery_unsupported

problem := {
	"rule": "MP110",
	"kind": "delivery-unsupported",
	"message": "delivery istio-operator cannot install Istio 1.24.6 (step \"1.24.6: install\"): the in-cluster IstioOperator controller was removed in Istio 1.24, so nothing would reconcile the IstioOperator rendered for it; the last version istio-operator supports is 1.23.6",
	"hop": "1.24.6",
	"step": "1.24.6: install",
	"lastSupported": "1.23.6",
}

fixture_fires_hop_past_1_23 := {
	"spec": {"istio": {"version": "1.24.6", "delivery": "istio-operator"}},
	"plan": {"from": "1.22.8", "to": "1.24.6", "hops": ["1.22.8", "1.23.6", "1.24.6"], "steps": [{"name": "1.23.6: install"}, {"name": "1.24.6: install"}], "problems": [problem]},
}

fixture_ok_up_to_1_23 := {
	"spec": {"istio": {"version": "1.23.6", "delivery": "istio-operator"}},
	"plan": {"from": "1.22.8", "to": "1.23.6", "hops": ["1.22.8", "1.23.6"], "steps": [{"name": "install"}]},
}

fixture_ok_other_problem := {
	"spec": {"istio": {"version": "1.26.8", "delivery": "istio-operator"}},
	"plan": {"from": "1.22.8", "to": "1.26.8", "hops": ["1.22.8", "1.24.6", "1.26.8"], "steps": [], "problems": [{"rule": "MP103", "kind": "intermediate-kubernetes", "message": "intermediate hop 1.24.6 does not support Kubernetes 1.32", "hop": "1.24.6"}]},
}

test_fires_on_a_hop_past_the_last_supported_version if {
	findings := delivery_unsupported.deny with input as fixture_fires_hop_past_1_23
	count(findings) == 1
	some f in findings
	contains(f.msg, "1.24.6")
	f.step == "1.24.6: install"
	contains(f.hint, "spec.istio.version to 1.23.6")
	contains(f.hint, "flux-helm, argocd-helm or sail")
	contains(f.hint, "does not yet plan that migration step")
}

test_ok_up_to_the_last_supported_version if {
	count(delivery_unsupported.deny) == 0 with input as fixture_ok_up_to_1_23
}

test_ok_other_problem if {
	count(delivery_unsupported.deny) == 0 with input as fixture_ok_other_problem
}

test_step_is_null_without_one if {
	findings := delivery_unsupported.deny with input as {"plan": {"problems": [object.remove(problem, ["step"])]}}
	some f in findings
	f.step == null
}

test_fires_without_a_last_supported_version if {
	findings := delivery_unsupported.deny with input as {"plan": {"problems": [object.remove(problem, ["lastSupported"])]}}
	count(findings) == 1
	some f in findings
	contains(f.hint, "the last version the delivery supports")
}
