package meshplan.config.waiver_expired_test

import data.meshplan.config.waiver_expired

waiver := {"rule": "MP301", "object": "Deployment/bookinfo/details", "reason": "single replica", "expires": "2025-01-31"}

fixture_fires := {"spec": {"exceptions": [waiver]}, "facts": {"versions": {"today": "2025-02-01"}}}

fixture_ok_last_day := {"spec": {"exceptions": [waiver]}, "facts": {"versions": {"today": "2025-01-31"}}}

test_fires_after_expiry if {
	findings := waiver_expired.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.msg == "the waiver of MP301 for Deployment/bookinfo/details expired on 2025-01-31"
}

test_ok_on_last_day if {
	count(waiver_expired.warn) == 0 with input as fixture_ok_last_day
}
