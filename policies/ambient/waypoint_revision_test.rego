package meshplan.ambient.waypoint_revision_test

import data.meshplan.ambient.waypoint_revision

old := {"name": "1-24-6", "version": "1.24.6"}

new := {"name": "1-26-8", "version": "1.26.8"}

waypoint(uses) := {"key": "Gateway/bookinfo/reviews", "object": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "namespace": "bookinfo", "name": "reviews"}, "uses": uses}

after := {"revisions": [new], "tags": {"default": "1-26-8", "stable": "1-26-8", "rapid": "1-24-6"}, "namespaces": {}, "gateways": {}}

step(w) := {"step": {"name": "1.26.8: cleanup", "waypoints": [w], "before": after, "after": after}}

fixture_fires_unknown_tag := step(waypoint("canary"))

fixture_fires_removed_revision := step(waypoint("1-24-6"))

fixture_fires_tag_of_removed_revision := step(waypoint("rapid"))

fixture_fires_no_default := {"step": {"name": "1.26.8: install", "waypoints": [waypoint("default")], "before": after, "after": {"revisions": [new], "tags": {}, "namespaces": {}, "gateways": {}}}}

fixture_ok_revision := step(waypoint("1-26-8"))

fixture_ok_tag := step(waypoint("stable"))

fixture_ok_default := step(waypoint("default"))

fixture_ok_no_waypoints := {"step": {"name": "1.26.8: cleanup", "before": after, "after": after}}

test_fires_unknown_tag if {
	findings := waypoint_revision.deny with input as fixture_fires_unknown_tag
	count(findings) == 1
	some f in findings
	f.object.name == "reviews"
	f.step == "1.26.8: cleanup"
	contains(f.msg, "uses revision or tag canary")
}

test_fires_removed_revision if {
	count(waypoint_revision.deny) == 1 with input as fixture_fires_removed_revision
}

test_fires_tag_of_removed_revision if {
	findings := waypoint_revision.deny with input as fixture_fires_tag_of_removed_revision
	count(findings) == 1
	some f in findings
	contains(f.msg, "uses tag rapid, whose revision 1-24-6 is not installed")
}

test_fires_no_default if {
	count(waypoint_revision.deny) == 1 with input as fixture_fires_no_default
}

test_ok_revision if {
	count(waypoint_revision.deny) == 0 with input as fixture_ok_revision
}

test_ok_tag if {
	count(waypoint_revision.deny) == 0 with input as fixture_ok_tag
}

test_ok_default if {
	count(waypoint_revision.deny) == 0 with input as fixture_ok_default
}

test_ok_no_waypoints if {
	count(waypoint_revision.deny) == 0 with input as fixture_ok_no_waypoints
}
