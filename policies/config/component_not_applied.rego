# What it does
#   Flags a workload the judged change restarts, or a namespace it relabels, that meshplan's
#   Component cannot reach: the kustomization that builds it (seen through the
#   `{kustomize}`, `{flux}` or `{argocd}` entries of `spec.manifests`) does not include
#   `<spec.output>/restarts` (for a workload) or `<spec.output>/namespaces` (for a Namespace
#   object of yours, whose `istio.io/rev` label meshplan patches), or no kustomization
#   meshplan sees builds it (a plain file, a chart). Namespaces meshplan renders itself need
#   no wiring. With only globs or files in `spec.manifests` the wiring cannot be checked:
#   one info at `spec.manifests` says so (not one per workload) when the change restarts or
#   relabels something, and the exit code does not change.
#
# Why is this bad?
#   meshplan records the restart or the new label in the lock, but the patch that bumps
#   `meshplan.dev/restarted-for` or sets `istio.io/rev` only reaches the object when a
#   kustomization that builds it includes the Component. Otherwise the workload keeps
#   running the old proxy (or the namespace keeps injecting the old revision) while the
#   lock and `meshplan facts` say it moved, and the cleanup step removes the revision it
#   still uses.
#
# Example
#   `apps/prod/kustomization.yaml` builds `Deployment/team-b/web` and `Namespace/team-b`
#   but lists no `components:`; the wave of `team-b` restarts the one and relabels the
#   other.
#
# Fix
#   Add the Components to the kustomization above the overlays that set namespaces and
#   prefixes (`components: [../../rendered/restarts, ../../rendered/namespaces]`, see
#   docs/render.md, "Wiring the components"); meshplan renders both from the first step
#   on, so they can be wired before the first step that restarts. Load the repository with
#   `{kustomize}`/`{flux}`/`{argocd}` entries so the wiring is checked.
package meshplan.config.component_not_applied

import data.meshplan.lib.util

metadata := {
	"code": "MP505",
	"name": "component-not-applied",
	"severity": "deny",
	"title": "Restart Component not applied",
	"description": "A workload the plan restarts, or a namespace it relabels, is built by a kustomization that does not include meshplan's Component, or by none meshplan can see.",
	"remediation": "Include <spec.output>/restarts and <spec.output>/namespaces in the components of the kustomization that builds the workload or Namespace (docs/render.md, Wiring the components).",
}

# restarted holds the workloads whose restart annotation the judged change bumps.
restarted contains w if {
	some w in input.facts.workloads
	w.moving == true
	[w.step, w.key] in restart_pairs
}

# restart_pairs holds [step name, workload key] for every restart of the plan, built once:
# each workload is then one set lookup, not a scan of its step's restart list (which made
# this rule quadratic in the workloads of a wave).
restart_pairs := {[s.name, k] | some s in input.plan.steps; some k in s.restarts}

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

# relabelled holds the names of your Namespace objects whose revision label the judged
# change sets or moves: meshplan patches them through its namespaces Component.
relabelled contains name if {
	some name, _ in object.get(input.facts.wiring, "relabelled", {})
	object.get(input.facts.wiring, "namespaces", {})[name]
}

deny contains finding if {
	input.facts.wiring.checked == true
	some name in relabelled
	entry := input.facts.wiring.namespaces[name]
	entry.included != true
	component := input.facts.wiring.namespacesComponent
	finding := {
		"msg": namespace_message(entry, component),
		"object": util.namespace_ref({"name": name}),
		"hint": sprintf("add %s to the components of the kustomization that builds it (docs/render.md, Wiring the components)", [component]),
		"step": input.facts.wiring.relabelled[name],
	}
}

namespace_message(entry, component) := sprintf("its build (%s) does not include %s: the revision label never reaches this namespace", [entry.build, component]) if entry.build != null

namespace_message(entry, component) := sprintf("no kustomization meshplan sees builds this Namespace, so %s cannot reach it", [component]) if entry.build == null

# RULES.md: with only globs (or files) in spec.manifests, one info at that field (the CLI
# locates a finding of this rule without an object there), whatever the number of objects.
info contains {"msg": msg, "hint": hint} if {
	input.facts.wiring.checked == false
	changes_something
	msg := "spec.manifests has no kustomize, flux or argocd entry, so whether your kustomizations include meshplan's restart and namespace Components is unchecked"
	hint := sprintf("include %s and %s in the kustomizations that build your workloads and Namespaces, and load them with {kustomize}, {flux} or {argocd} entries (docs/render.md, Wiring the components)", [input.facts.wiring.component, object.get(input.facts.wiring, "namespacesComponent", "")])
}

changes_something if count(restarted) > 0

changes_something if count(relabelled) > 0
