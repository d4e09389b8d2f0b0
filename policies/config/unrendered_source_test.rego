package meshplan.config.unrendered_source_test

import data.meshplan.config.unrendered_source

release := {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "namespace": "podinfo", "name": "podinfo"}

fixture_fires := {"facts": {"unrendered": [{
	"object": release,
	"reason": "its chart podinfo comes from HelmRepository podinfo/podinfo, which meshplan cannot fetch offline: its workloads are not judged",
}]}}

fixture_ok := {"facts": {"unrendered": []}}

fixture_ok_without_builds := {"facts": {}}

test_fires_on_the_object_naming_the_source if {
	findings := unrendered_source.info with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object == release
	startswith(f.msg, "not rendered offline: its chart podinfo comes from HelmRepository")
	contains(f.msg, "its workloads are not judged")
}

test_ok_when_everything_renders if {
	count(unrendered_source.info) == 0 with input as fixture_ok
}

test_ok_without_built_entries if {
	count(unrendered_source.info) == 0 with input as fixture_ok_without_builds
}
