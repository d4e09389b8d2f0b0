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

fixture_sail := {
	"spec": {"istio": {"delivery": "sail"}},
	"facts": {"versions": {
		"target": {"version": "1.30.3", "minor": "1.30", "known": true, "minorKnown": true},
		"installed": [
			{"version": "1.30.3", "minor": "1.30", "known": true, "minorKnown": true},
			{"version": "1.27.9", "minor": "1.27", "known": true, "minorKnown": true, "deliveryUnsupported": "Sail Operator 1.30.3 marks Istio 1.27.9 end of life and no longer installs it (it installs 1.28.0 to 1.30.3)"},
		],
	}},
}

test_fires_on_a_version_the_sail_operator_does_not_install if {
	findings := unknown_version.warn with input as fixture_sail
	count(findings) == 1
	some f in findings
	contains(f.msg, "istio 1.27.9 cannot be installed by delivery sail")
	contains(f.msg, "end of life")
}

test_ok_every_version_installable if {
	installable := {"version": "1.29.6", "minor": "1.29", "known": true, "minorKnown": true}
	ok := object.union(fixture_sail, {"facts": {"versions": {"installed": [installable]}}})
	count(unknown_version.warn) == 0 with input as ok
}
