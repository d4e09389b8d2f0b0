# What it does
#   Flags a step that removes a revision still in use after it: a namespace's
#   `istio.io/rev` label (directly or through a tag), a revision tag, a gateway colour
#   or a waypoint still points at it, or a workload is still injected by it (a pod template
#   that pins `istio.io/rev` in a namespace without injection labels does not move with the
#   waves), or a committed sidecar (`istioctl kube-inject` output) still talks to it.
#
# Why is this bad?
#   Removing istiod removes its injector webhook and the xDS server its proxies talk to.
#   Pods in namespaces still labelled for it get no sidecar when they restart, and running
#   proxies lose their control plane.
#
# Example
#   A `cleanup` step removes `1-24-6` while namespace `shop` still carries
#   `istio.io/rev: 1-24-6` because its wave was skipped, or while Deployment
#   `legacy/cron` pins `istio.io/rev: 1-24-6` on its pod template.
#
# Fix
#   Move every namespace, tag and gateway off the revision first (run the remaining wave
#   and gateway steps), point pinned pod templates at the new revision or a tag,
#   re-inject committed sidecars with the new revision's `istioctl kube-inject`, then
#   clean it up.
package meshplan.revisions.revision_in_use

import data.meshplan.lib.util

metadata := {
	"code": "MP202",
	"name": "revision-in-use",
	"severity": "deny",
	"title": "Revision removed while still in use",
	"description": "A step removes a revision that a namespace, tag, gateway, waypoint or workload still uses after the step.",
	"remediation": "Move namespaces, tags, gateways and pinned workloads off the revision before removing it.",
}

before_names := {r.name | some r in util.step_before.revisions}

after_names := {r.name | some r in util.step_after.revisions}

removed := before_names - after_names

deny contains object.union(util.step_finding(msg, hint), {"object": util.namespace_ref({"name": ns})}) if {
	some rev in removed
	some ns, label in util.step_after.namespaces
	util.resolve(util.step_after, label) == rev
	msg := sprintf("this step removes revision %s, but namespace %s still uses it (istio.io/rev=%s)", [rev, ns, label])
	hint := "run the waves that move this namespace before the cleanup step"
}

deny contains util.step_finding(msg, hint) if {
	some rev in removed
	some tag, target in util.step_after.tags
	target == rev
	msg := sprintf("this step removes revision %s, but tag %s still points at it", [rev, tag])
	hint := "move the tag to the new revision before the cleanup step"
}

deny contains util.gateway_finding(gateway, msg, hint) if {
	some rev in removed
	some gateway, state in util.step_after.gateways
	some colour, target in state.colours
	target == rev
	msg := sprintf("this step removes revision %s, but the %s colour of gateway %s still runs on it", [rev, colour, gateway])
	hint := "switch and remove the gateway colour before the cleanup step"
}

# A waypoint (ambient) whose istio.io/rev label still names the removed revision, directly
# or through a tag the step keeps (`input.step.waypoints`, one entry per waypoint).
deny contains finding if {
	some rev in removed
	some w in input.step.waypoints
	util.resolve(util.step_after, w.uses) == rev
	finding := {
		"msg": sprintf("this step removes revision %s, but waypoint %s still uses it (istio.io/rev=%s)", [rev, w.key, w.uses]),
		"object": w.object,
		"hint": "move the waypoint's istio.io/rev label (or its tag) to the new revision before the cleanup step",
		"step": input.step.name,
	}
}

# A workload the facts say the removed revision injects right before the step
# (`input.step.stranded`, computed in Rust from the facts: no loop over workloads here).
deny contains finding if {
	some w in input.step.stranded
	w.revision in removed
	finding := {
		"msg": sprintf("this step removes revision %s, but it still injects %s", [w.revision, w.key]),
		"object": w.object,
		"hint": "point the pod template's istio.io/rev at the new revision or a tag (or label its namespace) before the cleanup step",
		"step": input.step.name,
	}
}

# The step's committed sidecars (none when the input judges no step).
committed_sidecars := input.step.committed if is_array(input.step.committed)

committed_sidecars := [] if not is_array(input.step.committed)

# A committed sidecar still talking to the removed revision after the step (its injected
# config names it; `input.step.committed` is computed in Rust from the manifest).
deny contains finding if {
	some c in committed_sidecars
	c.revision in removed
	finding := {
		"msg": sprintf("this step removes revision %s, but the committed sidecar of %s still talks to it", [c.revision, c.key]),
		"object": c.object,
		"hint": sprintf("re-inject it with `istioctl kube-inject --revision %s` and commit the result before the cleanup step", [concat(" or ", sort(after_names))]),
		"step": input.step.name,
	}
}
