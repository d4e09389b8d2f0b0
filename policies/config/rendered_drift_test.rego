package meshplan.config.rendered_drift_test

import data.meshplan.config.rendered_drift

fixture_fires := {"rendered": {"drift": [
	{"file": "rendered/istio-system/istiod-1-26-8.yaml", "kind": "modified"},
	{"file": "rendered/notes.txt", "kind": "extra"},
	{"file": "rendered/kustomization.yaml", "kind": "missing"},
]}}

fixture_fires_no_lock := {"rendered": {"drift": [{"file": "rendered/meshplan.lock", "kind": "no-lock"}]}}

fixture_ok := {"rendered": {"drift": []}}

fixture_ok_no_lock := {"rendered": null}

test_fires_for_each_drifted_file if {
	findings := rendered_drift.deny with input as fixture_fires
	count(findings) == 3
	some f in findings
	f.msg == "rendered/istio-system/istiod-1-26-8.yaml differs from what meshplan rendered there (edited by hand?)"
	f.hint == "re-run meshplan render or revert the edit"
}

test_ok_when_nothing_drifted if {
	count(rendered_drift.deny) == 0 with input as fixture_ok
}

test_ok_without_a_render if {
	count(rendered_drift.deny) == 0 with input as fixture_ok_no_lock
}

test_fires_once_when_the_lock_is_gone if {
	findings := rendered_drift.deny with input as fixture_fires_no_lock
	count(findings) == 1
	some f in findings
	startswith(f.msg, "rendered/meshplan.lock is missing but files meshplan renders remain")
}
