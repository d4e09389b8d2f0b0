package meshplan.gateways.gateway_in_place_test

import data.meshplan.gateways.gateway_in_place

revs := [{"name": "1-25-5", "version": "1.25.5"}, {"name": "1-26-8", "version": "1.26.8"}]

fixture_fires := {"step": {"name": "gateway", "before": {"revisions": revs, "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-25-5"}, "active": "blue"}}}, "after": {"revisions": revs, "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-26-8"}, "active": "blue"}}}}}

fixture_ok_blue_green := {"step": {"name": "install", "before": {"revisions": revs, "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-25-5"}, "active": "blue"}}}, "after": {"revisions": revs, "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-25-5", "green": "1-26-8"}, "active": "blue"}}}}}

test_fires_on_in_place_minor if {
	findings := gateway_in_place.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "1.25.5 to 1.26.8")
}

test_ok_blue_green if {
	count(gateway_in_place.warn) == 0 with input as fixture_ok_blue_green
}
