package meshplan.gateways.gateway_owns_loadbalancer_test

import data.meshplan.gateways.gateway_owns_loadbalancer

release(colour, strategy, service_type) := {
	"gateway": "istio-ingress/ingress",
	"colour": colour,
	"strategy": strategy,
	"serviceType": service_type,
	"object": {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "namespace": "istio-ingress", "name": sprintf("ingress-%s", [colour])},
	"file": sprintf("rendered/istio-ingress/ingress-%s.yaml", [colour]),
	"line": 1,
}

fixture_fires := {"rendered": {"gateways": [release("blue", "blue-green", "LoadBalancer"), release("green", "blue-green", "None")]}}

fixture_fires_chart_default := {"rendered": {"gateways": [release("green", "blue-green", null)]}}

fixture_ok_in_place := {"rendered": {"gateways": [release("blue", "in-place", "LoadBalancer"), release("green", "in-place", null)]}}

fixture_ok_cluster_ip_and_none := {"rendered": {"gateways": [release("blue", "blue-green", "ClusterIP"), release("green", "blue-green", "None")]}}

fixture_ok_not_in_the_spec := {"rendered": {"gateways": [release("blue", null, "LoadBalancer")]}}

fixture_ok_no_render := {"rendered": null}

test_fires_for_a_blue_green_loadbalancer if {
	findings := gateway_owns_loadbalancer.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.msg == "the blue colour of blue/green gateway istio-ingress/ingress gets a LoadBalancer Service of its own (service.type LoadBalancer)"
	f.object.name == "ingress-blue"
	f.file == "rendered/istio-ingress/ingress-blue.yaml"
	f.line == 1
}

test_fires_for_the_chart_default if {
	findings := gateway_owns_loadbalancer.deny with input as fixture_fires_chart_default
	count(findings) == 1
	some f in findings
	contains(f.msg, "unset, so the chart default LoadBalancer")
}

test_ok_in_place if {
	count(gateway_owns_loadbalancer.deny) == 0 with input as fixture_ok_in_place
}

test_ok_cluster_ip_and_none if {
	count(gateway_owns_loadbalancer.deny) == 0 with input as fixture_ok_cluster_ip_and_none
}

test_ok_gateway_not_in_the_spec if {
	count(gateway_owns_loadbalancer.deny) == 0 with input as fixture_ok_not_in_the_spec
}

test_ok_without_a_render if {
	count(gateway_owns_loadbalancer.deny) == 0 with input as fixture_ok_no_render
}
