# What it does
#   Flags an istiod installation in the manifests — a Flux HelmRelease or Argo CD
#   Application of the `istiod` chart, an IstioOperator, a Sail `Istio`/`IstioRevision`, or
#   rendered output (an istiod Deployment) — that `meshplan.lock` does not record.
#
# Why is this bad?
#   meshplan plans from its lock. A control plane it does not know about is invisible to
#   the plan: the first render installs a second control plane beside it (and a `base`
#   release under the same name as the running one), and nothing judges the hand-over of
#   the namespaces and proxies that the running one injects.
#
# Example
#   `HelmRelease/istio-system/istiod` installs Istio 1.19.3 (chart version `${version}`
#   from ConfigMap `flux-system/istio-version`), and there is no `meshplan.lock` yet.
#
# Fix
#   Run `meshplan adopt`: it writes the first lock from the running installation, so the
#   first plan is an upgrade from it and its cleanup step retires the old install.
package meshplan.revisions.unmanaged_control_plane

metadata := {
	"code": "MP207",
	"name": "unmanaged-control-plane",
	"severity": "deny",
	"title": "Control plane not recorded in meshplan.lock",
	"description": "An istiod installation in the manifests (Helm/Flux/Argo CD release, IstioOperator, Sail CR, rendered output) is not recorded in meshplan.lock; meshplan would install a second control plane beside it.",
	"remediation": "Run `meshplan adopt` to take the running installation over in the first lock.",
}

version_text(i) := sprintf("Istio %s", [i.version]) if is_string(i.version)

version_text(i) := "an unknown Istio version" if not is_string(i.version)

deny contains finding if {
	some i in input.facts.installations
	i.component == "istiod"
	i.managed == false
	i.adopted == false
	finding := {
		"msg": sprintf("this %s installs %s (revision %s, %s) but meshplan.lock does not record it: the plan would install a second control plane beside it", [i.object.kind, version_text(i), i.revision, i.delivery]),
		"object": i.object,
		"hint": "run `meshplan adopt` to take the running installation over",
	}
}
