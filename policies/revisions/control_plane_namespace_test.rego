package meshplan.revisions.control_plane_namespace_test

import data.meshplan.revisions.control_plane_namespace

fixture_fires := {"facts": {"tenancy": {"controlPlaneClashes": [{
	"namespace": "istio-system",
	"meshes": ["mesh-a", "mesh-b"],
	"kind": "shared",
}]}}}

fixture_workloads := {"facts": {"tenancy": {"controlPlaneClashes": [{
	"namespace": "istio-system-a",
	"meshes": ["mesh-a"],
	"kind": "workloads",
}]}}}

test_fires_on_a_shared_control_plane_namespace if {
	findings := control_plane_namespace.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object.name == "istio-system"
	contains(f.msg, "mesh-a, mesh-b")
}

test_fires_on_a_control_plane_namespace_holding_workloads if {
	findings := control_plane_namespace.deny with input as fixture_workloads
	count(findings) == 1
	some f in findings
	contains(f.msg, "workload namespace")
}

fixture_ok := {"facts": {"tenancy": {"controlPlaneClashes": []}}}

test_ok_with_distinct_namespaces if {
	count(control_plane_namespace.deny) == 0 with input as fixture_ok
}
