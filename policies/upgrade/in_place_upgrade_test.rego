package meshplan.upgrade.in_place_upgrade_test

import data.meshplan.upgrade.in_place_upgrade

fixture_fires := {"step": {"name": "upgrade", "before": {"revisions": [{"name": "default", "version": "1.25.5"}]}, "after": {"revisions": [{"name": "default", "version": "1.26.8"}]}}}

fixture_ok_patch := {"step": {"name": "upgrade", "before": {"revisions": [{"name": "default", "version": "1.26.7"}]}, "after": {"revisions": [{"name": "default", "version": "1.26.8"}]}}}

fixture_ok_canary := {"step": {"name": "install", "before": {"revisions": [{"name": "1-25-5", "version": "1.25.5"}]}, "after": {"revisions": [{"name": "1-25-5", "version": "1.25.5"}, {"name": "1-26-8", "version": "1.26.8"}]}}}

test_fires_on_minor_in_place if {
	findings := in_place_upgrade.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.step == "upgrade"
}

test_ok_patch if {
	count(in_place_upgrade.warn) == 0 with input as fixture_ok_patch
}

test_ok_canary if {
	count(in_place_upgrade.warn) == 0 with input as fixture_ok_canary
}
