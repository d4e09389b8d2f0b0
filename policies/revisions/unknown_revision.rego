# What it does
#   Flags a namespace whose `istio.io/rev` label, or a workload whose pod template
#   `istio.io/rev` label, names neither a revision nor a revision tag installed after
#   the step.
#
# Why is this bad?
#   No injector webhook matches the label: new pods start without a sidecar (or, with
#   a strict webhook policy, not at all) and silently leave the mesh.
#
# Example
#   Namespace `shop` labelled `istio.io/rev: 1-23-4` after the step that removes the
#   revision `1-23-4`.
#
# Fix
#   Point the label at an installed revision or tag (`istio.io/rev: stable`), or keep the
#   revision installed until nothing uses it.
package meshplan.revisions.unknown_revision

import data.meshplan.lib.util

metadata := {
	"code": "MP201",
	"name": "unknown-revision",
	"severity": "deny",
	"title": "Label points at a revision that is not installed",
	"description": "A namespace or pod istio.io/rev label, or a gateway colour, names a revision or tag that is not installed after the step, so its pods lose their sidecar or their control plane.",
	"remediation": "Point the label at an installed revision or tag, or keep the revision installed.",
}

installed(name) if input.facts.revisions[name]

installed(name) if input.facts.tags[name]

hint := "point istio.io/rev at an installed revision or tag"

deny contains util.namespace_finding(ns, msg, hint) if {
	some ns in input.facts.namespaces
	rev := object.get(ns, "revLabel", null)
	rev != null
	not installed(rev)
	msg := sprintf("istio.io/rev=%s names no installed revision or tag", [rev])
}

# A pod labelled `sidecar.istio.io/inject: "false"` is excluded by every injector's object
# selector, whatever its `istio.io/rev` says (istiod's own pods carry both): nothing is lost.
opted_out(w) if object.get(object.get(w, "podLabels", {}), "sidecar.istio.io/inject", "") == "false"

deny contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	rev := object.get(w, "podRevLabel", null)
	rev != null
	not opted_out(w)
	not installed(rev)
	msg := sprintf("the pod label istio.io/rev=%s names no installed revision or tag", [rev])
}

# A gateway colour running on a revision that is not installed after the step (judged on
# each step's lock; the traffic-Service side of it is MP401).
after_revisions := {r.name | some r in util.step_after.revisions}

deny contains util.gateway_finding(gateway, msg, "keep the revision installed until the gateway colour is removed") if {
	some gateway, state in util.step_after.gateways
	some colour, revision in state.colours
	not revision in after_revisions
	not util.step_after.tags[revision]
	msg := sprintf("the %s colour of gateway %s runs on revision %s, which is not installed after this step", [colour, gateway, revision])
}
