package meshplan.revisions.too_many_revisions_test

import data.meshplan.revisions.too_many_revisions

three := [{"name": "1-22-8", "version": "1.22.8"}, {"name": "1-24-6", "version": "1.24.6"}, {"name": "1-26-8", "version": "1.26.8"}]

fixture_fires := {"spec": {"upgrade": {"maxRevisions": 2}}, "step": {"name": "install", "before": {"revisions": []}, "after": {"revisions": three}}}

fixture_ok_two := {"spec": {"upgrade": {"maxRevisions": 2}}, "step": {"name": "install", "before": {"revisions": []}, "after": {"revisions": array.slice(three, 0, 2)}}}

fixture_ok_raised := {"spec": {"upgrade": {"maxRevisions": 3}}, "step": {"name": "install", "before": {"revisions": []}, "after": {"revisions": three}}}

test_fires_on_three if {
	findings := too_many_revisions.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "1-22-8, 1-24-6, 1-26-8")
	f.step == "install"
}

test_ok_two if {
	count(too_many_revisions.warn) == 0 with input as fixture_ok_two
}

test_ok_raised if {
	count(too_many_revisions.warn) == 0 with input as fixture_ok_raised
}
