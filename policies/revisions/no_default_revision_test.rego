package meshplan.revisions.no_default_revision_test

import data.meshplan.revisions.no_default_revision

namespaces := [
	{"name": "legacy", "injectionLabel": "enabled"},
	{"name": "shop", "injectionLabel": null, "revLabel": "1-24-3"},
	{"name": "off", "injectionLabel": "disabled"},
]

fixture_fires := {"facts": {"defaultRevision": null, "namespaces": namespaces}}

fixture_ok := {"facts": {"defaultRevision": "1-24-3", "namespaces": namespaces}}

test_fires_on_enabled_namespace if {
	findings := no_default_revision.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object.name == "legacy"
}

test_ok_with_default if {
	count(no_default_revision.deny) == 0 with input as fixture_ok
}
