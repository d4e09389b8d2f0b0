package meshplan.workloads.custom_proxy_image_test

import data.meshplan.workloads.custom_proxy_image

legacy := {
	"object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "legacy"},
	"injected": true,
	"moving": true,
	"step": "wave rest",
	"customProxyImage": "docker.io/istio/proxyv2:1.20.0",
}

fixture_fires := {"facts": {"workloads": [legacy]}}

fixture_ok_default_image := {"facts": {"workloads": [object.union(legacy, {"customProxyImage": null})]}}

fixture_ok_not_moving := {"facts": {"workloads": [object.union(legacy, {"moving": false})]}}

test_fires_on_pinned_image if {
	findings := custom_proxy_image.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "proxyv2:1.20.0")
}

test_ok_default_image if {
	count(custom_proxy_image.warn) == 0 with input as fixture_ok_default_image
}

test_ok_not_moving if {
	count(custom_proxy_image.warn) == 0 with input as fixture_ok_not_moving
}
