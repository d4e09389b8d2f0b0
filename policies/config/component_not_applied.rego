# What it does
#   Flags a workload the judged change restarts whose restart bump cannot reach it: the
#   kustomization that builds it (seen through the `{kustomize}`, `{flux}` or `{argocd}`
#   entries of `spec.manifests`) does not include meshplan's restart Component
#   (`<spec.output>/restarts`), or no kustomization meshplan sees builds it (a plain file, a
#   chart). With only globs in `spec.manifests` the wiring is not checked (the rule stays
#   quiet: globs do not say which kustomization builds what).
#
# Why is this bad?
#   meshplan records the restart in the lock, but the patch that bumps
#   `meshplan.dev/restarted-for` only reaches the pods when a kustomization that builds the
#   workload includes the Component. Otherwise the workload keeps running the old proxy
#   while the lock and `meshplan facts` say it moved, and the cleanup step removes the
#   revision it still uses.
#
# Example
#   `apps/prod/kustomization.yaml` builds `Deployment/team-b/web` but lists no
#   `components:`; the wave of `team-b` restarts it.
#
# Fix
#   Add the Component to the kustomization above the overlays that set namespaces and
#   prefixes (`components: [../../rendered/restarts]`, see docs/render.md, "Wiring the
#   components"), or load the repository with `{kustomize}`/`{flux}`/`{argocd}` entries so
#   the wiring is checked.
package meshplan.config.component_not_applied

import data.meshplan.lib.util

metadata := {
	"code": "MP505",
	"name": "component-not-applied",
	"severity": "deny",
	"title": "Restart Component not applied",
	"description": "A workload the plan restarts is built by a kustomization that does not include meshplan's restart Component, or by none meshplan can see.",
	"remediation": "Include <spec.output>/restarts in the components of the kustomization that builds the workload (docs/render.md, Wiring the components).",
}

# restarted holds the workloads whose restart annotation the judged change bumps.
restarted contains w if {
	some w in input.facts.workloads
	w.moving == true
	some s in input.plan.steps
	s.name == w.step
	w.key in s.restarts
}

deny contains util.workload_finding(w, msg, hint) if {
	input.facts.wiring.checked == true
	some w in restarted
	entry := object.get(input.facts.wiring.workloads, w.key, {"build": null, "included": false})
	entry.included != true
	msg := message(entry, input.facts.wiring.component)
	hint := sprintf("add %s to the components of the kustomization that builds it (docs/render.md, Wiring the components)", [input.facts.wiring.component])
}

message(entry, component) := sprintf("its build (%s) does not include %s: the restart bump never reaches this workload", [entry.build, component]) if entry.build != null

message(entry, component) := sprintf("no kustomization meshplan sees builds this workload, so %s cannot reach it", [component]) if entry.build == null
