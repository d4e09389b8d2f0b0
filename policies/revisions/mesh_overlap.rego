# What it does
#   Flags a namespace that belongs to two meshes of the same cluster: listed by both (in
#   `spec.namespaces` or a wave), or listed by one and selected by the other's
#   `spec.istio.discoverySelectors`.
#
# Why is this bad?
#   Each tenant mesh is one istiod watching its own namespaces. A namespace two control
#   planes discover gets configuration (Services, policies, certificates) from both, and two
#   meshes' plans would relabel and restart the same workloads on different revisions: the
#   isolation per-tenant meshes exist for is gone, and one tenant's upgrade restarts the
#   other's pods.
#
# Example
#   Mesh `mesh-a` and mesh `mesh-b` both list namespace `shared` in `spec.namespaces`.
#
# Fix
#   Keep the namespace in one mesh's `spec.namespaces`, and make the other's
#   `discoverySelectors` (default: `meshplan.dev/mesh=<name>`) not select it.
package meshplan.revisions.mesh_overlap

import data.meshplan.lib.util

metadata := {
	"code": "MP209",
	"name": "mesh-overlap",
	"severity": "deny",
	"title": "A namespace belongs to two meshes",
	"description": "A namespace is listed in, or discovered by, two meshes of the same cluster.",
	"remediation": "Keep the namespace in one mesh: remove it from the other's spec.namespaces and discoverySelectors.",
}

deny contains util.namespace_finding({"name": o.namespace}, msg, hint) if {
	some o in input.facts.tenancy.overlaps
	claims := [sprintf("%s (%s)", [mesh, how]) | some mesh, how in o.meshes]
	msg := sprintf("namespace %s belongs to more than one mesh: %s", [o.namespace, concat(", ", claims)])
	hint := "keep the namespace in one mesh's spec.namespaces, and out of the other meshes' discoverySelectors"
}
