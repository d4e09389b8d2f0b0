# What it does
#   Lists a moving workload whose `terminationGracePeriodSeconds` exceeds the proxy's
#   drain duration while no graceful-exit setting is present.
#
# Why is this bad?
#   On shutdown the proxy drains for its drain duration (5 s by default) and exits, while
#   the application may still be finishing requests for the rest of its grace period:
#   those requests lose their network and fail during the restart.
#
# Example
#   Deployment `shop/cart` with `terminationGracePeriodSeconds: 60` and the default
#   proxy drain of 5 s.
#
# Fix
#   Set `EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"` in the proxy config, or a
#   `terminationDrainDuration` matching the grace period.
package meshplan.workloads.drain_shorter_than_grace

import data.meshplan.lib.util

metadata := {
	"code": "MP313",
	"name": "drain-shorter-than-grace",
	"severity": "info",
	"title": "Proxy drains shorter than the pod's grace period",
	"description": "A moving workload's terminationGracePeriodSeconds exceeds the proxy's drain duration and no graceful-exit setting is present.",
	"remediation": "Set EXIT_ON_ZERO_ACTIVE_CONNECTIONS or a terminationDrainDuration matching the grace period.",
}

info contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	w.moving == true
	w.object.kind != "WorkloadEntry"
	w.terminationGracePeriodSeconds > w.drainDurationSeconds
	w.gracefulExit == false
	msg := sprintf("the proxy drains for %ds but the pod may take %ds to stop, so late requests fail", [w.drainDurationSeconds, w.terminationGracePeriodSeconds])
	hint := "set EXIT_ON_ZERO_ACTIVE_CONNECTIONS=true in proxy.istio.io/config"
}
