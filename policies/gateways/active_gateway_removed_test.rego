package meshplan.gateways.active_gateway_removed_test

import data.meshplan.gateways.active_gateway_removed

before := {"gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-24-6", "green": "1-26-8"}, "active": "blue"}}}

fixture_fires := {"step": {"name": "cleanup", "before": before, "after": {"gateways": {"istio-ingress/ingress": {"colours": {"green": "1-26-8"}, "active": "blue"}}}}}

fixture_ok_switched_first := {"step": {"name": "cleanup", "before": {"gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-24-6", "green": "1-26-8"}, "active": "green"}}}, "after": {"gateways": {"istio-ingress/ingress": {"colours": {"green": "1-26-8"}, "active": "green"}}}}}

test_fires_when_active_colour_removed if {
	findings := active_gateway_removed.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.step == "cleanup"
}

test_ok_switched_first if {
	count(active_gateway_removed.deny) == 0 with input as fixture_ok_switched_first
}
