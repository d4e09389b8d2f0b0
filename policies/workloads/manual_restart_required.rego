# What it does
#   Flags a moving, injected workload that a rolling restart cannot restart: a Job, a
#   CronJob, a bare Pod, or a Pod no controller owns.
#
# Why is this bad?
#   meshplan moves workloads onto the new revision by bumping a pod-template annotation.
#   Pods without a rollout controller ignore that: they keep the old proxy until someone
#   deletes them, and the old revision cannot be removed while they run.
#
# Example
#   Job `shop/migrate` in a namespace of the next wave.
#
# Fix
#   Restart it by hand after the step (delete the pod, or let the next Job run pick up
#   the new revision), or move it into a Deployment.
package meshplan.workloads.manual_restart_required

import data.meshplan.lib.util

metadata := {
	"code": "MP304",
	"name": "manual-restart-required",
	"severity": "warn",
	"title": "Moving workload must be restarted by hand",
	"description": "A moving injected Job, CronJob, bare Pod, or Pod not owned by a controller cannot be rolling-restarted; it keeps the old proxy until restarted by hand.",
	"remediation": "Restart it by hand after the step, or run it under a controller that supports rolling restarts.",
}

warn contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	util.moving_injected(w)
	w.restartable == false
	w.object.kind != "WorkloadEntry"
	object.get(w, "customProxyImage", null) == null
	msg := sprintf("a %s cannot be rolling-restarted; its pods keep the old proxy until restarted by hand", [w.object.kind])
	hint := "delete its pods after this step so they are re-created on the new revision"
}
