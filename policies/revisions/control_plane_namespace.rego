# What it does
#   Flags a control-plane namespace (`spec.istio.namespace`, default `istio-system`) that
#   two meshes of the cluster share, or that a mesh also lists among its workload
#   namespaces.
#
# Why is this bad?
#   Each tenant's istiod, its webhooks' Services, its root certificate (`istio-ca-root-cert`)
#   and its revision tags live in its control-plane namespace, named after the revision.
#   Two control planes there overwrite each other's objects (and two meshes at the same
#   version would install the very same istiod). A control-plane namespace that is also a
#   workload namespace gets relabelled and restarted by the mesh's plan, istiod included.
#
# Example
#   `mesh-a` and `mesh-b` leave `spec.istio.namespace` unset: both run in `istio-system`.
#
# Fix
#   Give every mesh its own `spec.istio.namespace` (e.g. `istio-system-a`,
#   `istio-system-b`) and keep it out of `spec.namespaces`.
package meshplan.revisions.control_plane_namespace

import data.meshplan.lib.util

metadata := {
	"code": "MP211",
	"name": "control-plane-namespace",
	"severity": "deny",
	"title": "A control-plane namespace is shared or holds workloads",
	"description": "Two meshes share a control-plane namespace, or a mesh's control-plane namespace is one of its workload namespaces.",
	"remediation": "Give every mesh its own spec.istio.namespace, outside every mesh's spec.namespaces.",
}

deny contains util.namespace_finding({"name": c.namespace}, msg, hint) if {
	some c in input.facts.tenancy.controlPlaneClashes
	c.kind == "shared"
	msg := sprintf("namespace %s is the control-plane namespace of more than one mesh: %s", [c.namespace, concat(", ", c.meshes)])
	hint := "give every mesh its own spec.istio.namespace"
}

deny contains util.namespace_finding({"name": c.namespace}, msg, hint) if {
	some c in input.facts.tenancy.controlPlaneClashes
	c.kind == "workloads"
	msg := sprintf("namespace %s is a control-plane namespace and a workload namespace (meshes %s)", [c.namespace, concat(", ", c.meshes)])
	hint := "remove the control-plane namespace from spec.namespaces, or move the control plane to its own spec.istio.namespace"
}
