# What it does
#   Flags a plan that takes the mesh to an Istio version its delivery cannot install:
#   `delivery: istio-operator` on a hop to 1.24 or later (or a new cluster, or any step
#   rendered, at such a version). The planner records it in `input.plan.problems` with the
#   first step that meets it and the last version the delivery supports (the release
#   catalogue's newest 1.23 patch); this rule reports it at `spec.istio.delivery`.
#
# Why is this bad?
#   The in-cluster IstioOperator controller was deprecated in Istio 1.23 and removed in
#   1.24. meshplan renders an `IstioOperator` per revision into the output directory, which
#   Flux or Argo CD applies; from 1.24 on nothing reconciles it, so the pull request merges,
#   the sync succeeds, and no new istiod ever starts: the waves that follow would relabel
#   namespaces to a revision that does not exist.
#
# Example
#   The lock records revision `1-22-8`, the spec asks for `istio.version: 1.24.6` with
#   `delivery: istio-operator`: the hop through 1.23.6 works, the hop to 1.24.6 does not.
#
# Fix
#   Stop at the last supported version (set `spec.istio.version` to 1.23.6), then change
#   `spec.istio.delivery` to `flux-helm`, `argocd-helm` or `sail` before going further.
#   meshplan does not yet plan that migration step (the next revision installed with the new
#   delivery beside the old one, the old delivery's objects retired at cleanup): review that
#   change by hand. If you feed the rendered IstioOperator to `istioctl install -f` yourself
#   rather than letting a GitOps controller apply it, switch the rule off
#   (`spec.rules: {MP110: off}`).
package meshplan.upgrade.delivery_unsupported

metadata := {
	"code": "MP110",
	"name": "delivery-unsupported",
	"severity": "deny",
	"title": "Delivery cannot install the version",
	"description": "A step of the plan renders an Istio version the spec's delivery cannot install: the in-cluster IstioOperator controller is gone from Istio 1.24 on.",
	"remediation": "Stop at the last version the delivery supports (1.23 for istio-operator), then change spec.istio.delivery to flux-helm, argocd-helm or sail.",
}

deny contains {"msg": p.message, "hint": hint, "step": object.get(p, "step", null)} if {
	some p in object.get(input.plan, "problems", [])
	p.rule == "MP110"
	# Never undefined: a problem without the field is still reported.
	last := object.get(p, "lastSupported", "the last version the delivery supports")
	hint := sprintf("set spec.istio.version to %s and stop there, then change spec.istio.delivery to flux-helm, argocd-helm or sail; meshplan does not yet plan that migration step, so review it by hand", [last])
}
