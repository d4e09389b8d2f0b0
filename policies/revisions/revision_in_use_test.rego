package meshplan.revisions.revision_in_use_test

import data.meshplan.revisions.revision_in_use

old := {"name": "1-24-6", "version": "1.24.6"}

new := {"name": "1-26-8", "version": "1.26.8"}

before := {"revisions": [old, new], "tags": {}, "namespaces": {"shop": "1-26-8"}, "gateways": {}}

fixture_fires_namespace := {"step": {"name": "cleanup", "before": before, "after": {"revisions": [new], "tags": {}, "namespaces": {"shop": "1-26-8", "legacy": "1-24-6"}, "gateways": {}}}}

fixture_fires_tag := {"step": {"name": "cleanup", "before": before, "after": {"revisions": [new], "tags": {"stable": "1-24-6"}, "namespaces": {"shop": "stable"}, "gateways": {}}}}

fixture_fires_gateway := {"step": {"name": "cleanup", "before": before, "after": {"revisions": [new], "tags": {}, "namespaces": {}, "gateways": {"istio-ingress/ingress": {"colours": {"blue": "1-24-6", "green": "1-26-8"}, "active": "green"}}}}}

fixture_ok_clean := {"step": {"name": "cleanup", "before": before, "after": {"revisions": [new], "tags": {"stable": "1-26-8"}, "namespaces": {"shop": "stable"}, "gateways": {"istio-ingress/ingress": {"colours": {"green": "1-26-8"}, "active": "green"}}}}}

fixture_ok_nothing_removed := {"step": {"name": "wave main", "before": before, "after": before}}

test_fires_namespace if {
	findings := revision_in_use.deny with input as fixture_fires_namespace
	count(findings) == 1
	some f in findings
	contains(f.msg, "namespace legacy")
}

test_fires_tag_and_its_namespace if {
	findings := revision_in_use.deny with input as fixture_fires_tag
	count(findings) == 2
}

test_fires_gateway if {
	findings := revision_in_use.deny with input as fixture_fires_gateway
	count(findings) == 1
	some f in findings
	contains(f.msg, "blue colour")
}

test_ok_clean if {
	count(revision_in_use.deny) == 0 with input as fixture_ok_clean
}

test_ok_nothing_removed if {
	count(revision_in_use.deny) == 0 with input as fixture_ok_nothing_removed
}
