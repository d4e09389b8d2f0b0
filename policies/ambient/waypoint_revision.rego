# What it does
#   Flags a waypoint proxy (a Gateway API `Gateway` of class `istio-waypoint`) whose
#   `istio.io/rev` label names a revision or tag that is not installed after the step:
#   neither an installed revision nor a tag of one. A waypoint without the label is the
#   default revision's, so it is flagged when no default revision is left.
#
# Why is this bad?
#   A waypoint is deployed and programmed by the istiod of its revision. When that revision
#   is gone (or the tag it names was never created or points at a removed revision), no
#   istiod reconciles the Gateway: its Deployment is left running a proxy no control plane
#   configures, and every ambient workload that uses the waypoint loses its L7 policy and
#   routing, or its traffic entirely once the proxy restarts.
#
# Example
#   `Gateway/bookinfo/bookinfo-reviews` carries `istio.io/rev: stable`, and the spec's
#   `istio.revisionTags` is `[default]`: the install step creates no `stable` tag, so the
#   waypoint has no control plane after it.
#
# Fix
#   Label the waypoint with a tag meshplan manages (add it to `spec.istio.revisionTags`)
#   or with an installed revision, and move waypoints by their tags before the cleanup
#   step removes the old revision.
package meshplan.ambient.waypoint_revision

import data.meshplan.lib.util

metadata := {
	"code": "MP603",
	"name": "waypoint-revision",
	"severity": "deny",
	"title": "Waypoint points at a revision that is not installed",
	"description": "A waypoint's istio.io/rev label names a revision or tag that is not installed after the step.",
	"remediation": "Label the waypoint with an installed revision or a managed tag, and move it by its tag before removing a revision.",
}

installed contains r.name if some r in util.step_after.revisions

deny contains finding if {
	some w in input.step.waypoints
	not util.resolve(util.step_after, w.uses) in installed
	finding := {
		"msg": message(w),
		"object": w.object,
		"hint": "label the waypoint with an installed revision or a tag in spec.istio.revisionTags",
		"step": input.step.name,
	}
}

message(w) := sprintf("waypoint %s uses tag %s, whose revision %s is not installed after this step", [w.key, w.uses, util.step_after.tags[w.uses]]) if {
	util.step_after.tags[w.uses]
}

message(w) := sprintf("waypoint %s uses revision or tag %s, which is not installed after this step", [w.key, w.uses]) if {
	not util.step_after.tags[w.uses]
}
