# What it does
#   Flags a workload that carries a committed sidecar (`istioctl kube-inject` output: an
#   `istio-proxy` container or the `sidecar.istio.io/status` annotation in its pod
#   template) pinned to another Istio version than the one the plan reaches.
#
# Why is this bad?
#   The proxy's image and bootstrap are written into the manifest. Relabelling the
#   namespace and bumping the restart annotation restart it on the same old proxy, so the
#   upgrade silently leaves it behind, eventually outside the skew its control plane
#   supports (MP105).
#
# Example
#   `Deployment/shop/cart` runs `docker.io/istio/proxyv2:1.18.5` from a committed
#   kube-inject patch while the plan reaches 1.20.8.
#
# Fix
#   Re-inject it with the target revision's `istioctl kube-inject` and commit the result,
#   or remove the committed sidecar and let the namespace's injector webhook inject it.
package meshplan.workloads.manual_injection

import data.meshplan.lib.util

metadata := {
	"code": "MP314",
	"name": "manual-injection",
	"severity": "warn",
	"title": "Committed sidecar pinned to another version",
	"description": "A workload carries a committed sidecar (istioctl kube-inject output) pinned to a version other than the one the plan reaches: a restart does not move it, re-injection does.",
	"remediation": "Re-inject it with the target revision's istioctl kube-inject, or move it to automatic injection.",
}

pinned(w) := w.proxy if is_string(w.proxy)

pinned(w) := "an unknown version" if not is_string(w.proxy)

warn contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	w.sidecar == "manual"
	target := input.plan.to
	object.get(w, "proxy", null) != target
	msg := sprintf("the committed sidecar of %s is pinned to %s, but the plan reaches %s: a restart does not move it", [w.key, pinned(w), target])
	hint := sprintf("re-inject it with the %s revision's `istioctl kube-inject`, or remove the committed sidecar and let the namespace's webhook inject it", [target])
}
