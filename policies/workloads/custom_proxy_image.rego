# What it does
#   Flags a moving workload whose pod template sets `sidecar.istio.io/proxyImage`.
#
# Why is this bad?
#   The annotation pins the proxy image: restarting the workload onto the new revision
#   gives it the same old proxy, which may be too old for the new control plane and
#   silently defeats the upgrade.
#
# Example
#   Deployment `shop/legacy` annotated `sidecar.istio.io/proxyImage: docker.io/istio/proxyv2:1.20.0`.
#
# Fix
#   Remove the annotation, or update it to the proxy image of the target version in the
#   same change.
package meshplan.workloads.custom_proxy_image

import data.meshplan.lib.util

metadata := {
	"code": "MP305",
	"name": "custom-proxy-image",
	"severity": "warn",
	"title": "Moving workload pins its proxy image",
	"description": "A moving workload sets sidecar.istio.io/proxyImage, so restarting it does not give it the new proxy.",
	"remediation": "Remove sidecar.istio.io/proxyImage or set it to the target version's proxy image.",
}

warn contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	w.moving == true
	image := object.get(w, "customProxyImage", null)
	image != null
	msg := sprintf("sidecar.istio.io/proxyImage pins the proxy to %s, so the restart keeps the old proxy", [image])
	hint := "remove the annotation or set it to the target version's proxy image"
}
