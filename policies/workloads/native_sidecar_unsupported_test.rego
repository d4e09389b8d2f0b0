package meshplan.workloads.native_sidecar_unsupported_test

import data.meshplan.workloads.native_sidecar_unsupported

fixture_fires := {"spec": {"kubernetesVersion": "1.28", "istio": {"config": {"nativeSidecars": "enabled"}}}}

fixture_ok_new_kubernetes := {"spec": {"kubernetesVersion": "1.29", "istio": {"config": {"nativeSidecars": "enabled"}}}}

fixture_ok_auto := {"spec": {"kubernetesVersion": "1.28", "istio": {"config": {"nativeSidecars": "auto"}}}}

test_fires_on_1_28 if {
	findings := native_sidecar_unsupported.deny with input as fixture_fires
	count(findings) == 1
	some f in findings
	contains(f.msg, "1.28")
}

test_ok_new_kubernetes if {
	count(native_sidecar_unsupported.deny) == 0 with input as fixture_ok_new_kubernetes
}

test_ok_auto if {
	count(native_sidecar_unsupported.deny) == 0 with input as fixture_ok_auto
}
