package meshplan.workloads.vm_restart_required_test

import data.meshplan.workloads.vm_restart_required

vm := {
	"object": {"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry", "namespace": "legacy", "name": "billing-vm"},
	"injected": true,
	"moving": true,
	"step": "wave rest",
}

fixture_fires := {"facts": {"workloads": [vm]}}

fixture_ok_not_moving := {"facts": {"workloads": [object.union(vm, {"moving": false})]}}

fixture_ok_deployment := {"facts": {"workloads": [object.union(vm, {"object": object.union(vm.object, {"kind": "Deployment"})})]}}

test_fires_for_moving_vm if {
	findings := vm_restart_required.info with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.step == "wave rest"
}

test_ok_not_moving if {
	count(vm_restart_required.info) == 0 with input as fixture_ok_not_moving
}

test_ok_deployment if {
	count(vm_restart_required.info) == 0 with input as fixture_ok_deployment
}
