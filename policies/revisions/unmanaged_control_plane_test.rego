package meshplan.revisions.unmanaged_control_plane_test

import data.meshplan.revisions.unmanaged_control_plane

istiod := {
	"object": {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "namespace": "istio-system", "name": "istiod"},
	"component": "istiod",
	"revision": "default",
	"version": "1.19.3",
	"delivery": "flux-helm",
	"managed": false,
	"adopted": false,
}

fixture_fires := {"facts": {"installations": [istiod]}}

fixture_unknown_version := {"facts": {"installations": [object.union(istiod, {"version": null})]}}

fixture_ok_adopted := {"facts": {"installations": [object.union(istiod, {"adopted": true})]}}

fixture_ok_meshplans_own := {"facts": {"installations": [object.union(istiod, {"managed": true})]}}

fixture_ok_base := {"facts": {"installations": [object.union(istiod, {"component": "base"})]}}

test_fires_on_unrecorded_istiod if {
	findings := unmanaged_control_plane.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "Istio 1.19.3")
	contains(f.hint, "meshplan adopt")
	f.object.name == "istiod"
}

test_fires_with_unknown_version if {
	findings := unmanaged_control_plane.deny with input as fixture_unknown_version
	some f in findings
	contains(f.msg, "unknown Istio version")
}

test_ok_adopted if {
	count(unmanaged_control_plane.deny) == 0 with input as fixture_ok_adopted
}

test_ok_meshplans_own if {
	count(unmanaged_control_plane.deny) == 0 with input as fixture_ok_meshplans_own
}

test_ok_base_release if {
	count(unmanaged_control_plane.deny) == 0 with input as fixture_ok_base
}
