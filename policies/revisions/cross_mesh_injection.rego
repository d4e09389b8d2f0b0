# What it does
#   Flags a namespace of one mesh that another mesh's sidecar injector webhooks would
#   inject, as `meshplan facts` emulates Istio's webhooks per mesh; a workload whose own pod
#   labels call another mesh's webhook (in a namespace its mesh does not label); and a
#   revision or tag name two meshes serve at some point of their plans: a `default` tag in
#   two meshes (both webhooks match `istio-injection=enabled`), or two meshes installing
#   revisions of the same name (both match `istio.io/rev=<name>`).
#
# Why is this bad?
#   Injector webhooks are cluster-wide objects that see labels only; discovery selectors
#   do not limit them. A pod injected by the wrong mesh's istiod gets that mesh's proxy,
#   root certificate and configuration: it cannot talk to its own mesh, and with two
#   matching webhooks the first one wins arbitrarily.
#
# Example
#   `mesh-a` and `mesh-b` both set `revisionTags: [default]`, and namespace `team-b`
#   (mesh-b) is labelled `istio-injection=enabled`: mesh-a's tag webhook injects it too.
#
# Fix
#   Give the `default` tag to one mesh at most and label the other meshes' namespaces with
#   `istio.io/rev`; keep revision and tag names unique across the cluster.
package meshplan.revisions.cross_mesh_injection

import data.meshplan.lib.util

metadata := {
	"code": "MP210",
	"name": "cross-mesh-injection",
	"severity": "deny",
	"title": "A mesh's injector injects another mesh's namespace",
	"description": "One mesh's sidecar injector webhooks would inject a namespace or pod of another mesh of the cluster.",
	"remediation": "Give the default tag to one mesh at most, and keep revision and tag names unique across the cluster.",
}

deny contains util.namespace_finding({"name": c.namespace}, msg, hint) if {
	some c in input.facts.tenancy.crossInjections
	c.namespace != ""
	not c.object
	msg := sprintf("namespace %s of mesh %s would be injected by mesh %s's revision %s (%s)", [c.namespace, c.owner, c.injector, c.revision, c.reason])
	hint := "give the default tag to one mesh at most, label namespaces with istio.io/rev, and keep revision names unique across the cluster"
}

# Two meshes serving the same revision or tag name: whatever namespace carries the label.
deny contains {"msg": msg, "hint": hint} if {
	some c in input.facts.tenancy.crossInjections
	c.namespace == ""
	msg := sprintf("revision or tag %s is served by meshes %s and %s: %s", [c.revision, c.owner, c.injector, c.reason])
	hint := "give the default tag to one mesh at most, and keep revision and tag names unique across the cluster"
}

# A workload of one mesh in a namespace that mesh does not label, whose pod labels call
# another mesh's webhook.
deny contains {"msg": msg, "object": c.object, "hint": hint} if {
	some c in input.facts.tenancy.crossInjections
	c.object
	msg := sprintf("workload %s/%s/%s of mesh %s would be injected by mesh %s's revision %s (%s)", [c.object.kind, c.object.namespace, c.object.name, c.owner, c.injector, c.revision, c.reason])
	hint := "label the pods with their own mesh's revision, or list their namespace in their mesh's spec.namespaces"
}
