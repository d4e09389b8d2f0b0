package meshplan.upgrade.skipped_minor_test

import data.meshplan.upgrade.skipped_minor

rev(v) := {"name": replace(v, ".", "-"), "version": v}

canary := {"upgrade": {"strategy": "revision", "maxMinorSkip": 2}}

fixture_fires_canary := {"spec": canary, "step": {"name": "install", "before": {"revisions": [rev("1.22.8")], "workloads": {}}, "after": {"revisions": [rev("1.22.8"), rev("1.26.8")], "workloads": {}}}}

fixture_fires_in_place := {"spec": {"upgrade": {"strategy": "in-place", "maxMinorSkip": 1}}, "step": {"name": "upgrade", "before": {"revisions": [{"name": "default", "version": "1.24.6"}], "workloads": {}}, "after": {"revisions": [{"name": "default", "version": "1.26.8"}], "workloads": {}}}}

fixture_fires_proxy := {"spec": canary, "step": {"name": "wave main", "before": {"revisions": [rev("1.26.8")], "workloads": {"Deployment/shop/cart": {"generation": 1, "proxy": "1.22.8"}}}, "after": {"revisions": [rev("1.26.8")], "workloads": {"Deployment/shop/cart": {"generation": 2, "proxy": "1.26.8"}}}}}

fixture_ok_two_minors := {"spec": canary, "step": {"name": "install", "before": {"revisions": [rev("1.22.8")], "workloads": {}}, "after": {"revisions": [rev("1.22.8"), rev("1.24.6")], "workloads": {}}}}

fixture_ok_new_cluster := {"spec": canary, "step": {"name": "install", "before": {"revisions": [], "workloads": {}}, "after": {"revisions": [rev("1.26.8")], "workloads": {}}}}

test_fires_canary_four_minors if {
	findings := skipped_minor.deny with input as fixture_fires_canary
	count(findings) == 1
	some f in findings
	contains(f.msg, "4 minors")
}

test_fires_in_place_two_minors if {
	count(skipped_minor.deny) == 1 with input as fixture_fires_in_place
}

test_fires_proxy_jump if {
	findings := skipped_minor.deny with input as fixture_fires_proxy
	count(findings) == 1
	some f in findings
	contains(f.msg, "Deployment/shop/cart")
}

test_ok_two_minors_with_revisions if {
	count(skipped_minor.deny) == 0 with input as fixture_ok_two_minors
}

test_ok_new_cluster if {
	count(skipped_minor.deny) == 0 with input as fixture_ok_new_cluster
}
