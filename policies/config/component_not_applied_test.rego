package meshplan.config.component_not_applied_test

import data.meshplan.config.component_not_applied

web := {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "team-b", "name": "web"}

workload := {"object": web, "key": "Deployment/team-b/web", "moving": true, "step": "wave b"}

plan := {"steps": [{"name": "wave b", "restarts": ["Deployment/team-b/web"]}]}

wiring(entry, checked) := {
	"checked": checked,
	"component": "rendered/restarts",
	"workloads": {"Deployment/team-b/web": entry},
}

fixture_fires_unwired := {"plan": plan, "facts": {
	"workloads": [workload],
	"wiring": wiring({"build": "Flux Kustomization flux-system/apps", "included": false}, true),
}}

fixture_fires_unbuilt := {"plan": plan, "facts": {
	"workloads": [workload],
	"wiring": wiring({"build": null, "included": false}, true),
}}

fixture_ok_wired := {"plan": plan, "facts": {
	"workloads": [workload],
	"wiring": wiring({"build": "kustomize apps/prod", "included": true}, true),
}}

fixture_ok_only_globs := {"plan": plan, "facts": {
	"workloads": [workload],
	"wiring": wiring({"build": null, "included": false}, false),
}}

fixture_ok_not_moving := {"plan": plan, "facts": {
	"workloads": [object.union(workload, {"moving": false})],
	"wiring": wiring({"build": null, "included": false}, true),
}}

test_fires_when_the_build_lacks_the_component if {
	findings := component_not_applied.deny with input as fixture_fires_unwired
	count(findings) == 1
	some f in findings
	f.object == web
	f.step == "wave b"
	f.msg == "its build (Flux Kustomization flux-system/apps) does not include rendered/restarts: the restart bump never reaches this workload"
}

test_fires_when_no_kustomization_builds_it if {
	some f in component_not_applied.deny with input as fixture_fires_unbuilt
	startswith(f.msg, "no kustomization meshplan sees builds this workload")
}

test_ok_when_wired if {
	count(component_not_applied.deny) == 0 with input as fixture_ok_wired
}

test_ok_when_only_globs if {
	count(component_not_applied.deny) == 0 with input as fixture_ok_only_globs
}

test_ok_when_nothing_restarts if {
	count(component_not_applied.deny) == 0 with input as fixture_ok_not_moving
}
