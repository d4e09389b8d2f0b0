package meshplan.upgrade.unknown_version_test

import data.meshplan.upgrade.unknown_version

fixture_fires := {"facts": {"versions": {"target": {"version": "1.24.99", "minor": "1.24", "known": false, "minorKnown": true}}}}

fixture_ok := {"facts": {"versions": {"target": {"version": "1.24.3", "minor": "1.24", "known": true, "minorKnown": true}}}}

test_fires_on_unknown if {
	findings := unknown_version.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "1.24.99")
}

test_ok_known if {
	count(unknown_version.warn) == 0 with input as fixture_ok
}
