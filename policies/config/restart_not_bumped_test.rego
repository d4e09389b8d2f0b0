package meshplan.config.restart_not_bumped_test

import data.meshplan.config.restart_not_bumped

cart := {
	"object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "cart"},
	"key": "Deployment/shop/cart",
	"injected": true,
	"restartable": true,
	"revision": "1-26-8",
	"moving": false,
	"step": null,
	"proxy": "1.26.8",
	"proxyConfig": "aaaa",
	"nextRestart": null,
}

facts(w) := {"facts": {
	"workloads": [w],
	"revisions": {"1-26-8": {"name": "1-26-8", "version": "1.26.8", "tags": []}},
	"configHash": {"workloads": "aaaa", "gateways": "bbbb"},
}}

fixture_fires_old_proxy := facts(object.union(cart, {"proxy": "1.24.6"}))

fixture_fires_config_changed := facts(object.union(cart, {"proxyConfig": "cccc"}))

fixture_fires_never_injected := facts(object.union(cart, {"proxy": null, "proxyConfig": null}))

fixture_ok_up_to_date := facts(cart)

fixture_ok_later_step := facts(object.union(cart, {"proxy": "1.24.6", "nextRestart": "wave rest"}))

fixture_ok_not_restartable := facts(object.union(cart, {"proxy": "1.24.6", "restartable": false}))

fixture_ok_not_injected := facts(object.union(cart, {"injected": false, "revision": null, "proxy": "1.24.6"}))

fixture_ok_unknown_config := facts(object.union(cart, {"proxyConfig": null}))

fixture_ok_revision_gone := facts(object.union(cart, {"revision": "1-22-8", "proxy": "1.22.8"}))

test_fires_for_old_proxy if {
	findings := restart_not_bumped.deny with input as fixture_fires_old_proxy
	count(findings) == 1
	some f in findings
	f.object.name == "cart"
	contains(f.msg, "runs Istio 1.24.6 but revision 1-26-8 now injects 1.26.8")
}

test_fires_for_config_change if {
	findings := restart_not_bumped.deny with input as fixture_fires_config_changed
	count(findings) == 1
	some f in findings
	contains(f.msg, "prometheusMerge or compatibilityVersion changed")
}

test_fires_for_never_injected if {
	findings := restart_not_bumped.deny with input as fixture_fires_never_injected
	count(findings) == 1
	some f in findings
	contains(f.msg, "runs no sidecar")
}

test_ok_up_to_date if {
	count(restart_not_bumped.deny) == 0 with input as fixture_ok_up_to_date
}

test_ok_when_a_later_step_restarts_it if {
	count(restart_not_bumped.deny) == 0 with input as fixture_ok_later_step
}

test_ok_not_restartable if {
	count(restart_not_bumped.deny) == 0 with input as fixture_ok_not_restartable
}

test_ok_not_injected if {
	count(restart_not_bumped.deny) == 0 with input as fixture_ok_not_injected
}

test_ok_unknown_config if {
	count(restart_not_bumped.deny) == 0 with input as fixture_ok_unknown_config
}

test_ok_revision_not_installed if {
	count(restart_not_bumped.deny) == 0 with input as fixture_ok_revision_gone
}
