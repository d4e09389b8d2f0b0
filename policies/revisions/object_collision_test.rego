package meshplan.revisions.object_collision_test

import data.meshplan.revisions.object_collision

base := {
	"object": {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "namespace": "istio-system", "name": "istio-base"},
	"key": "HelmRelease/istio-system/istio-base",
	"rendered": "rendered/istio-system/istio-base.yaml",
}

fixture_fires := {"rendered": {"collisions": [base]}}

fixture_ok_none := {"rendered": {"collisions": []}}

fixture_ok_not_rendered := {"facts": {}}

test_fires_on_collision if {
	findings := object_collision.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "HelmRelease/istio-system/istio-base")
	contains(f.msg, "rendered/istio-system/istio-base.yaml")
	f.object.name == "istio-base"
}

test_ok_no_collision if {
	count(object_collision.deny) == 0 with input as fixture_ok_none
}

test_ok_without_render if {
	count(object_collision.deny) == 0 with input as fixture_ok_not_rendered
}

fixture_ok_rendered_null := {"rendered": null}

test_ok_rendered_null if {
	count(object_collision.deny) == 0 with input as fixture_ok_rendered_null
}
