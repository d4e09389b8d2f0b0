package meshplan.revisions.revision_in_use_test

import data.meshplan.revisions.revision_in_use

old := {"name": "1-24-6", "version": "1.24.6"}

new := {"name": "1-26-8", "version": "1.26.8"}

before := {"revisions": [old, new], "tags": {}, "namespaces": {"shop": "1-26-8"}, "gateways": {}}

fixture_fires_namespace := {"step": {"name": "cleanup", "before": before, "after": {"revisions": [new], "tags": {}, "namespaces": {"shop": "1-26-8", "legacy": "1-24-6"}, "gateways": {}}}}

fixture_fires_tag := {"step": {"name": "cleanup", "before": before, "after": {"revisions": [new], "tags": {"stable": "1-24-6"}, "namespaces": {"shop": "stable"}, "gateways": {}}}}

fixture_fires_gateway := {"step": {"name": "cleanup", "before": before, "after": {"revisions": [new], "tags": {}, "namespaces": {}, "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-24-6", "green": "1-26-8"}, "active": "green"}}}}}

fixture_ok_clean := {"step": {"name": "cleanup", "before": before, "after": {"revisions": [new], "tags": {"stable": "1-26-8"}, "namespaces": {"shop": "stable"}, "gateways": {"istio-ingress/ingress": {"colours": {"green": "1-26-8"}, "active": "green"}}}}}

pinned := {"key": "Deployment/legacy/cron", "object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "legacy", "name": "cron"}, "revision": "1-24-6"}

fixture_fires_workload := {"step": {"name": "cleanup", "stranded": [pinned], "before": before, "after": {"revisions": [new], "tags": {}, "namespaces": {"shop": "1-26-8"}, "gateways": {}}}}

# A stranded entry for a revision the step keeps (a hand-built input) is not a removal.
fixture_ok_workload_revision_kept := {"step": {"name": "wave main", "stranded": [pinned], "before": before, "after": before}}

waypoint := {"key": "Gateway/bookinfo/reviews", "object": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "namespace": "bookinfo", "name": "reviews"}, "uses": "1-24-6"}

fixture_fires_waypoint := {"step": {"name": "cleanup", "waypoints": [waypoint], "before": before, "after": {"revisions": [new], "tags": {}, "namespaces": {"shop": "1-26-8"}, "gateways": {}}}}

fixture_ok_waypoint_moved := {"step": {"name": "cleanup", "waypoints": [object.union(waypoint, {"uses": "1-26-8"})], "before": before, "after": {"revisions": [new], "tags": {}, "namespaces": {"shop": "1-26-8"}, "gateways": {}}}}

test_fires_waypoint if {
	findings := revision_in_use.deny with input as fixture_fires_waypoint
	count(findings) == 1
	some f in findings
	f.object.kind == "Gateway"
	contains(f.msg, "waypoint Gateway/bookinfo/reviews still uses it")
}

test_ok_waypoint_moved if {
	count(revision_in_use.deny) == 0 with input as fixture_ok_waypoint_moved
}

fixture_ok_nothing_removed := {"step": {"name": "wave main", "before": before, "after": before}}

test_fires_namespace if {
	findings := revision_in_use.deny with input as fixture_fires_namespace
	count(findings) == 1
	some f in findings
	contains(f.msg, "namespace legacy")
}

test_fires_tag_and_its_namespace if {
	findings := revision_in_use.deny with input as fixture_fires_tag
	count(findings) == 2
}

test_fires_gateway if {
	findings := revision_in_use.deny with input as fixture_fires_gateway
	count(findings) == 1
	some f in findings
	contains(f.msg, "blue colour")
}

test_fires_workload_with_its_object if {
	findings := revision_in_use.deny with input as fixture_fires_workload
	count(findings) == 1
	some f in findings
	f.object.name == "cron"
	f.step == "cleanup"
	contains(f.msg, "still injects Deployment/legacy/cron")
}

test_ok_workload_revision_kept if {
	count(revision_in_use.deny) == 0 with input as fixture_ok_workload_revision_kept
}

test_ok_clean if {
	count(revision_in_use.deny) == 0 with input as fixture_ok_clean
}

test_ok_nothing_removed if {
	count(revision_in_use.deny) == 0 with input as fixture_ok_nothing_removed
}

committed_cart(revision) := {"key": "Deployment/shop/cart", "object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"}, "proxy": "1.24.6", "revision": revision, "served": null}

test_fires_on_a_committed_sidecar_still_talking_to_the_removed_revision if {
	fixture := {"step": {"name": "cleanup", "committed": [committed_cart("1-24-6")], "before": before, "after": {"revisions": [new], "tags": {}, "namespaces": {"shop": "1-26-8"}, "gateways": {}}}}
	findings := revision_in_use.deny with input as fixture
	count(findings) == 1
	some f in findings
	f.object.name == "cart"
	contains(f.msg, "committed sidecar of Deployment/shop/cart still talks to it")
	contains(f.hint, "istioctl kube-inject --revision 1-26-8")
}

test_a_re_injected_committed_sidecar_lets_the_cleanup_pass if {
	fixture := {"step": {"name": "cleanup", "committed": [committed_cart("1-26-8")], "before": before, "after": {"revisions": [new], "tags": {}, "namespaces": {"shop": "1-26-8"}, "gateways": {}}}}
	count(revision_in_use.deny) == 0 with input as fixture
}
