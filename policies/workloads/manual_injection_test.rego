package meshplan.workloads.manual_injection_test

import data.meshplan.workloads.manual_injection

cart := {
	"object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"},
	"key": "Deployment/shop/cart",
	"injected": true,
	"sidecar": "manual",
	"proxy": "1.18.5",
	"moving": false,
}

fixture_fires := {"plan": {"to": "1.20.8"}, "facts": {"workloads": [cart]}}

fixture_unknown := {"plan": {"to": "1.20.8"}, "facts": {"workloads": [object.union(cart, {"proxy": null})]}}

fixture_ok_same_version := {"plan": {"to": "1.18.5"}, "facts": {"workloads": [cart]}}

fixture_ok_webhook := {"plan": {"to": "1.20.8"}, "facts": {"workloads": [object.union(cart, {"sidecar": "legacy"})]}}

test_fires_naming_both_versions if {
	findings := manual_injection.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "1.18.5")
	contains(f.msg, "1.20.8")
	contains(f.hint, "kube-inject")
}

test_fires_on_unknown_pin if {
	findings := manual_injection.warn with input as fixture_unknown
	some f in findings
	contains(f.msg, "an unknown version")
}

test_ok_already_on_target if {
	count(manual_injection.warn) == 0 with input as fixture_ok_same_version
}

test_ok_webhook_injected if {
	count(manual_injection.warn) == 0 with input as fixture_ok_webhook
}
