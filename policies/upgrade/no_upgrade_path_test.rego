package meshplan.upgrade.no_upgrade_path_test

import data.meshplan.upgrade.no_upgrade_path

fixture_fires_major := {"plan": {"from": "1.22.8", "to": "2.0.1", "hops": ["1.22.8", "2.0.1"], "steps": [], "problems": [{"rule": "MP108", "kind": "major-change", "message": "no upgrade path from 1.22.8 to 2.0.1: Istio upgrades within one major version only"}]}}

fixture_fires_missing_minor := {"plan": {"from": "1.24.6", "to": "1.26.8", "hops": ["1.24.6", "1.26.8"], "steps": [], "problems": [{"rule": "MP108", "kind": "missing-minor", "message": "the release catalogue has no release of 1.25, needed as an intermediate hop from 1.24.6 to 1.26.8; pass a newer --catalog"}]}}

fixture_fires_refused := {"plan": {"from": "1.19.9", "to": "1.22.8", "hops": ["1.19.9", "1.20.8", "1.21.6", "1.22.8"], "steps": []}, "rendered": {"refused": [{"step": "1.21.6: install", "message": "step \"1.21.6: install\" cannot be rendered: revision tags (default) on Istio 1.21.6"}]}}

fixture_ok_path := {"plan": {"from": "1.24.6", "to": "1.26.8", "hops": ["1.24.6", "1.26.8"], "steps": [{"name": "install"}]}, "rendered": {"refused": []}}

fixture_ok_no_render := {"plan": {"from": "1.24.6", "to": "1.26.8", "hops": ["1.24.6", "1.26.8"], "steps": [{"name": "install"}]}, "rendered": null}

fixture_ok_other_problem := {"plan": {"from": "1.26.8", "to": "1.24.6", "hops": [], "steps": [], "problems": [{"rule": "MP102", "kind": "downgrade", "message": "1.24.6 is older than the installed 1.26.8: a downgrade"}]}}

test_fires_on_major_change if {
	findings := no_upgrade_path.deny with input as fixture_fires_major
	count(findings) == 1
	some f in findings
	contains(f.msg, "2.0.1")
}

test_fires_on_missing_minor if {
	findings := no_upgrade_path.deny with input as fixture_fires_missing_minor
	count(findings) == 1
	some f in findings
	contains(f.msg, "1.25")
}

test_ok_path if {
	count(no_upgrade_path.deny) == 0 with input as fixture_ok_path
}

test_ok_other_problem if {
	count(no_upgrade_path.deny) == 0 with input as fixture_ok_other_problem
}

test_fires_on_a_step_render_refuses if {
	findings := no_upgrade_path.deny with input as fixture_fires_refused
	count(findings) == 1
	some f in findings
	contains(f.msg, "revision tags (default) on Istio 1.21.6")
}

test_ok_without_a_render if {
	count(no_upgrade_path.deny) == 0 with input as fixture_ok_no_render
}
