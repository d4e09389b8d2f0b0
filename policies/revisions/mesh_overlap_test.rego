package meshplan.revisions.mesh_overlap_test

import data.meshplan.revisions.mesh_overlap

fixture_fires := {"facts": {"tenancy": {"overlaps": [{
	"namespace": "shared",
	"meshes": {"mesh-a": "listed in spec.namespaces", "mesh-b": "selected by its discoverySelectors"},
}]}}}

test_fires_on_a_shared_namespace if {
	findings := mesh_overlap.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object.kind == "Namespace"
	f.object.name == "shared"
	contains(f.msg, "mesh-a (listed in spec.namespaces), mesh-b (selected by its discoverySelectors)")
}

fixture_ok := {"facts": {"tenancy": {"overlaps": []}}}

test_ok_without_overlaps if {
	count(mesh_overlap.deny) == 0 with input as fixture_ok
}

test_ok_for_a_single_mesh if {
	count(mesh_overlap.deny) == 0 with input as {"facts": {}}
}
