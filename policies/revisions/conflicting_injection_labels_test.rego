package meshplan.revisions.conflicting_injection_labels_test

import data.meshplan.revisions.conflicting_injection_labels

fixture_fires := {"facts": {"namespaces": [{"name": "shop", "injectionLabel": "enabled", "revLabel": "1-24-3"}]}}

fixture_ok := {"facts": {"namespaces": [
	{"name": "shop", "injectionLabel": null, "revLabel": "1-24-3"},
	{"name": "legacy", "injectionLabel": "enabled", "revLabel": null},
]}}

test_fires_on_both_labels if {
	findings := conflicting_injection_labels.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object == {"apiVersion": "v1", "kind": "Namespace", "namespace": "", "name": "shop"}
}

test_ok_one_label if {
	count(conflicting_injection_labels.warn) == 0 with input as fixture_ok
}
