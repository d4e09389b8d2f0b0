package meshplan.upgrade.data_plane_skew_test

import data.meshplan.upgrade.data_plane_skew

revs := [{"name": "1-24-6", "version": "1.24.6"}, {"name": "1-26-8", "version": "1.26.8"}]

after(ns_label, proxy) := {"revisions": revs, "tags": {"stable": "1-26-8"}, "namespaces": {"shop": ns_label}, "workloads": {"Deployment/shop/cart": {"kind": "Deployment", "namespace": "shop", "name": "cart", "generation": 1, "proxy": proxy}}}

fixture_fires_ahead := {"step": {"name": "wave main", "before": {}, "after": {"revisions": [{"name": "1-22-8", "version": "1.22.8"}, {"name": "1-26-8", "version": "1.26.8"}], "tags": {}, "namespaces": {"shop": "1-26-8"}, "workloads": {"Deployment/shop/cart": {"kind": "Deployment", "namespace": "shop", "name": "cart", "generation": 1, "proxy": "1.22.8"}}}}}

fixture_fires_behind := {"step": {"name": "wave main", "before": {}, "after": after("1-24-6", "1.26.8")}}

fixture_ok_one_minor := {"step": {"name": "wave main", "before": {}, "after": after("1-26-8", "1.25.5")}}

fixture_ok_through_tag := {"step": {"name": "wave main", "before": {}, "after": after("stable", "1.26.8")}}

test_fires_when_control_plane_far_ahead if {
	findings := data_plane_skew.deny with input as fixture_fires_ahead
	count(findings) == 1
	some f in findings
	contains(f.msg, "more than one minor ahead")
}

test_fires_when_control_plane_behind if {
	findings := data_plane_skew.deny with input as fixture_fires_behind
	count(findings) == 1
	some f in findings
	contains(f.msg, "older")
}

test_ok_one_minor if {
	count(data_plane_skew.deny) == 0 with input as fixture_ok_one_minor
}

test_ok_through_tag if {
	count(data_plane_skew.deny) == 0 with input as fixture_ok_through_tag
}

test_names_the_workload_object_when_the_manifests_define_it if {
	cart := {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"}
	input_with_objects := object.union(fixture_fires_ahead, {"step": {"objects": {"Deployment/shop/cart": cart}}})
	findings := data_plane_skew.deny with input as input_with_objects
	count(findings) == 1
	some f in findings
	f.object == cart
	f.step == "wave main"
}

cart_ref := {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"}

committed(proxy, revision, served) := {"step": {"name": "wave main", "before": {}, "after": {"revisions": revs, "tags": {}, "namespaces": {"shop": "1-26-8"}, "workloads": {}}, "committed": [{"key": "Deployment/shop/cart", "object": cart_ref, "proxy": proxy, "revision": revision, "served": served}]}}

test_a_committed_sidecar_is_judged_against_the_revision_it_talks_to if {
	# Its namespace moved to 1.26.8, but it still talks to the 1.24.6 istiod.
	count(data_plane_skew.deny) == 0 with input as committed("1.24.6", "default", "1.24.6")
	findings := data_plane_skew.deny with input as committed("1.22.8", "default", "1.24.6")
	count(findings) == 1
	some f in findings
	f.object == cart_ref
	contains(f.msg, "committed 1.22.8 sidecar of Deployment/shop/cart talks to revision default (1.24.6)")
	contains(f.hint, "kube-inject")
}

test_a_committed_sidecar_ahead_of_its_control_plane_is_denied if {
	findings := data_plane_skew.deny with input as committed("1.26.8", "default", "1.24.6")
	count(findings) == 1
	some f in findings
	contains(f.msg, "older 1.24.6")
}

test_a_committed_sidecar_without_a_control_plane_or_version_is_not_a_skew if {
	count(data_plane_skew.deny) == 0 with input as committed("1.22.8", "default", null)
	count(data_plane_skew.deny) == 0 with input as committed(null, "default", "1.26.8")
}
