package meshplan.workloads.job_legacy_sidecar_test

import data.meshplan.workloads.job_legacy_sidecar

nightly := {
	"object": {"apiVersion": "batch/v1", "kind": "CronJob", "namespace": "batch", "name": "nightly"},
	"injected": true,
	"sidecar": "legacy",
}

fixture_fires := {"facts": {"workloads": [nightly]}}

fixture_ok_native := {"facts": {"workloads": [object.union(nightly, {"sidecar": "native"})]}}

fixture_ok_deployment := {"facts": {"workloads": [object.union(nightly, {"object": object.union(nightly.object, {"kind": "Deployment"})})]}}

test_fires_on_legacy_cronjob if {
	findings := job_legacy_sidecar.warn with input as fixture_fires
	count(findings) == 1
	some f in findings
	f.object.kind == "CronJob"
}

test_ok_native if {
	count(job_legacy_sidecar.warn) == 0 with input as fixture_ok_native
}

test_ok_deployment if {
	count(job_legacy_sidecar.warn) == 0 with input as fixture_ok_deployment
}
