# What it does
#   Flags an injected Job or CronJob that runs a legacy (non-native) sidecar.
#
# Why is this bad?
#   A legacy sidecar is an ordinary container: when the job's main container exits, the
#   proxy keeps running and the Job never completes unless the proxy is told to quit.
#
# Example
#   CronJob `batch/nightly` in an injected namespace on Kubernetes 1.28 without native
#   sidecars.
#
# Fix
#   Enable native sidecars (`spec.istio.config.nativeSidecars`), call the proxy's
#   `/quitquitquit` endpoint at the end of the job, or disable injection for it.
package meshplan.workloads.job_legacy_sidecar

import data.meshplan.lib.util

metadata := {
	"code": "MP307",
	"name": "job-legacy-sidecar",
	"severity": "warn",
	"title": "Job with a legacy sidecar never completes",
	"description": "An injected Job or CronJob runs a legacy (non-native) sidecar; it never completes unless the proxy is told to quit.",
	"remediation": "Enable native sidecars, call /quitquitquit at the end of the job, or disable injection for it.",
}

job_kinds := {"Job", "CronJob"}

warn contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	w.injected == true
	w.object.kind in job_kinds
	w.sidecar == "legacy"
	msg := sprintf("this %s runs a legacy sidecar and never completes unless the proxy is told to quit", [w.object.kind])
	hint := "enable native sidecars, or call the proxy's /quitquitquit when the job ends"
}
