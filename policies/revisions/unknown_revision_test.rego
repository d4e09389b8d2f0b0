package meshplan.revisions.unknown_revision_test

import data.meshplan.revisions.unknown_revision

installed := {"revisions": {"1-24-3": {"name": "1-24-3", "version": "1.24.3", "tags": ["stable"]}}, "tags": {"stable": "1-24-3"}}

cart := {
	"object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"},
	"podRevLabel": "1-22-0",
	"moving": true,
	"step": "wave canary",
}

fixture_fires := {"facts": object.union(installed, {
	"namespaces": [{"name": "shop", "revLabel": "1-23-4"}, {"name": "ok", "revLabel": "stable"}],
	"workloads": [cart],
})}

fixture_ok := {"facts": object.union(installed, {
	"namespaces": [{"name": "shop", "revLabel": "1-24-3"}, {"name": "tagged", "revLabel": "stable"}, {"name": "plain", "revLabel": null}],
	"workloads": [object.union(cart, {"podRevLabel": "stable"})],
})}

test_fires_on_namespace_and_pod if {
	findings := unknown_revision.deny with input as fixture_fires
	count(findings) == 2
	some ns in findings
	ns.object.kind == "Namespace"
	ns.object.name == "shop"
	some pod in findings
	pod.object.kind == "Deployment"
	pod.step == "wave canary"
}

test_ok_revision_and_tag if {
	count(unknown_revision.deny) == 0 with input as fixture_ok
}

gateway_step(colours, revisions) := {"step": {"name": "cleanup", "before": {}, "after": {"revisions": revisions, "tags": {}, "gateways": {"istio-ingress/ingress": {"colours": colours, "active": "green"}}}}}

fixture_fires_gateway := gateway_step({"blue": "1-24-6", "green": "1-26-8"}, [{"name": "1-26-8", "version": "1.26.8"}])

fixture_ok_gateway := gateway_step({"green": "1-26-8"}, [{"name": "1-26-8", "version": "1.26.8"}])

test_fires_on_gateway_colour_without_revision if {
	findings := unknown_revision.deny with input as fixture_fires_gateway
	count(findings) == 1
	some f in findings
	contains(f.msg, "blue colour")
	f.step == "cleanup"
}

test_ok_gateway_colours_installed if {
	count(unknown_revision.deny) == 0 with input as fixture_ok_gateway
}

# istiod's own pods carry `istio.io/rev` and `sidecar.istio.io/inject: "false"`: no injector
# selects them, so a retired revision's label there strands no sidecar.
test_ok_pod_opted_out_of_injection if {
	istiod := object.union(cart, {"podRevLabel": "default", "podLabels": {"istio.io/rev": "default", "sidecar.istio.io/inject": "false"}})
	count(unknown_revision.deny) == 0 with input as {"facts": object.union(installed, {"namespaces": [], "workloads": [istiod]})}
	still := object.union(cart, {"podRevLabel": "default", "podLabels": {"istio.io/rev": "default", "sidecar.istio.io/inject": "true"}})
	count(unknown_revision.deny) == 1 with input as {"facts": object.union(installed, {"namespaces": [], "workloads": [still]})}
}
