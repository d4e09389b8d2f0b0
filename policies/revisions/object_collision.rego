# What it does
#   Flags an object meshplan renders (or would render in a judged step) that has the same
#   API group, kind, namespace and name as an object of the manifests, other than the
#   objects `meshplan adopt` took over.
#
# Why is this bad?
#   Two files then declare one cluster object. Flux Kustomizations or Argo CD Applications
#   applying them fight over it (each sync undoes the other), and when one of them prunes
#   it — a `base` release moving from one Kustomization to another — Helm uninstalls it,
#   leaving Istio's CRDs owned by no release and the next install failing.
#
# Example
#   The manifests hold `HelmRelease/istio-system/istio-base`, and meshplan renders its own
#   `HelmRelease/istio-system/istio-base` into `rendered/istio-system/istio-base.yaml`.
#
# Fix
#   Run `meshplan adopt` when the object is a running Istio installation, so meshplan takes
#   it over under its own name; otherwise rename or remove one of the two.
package meshplan.revisions.object_collision

metadata := {
	"code": "MP208",
	"name": "object-collision",
	"severity": "deny",
	"title": "Rendered object collides with a manifest object",
	"description": "An object meshplan renders has the same group, kind, namespace and name as an object in the manifests.",
	"remediation": "Adopt the running installation with `meshplan adopt`, or rename or remove one of the two objects.",
}

deny contains finding if {
	some c in input.rendered.collisions
	finding := {
		"msg": sprintf("meshplan renders %s into %s, but the manifests declare the same object: two owners would fight over it", [c.key, c.rendered]),
		"object": c.object,
		"hint": "run `meshplan adopt` if it is a running Istio installation; otherwise rename or remove one of them",
	}
}
