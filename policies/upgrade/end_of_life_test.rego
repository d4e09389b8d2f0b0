package meshplan.upgrade.end_of_life_test

import data.meshplan.upgrade.end_of_life

old := {"version": "1.22.8", "minor": "1.22", "eolDate": "2025-04-16", "endOfLife": true}

new := {"version": "1.24.3", "minor": "1.24", "eolDate": "2025-06-19", "endOfLife": false}

running_old := {"revisions": [{"name": "1-22-8", "version": "1.22.8"}]}

fixture_fires := {"state": running_old, "facts": {"versions": {"today": "2025-05-01", "target": new, "installed": [old, new]}}}

fixture_ok := {"facts": {"versions": {"today": "2025-05-01", "target": new, "installed": [new]}}}

test_fires_on_installed_eol if {
	findings := end_of_life.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.msg == "istio 1.22.8 reached end of life on 2025-04-16"
}

# An end-of-life intermediate hop, or a version a done cleanup removed, is not running.
test_ignores_hops_and_removed_versions if {
	hop := {"version": "1.23.6", "minor": "1.23", "eolDate": "2025-04-01", "endOfLife": true}
	state := {"revisions": [{"name": "1-24-3", "version": "1.24.3"}]}
	count(end_of_life.warn) == 0 with input as {"state": state, "facts": {"versions": {"target": new, "installed": [old, hop, new]}}}
}

test_one_finding_per_running_version if {
	hop := {"version": "1.23.6", "minor": "1.23", "eolDate": "2025-04-01", "endOfLife": true}
	findings := end_of_life.warn with input as {"state": running_old, "facts": {"versions": {"target": new, "installed": [old, hop, new]}}}
	count(findings) == 1
}

test_fires_on_target_once if {
	findings := end_of_life.warn with input as {"facts": {"versions": {"target": old, "installed": [old]}}}
	count(findings) == 1
}

test_ok_supported if {
	count(end_of_life.warn) == 0 with input as fixture_ok
}

test_fires_without_eol_date if {
	findings := end_of_life.warn with input as {"facts": {"versions": {"target": object.union(old, {"eolDate": null}), "installed": []}}}
	some f in findings
	f.msg == "istio 1.22.8 reached end of life on an unknown date"
}
