# What it does
#   Flags a colour of a blue/green gateway whose own chart release creates a Service of
#   type LoadBalancer: `service.type: LoadBalancer` in the gateway chart's values (Flux
#   HelmRelease, Argo CD Application) or in the IstioOperator component's `k8s` block, or no
#   type at all, since the Istio gateway chart and IstioOperator both default to
#   LoadBalancer. It reads `input.rendered.gateways`, the releases found in the rendered
#   files, so it judges what is rendered whoever produced it: `spec.gateways[].values`,
#   `--charts` templates or a hand edit of the committed files.
#
# Why is this bad?
#   In blue/green, traffic enters through one LoadBalancer owned apart from the colours (the
#   traffic Service meshplan renders) and is switched by changing the colour it selects. A
#   colour with a LoadBalancer of its own gets a second external address that takes traffic
#   at once, before the switch step, and disappears with the colour at cleanup: clients and
#   DNS pointing at it break, and the upgrade is no longer switched in one reviewed step.
#
# Example
#   `spec.gateways: [{name: ingress, strategy: blue-green, values: {service: {type:
#   LoadBalancer}}}]`, or `type: LoadBalancer` typed into
#   `rendered/istio-ingress/ingress-blue.yaml`.
#
# Fix
#   Drop `service.type` from `spec.gateways[].values` (meshplan renders `None`, or
#   `ClusterIP` for IstioOperator) and configure the external Service through
#   `spec.gateways[].service`; revert hand edits; or use `strategy: in-place` if the gateway
#   really is a single release with its own LoadBalancer.
package meshplan.gateways.gateway_owns_loadbalancer

metadata := {
	"code": "MP402",
	"name": "gateway-owns-loadbalancer",
	"severity": "deny",
	"title": "Blue/green gateway colour owns a LoadBalancer",
	"description": "A blue/green gateway's own chart Service is of type LoadBalancer; the LoadBalancer must be owned separately and select a colour.",
	"remediation": "Leave service.type to meshplan (None, or ClusterIP for IstioOperator) and set the external Service in spec.gateways[].service.",
}

# load_balancer holds for a Service type that makes a LoadBalancer: LoadBalancer, or unset
# (null), the default of the Istio gateway chart (1.22 to 1.28) and of IstioOperator.
load_balancer(t) if t == "LoadBalancer"

load_balancer(t) if t == null

shown(t) := "unset, so the chart default LoadBalancer" if t == null

shown(t) := t if t != null

deny contains finding if {
	some g in input.rendered.gateways
	g.strategy == "blue-green"
	load_balancer(g.serviceType)
	msg := sprintf("the %s colour of blue/green gateway %s gets a LoadBalancer Service of its own (service.type %s)", [g.colour, g.gateway, shown(g.serviceType)])
	finding := {
		"msg": msg,
		"object": g.object,
		"hint": "set service.type None (ClusterIP for IstioOperator): the traffic Service of spec.gateways[].service is the LoadBalancer",
		"file": g.file,
		"line": g.line,
	}
}
