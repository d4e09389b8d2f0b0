package meshplan.config.component_not_applied_test

import data.meshplan.config.component_not_applied

web := {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "team-b", "name": "web"}

workload := {"object": web, "key": "Deployment/team-b/web", "moving": true, "step": "wave b"}

plan := {"steps": [{"name": "wave b", "restarts": ["Deployment/team-b/web"]}]}

wiring(entry, checked) := {
	"checked": checked,
	"component": "rendered/restarts",
	"namespacesComponent": "rendered/namespaces",
	"workloads": {"Deployment/team-b/web": entry},
	"namespaces": {},
	"relabelled": {},
}

# ns_wiring: the user's Namespace team-b, relabelled by wave b; no workload restarts.
ns_wiring(entry, checked) := object.union(wiring({"build": null, "included": false}, checked), {
	"namespaces": {"team-b": entry, "team-c": {"build": null, "included": false}},
	"relabelled": {"team-b": "wave b", "istio-system": "install"},
})

still := object.union(workload, {"moving": false})

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

fixture_fires_only_globs := {"plan": plan, "facts": {
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

test_fires_one_info_when_only_globs if {
	count(component_not_applied.deny) == 0 with input as fixture_fires_only_globs
	findings := component_not_applied.info with input as fixture_fires_only_globs
	count(findings) == 1
	some f in findings
	not f.object
	startswith(f.msg, "spec.manifests has no kustomize, flux or argocd entry")
	contains(f.hint, "rendered/restarts and rendered/namespaces")
}

test_one_info_whatever_the_number_of_changes if {
	two := {"plan": {"steps": [{"name": "wave b", "restarts": ["Deployment/team-b/web", "Deployment/team-b/api"]}]}, "facts": {
		"workloads": [workload, object.union(workload, {"key": "Deployment/team-b/api", "object": object.union(web, {"name": "api"})})],
		"wiring": ns_wiring({"build": null, "included": false}, false),
	}}
	count(component_not_applied.info) == 1 with input as two
}

test_ok_no_info_when_only_globs_change_nothing if {
	quiet := {"plan": plan, "facts": {"workloads": [still], "wiring": wiring({"build": null, "included": false}, false)}}
	count(component_not_applied.info) == 0 with input as quiet
}

fixture_fires_namespace_unwired := {"plan": plan, "facts": {
	"workloads": [still],
	"wiring": ns_wiring({"build": "Flux Kustomization flux-system/apps", "included": false}, true),
}}

fixture_ok_namespace_wired := {"plan": plan, "facts": {
	"workloads": [still],
	"wiring": ns_wiring({"build": "Flux Kustomization flux-system/apps", "included": true}, true),
}}

test_fires_when_a_relabelled_namespace_build_lacks_the_component if {
	findings := component_not_applied.deny with input as fixture_fires_namespace_unwired
	count(findings) == 1
	some f in findings
	f.object == {"apiVersion": "v1", "kind": "Namespace", "namespace": "", "name": "team-b"}
	f.step == "wave b"
	f.msg == "its build (Flux Kustomization flux-system/apps) does not include rendered/namespaces: the revision label never reaches this namespace"
}

test_fires_when_no_kustomization_builds_a_relabelled_namespace if {
	fixture := object.union(fixture_fires_namespace_unwired, {"facts": {"wiring": ns_wiring({"build": null, "included": false}, true)}})
	some f in component_not_applied.deny with input as fixture
	startswith(f.msg, "no kustomization meshplan sees builds this Namespace")
}

test_ok_when_the_namespace_is_wired if {
	count(component_not_applied.deny) == 0 with input as fixture_ok_namespace_wired
}

test_ok_a_namespace_meshplan_renders_needs_no_wiring if {
	# istio-system is relabelled but is not one of the user's Namespace objects.
	findings := component_not_applied.deny with input as fixture_fires_namespace_unwired
	names := {f.object.name | some f in findings}
	names == {"team-b"}
}

test_ok_when_nothing_restarts if {
	count(component_not_applied.deny) == 0 with input as fixture_ok_not_moving
}
