package meshplan.gateways.gateway_switch_unready_test

import data.meshplan.gateways.gateway_switch_unready

revs := [{"name": "1-24-6", "version": "1.24.6"}, {"name": "1-26-8", "version": "1.26.8"}]

before := {"revisions": revs, "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-24-6"}, "active": "blue"}}}

fixture_fires_missing_colour := {"step": {"name": "gateway", "before": before, "after": {"revisions": revs, "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-24-6"}, "active": "green"}}}}}

fixture_fires_revision_gone := {"step": {"name": "gateway", "before": before, "after": {"revisions": [{"name": "1-24-6", "version": "1.24.6"}], "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-24-6", "green": "1-26-8"}, "active": "green"}}}}}

fixture_ok_switch := {"step": {"name": "gateway", "before": before, "after": {"revisions": revs, "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-24-6", "green": "1-26-8"}, "active": "green"}}}}}

test_fires_missing_colour if {
	findings := gateway_switch_unready.deny with input as fixture_fires_missing_colour
	count(findings) == 1
	some f in findings
	contains(f.msg, "does not exist")
}

test_fires_revision_not_installed if {
	count(gateway_switch_unready.deny) == 1 with input as fixture_fires_revision_gone
}

test_ok_switch_to_ready_colour if {
	count(gateway_switch_unready.deny) == 0 with input as fixture_ok_switch
}
