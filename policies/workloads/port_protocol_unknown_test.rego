package meshplan.workloads.port_protocol_unknown_test

import data.meshplan.workloads.port_protocol_unknown

cart := {
	"object": {"apiVersion": "v1", "kind": "Service", "namespace": "shop", "name": "cart"},
	"selectsInjected": true,
	"ports": [
		{"name": "web", "port": 8080, "protocol": "unknown"},
		{"name": "http-metrics", "port": 9090, "protocol": "http"},
	],
}

fixture_fires := {"facts": {"services": [cart]}}

fixture_ok_named := {"facts": {"services": [object.union(cart, {"ports": [{"name": "http-web", "port": 8080, "protocol": "http"}]})]}}

fixture_ok_not_injected := {"facts": {"services": [object.union(cart, {"selectsInjected": false})]}}

test_fires_on_unnamed_port if {
	findings := port_protocol_unknown.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "8080")
	f.object.kind == "Service"
}

test_ok_named if {
	count(port_protocol_unknown.warn) == 0 with input as fixture_ok_named
}

test_ok_not_injected if {
	count(port_protocol_unknown.warn) == 0 with input as fixture_ok_not_injected
}

test_one_finding_per_service_naming_every_port if {
	ports := [
		{"name": "web", "port": 8080, "protocol": "unknown"},
		{"name": "", "port": 8083, "protocol": "unknown"},
		{"name": "http-metrics", "port": 9090, "protocol": "http"},
	]
	findings := port_protocol_unknown.warn with input as {"facts": {"services": [object.union(cart, {"ports": ports})]}}
	count(findings) == 1
	some f in findings
	f.msg == "ports 8080 (name \"web\"), 8083 (name \"\") have no protocol Istio can tell, so traffic is sniffed"
}
