# What it does
#   Flags a target Istio version (or an intermediate hop of the plan) that does not
#   support the spec's Kubernetes version.
#
# Why is this bad?
#   Istio tests each minor against a fixed range of Kubernetes versions. Outside it,
#   CRDs, webhooks or the CNI plugin may rely on APIs the cluster does not serve, and
#   the upgrade can fail half-way.
#
# Example
#   `kubernetesVersion: "1.33"` with `istio.version: 1.24.3` (1.24 supports 1.28–1.31).
#
# Fix
#   Pick an Istio version that supports the cluster's Kubernetes version, or upgrade
#   Kubernetes (within the supported range of the installed Istio) first.
package meshplan.upgrade.unsupported_kubernetes

metadata := {
	"code": "MP103",
	"name": "unsupported-kubernetes",
	"severity": "deny",
	"title": "Istio version does not support the Kubernetes version",
	"description": "The spec's Kubernetes version is outside the supported range of the target Istio version (or of a hop on the way to it).",
	"remediation": "Choose an Istio version that supports this Kubernetes version, or upgrade Kubernetes first.",
}

installed_by_version := {v.version: v | some v in input.facts.versions.installed}

# The versions the plan passes through after its starting point, and the target.
judged contains input.facts.versions.target

judged contains installed_by_version[hop] if {
	some i, hop in input.plan.hops
	i > 0
}

deny contains {"msg": msg, "hint": hint} if {
	some v in judged
	v.kubernetesOk == false
	msg := sprintf("istio %s does not support Kubernetes %s (supported: %s)", [v.version, input.facts.versions.kubernetes, concat(", ", v.kubernetesSupported)])
	hint := "choose an Istio version that supports this Kubernetes version, or upgrade Kubernetes first"
}
