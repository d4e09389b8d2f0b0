package meshplan.revisions.cross_mesh_injection_test

import data.meshplan.revisions.cross_mesh_injection

fixture_fires := {"facts": {"tenancy": {"crossInjections": [{
	"namespace": "team-b",
	"owner": "mesh-b",
	"injector": "mesh-a",
	"revision": "1-24-6",
	"reason": "istio-injection=enabled selects the default revision 1-24-6",
}]}}}

test_fires_on_a_namespace_injected_by_another_mesh if {
	findings := cross_mesh_injection.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object.name == "team-b"
	contains(f.msg, "of mesh mesh-b would be injected by mesh mesh-a's revision 1-24-6")
}

fixture_ok := {"facts": {"tenancy": {"crossInjections": []}}}

test_ok_when_each_mesh_injects_its_own if {
	count(cross_mesh_injection.deny) == 0 with input as fixture_ok
}

test_ok_for_a_single_mesh if {
	count(cross_mesh_injection.deny) == 0 with input as {"facts": {}}
}

fixture_collision := {"facts": {"tenancy": {"crossInjections": [{
	"namespace": "",
	"owner": "mesh-a",
	"injector": "mesh-b",
	"revision": "default",
	"reason": "both inject istio-injection=enabled namespaces and istio.io/rev=default",
}]}}}

test_fires_on_a_tag_two_meshes_serve if {
	findings := cross_mesh_injection.deny with input as fixture_collision
	count(findings) == 1
	some f in findings
	not f.object
	contains(f.msg, "revision or tag default is served by meshes mesh-a and mesh-b")
}

fixture_pod := {"facts": {"tenancy": {"crossInjections": [{
	"namespace": "batch",
	"owner": "mesh-b",
	"injector": "mesh-a",
	"revision": "1-24-6",
	"reason": "pod label istio.io/rev=1-24-6 selects revision 1-24-6",
	"object": {"apiVersion": "batch/v1", "kind": "Job", "namespace": "batch", "name": "report"},
}]}}}

test_fires_on_a_pod_injected_by_another_mesh if {
	findings := cross_mesh_injection.deny with input as fixture_pod
	count(findings) == 1
	some f in findings
	f.object.kind == "Job"
	contains(f.msg, "workload Job/batch/report of mesh mesh-b would be injected by mesh mesh-a's revision 1-24-6")
}
