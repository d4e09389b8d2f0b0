# What it does
#   Flags each container of a moving, injected workload that has no readiness probe.
#
# Why is this bad?
#   During the restart onto the new revision, a pod without a readiness probe receives
#   traffic as soon as it starts, before the application (and its new proxy) can serve:
#   requests fail for every restarted replica.
#
# Example
#   Deployment `shop/cart` whose container `app` has no `readinessProbe`.
#
# Fix
#   Add a `readinessProbe` to every container, so a restarted pod only gets traffic
#   when it is ready.
package meshplan.workloads.missing_readiness_probe

import data.meshplan.lib.util

metadata := {
	"code": "MP303",
	"name": "missing-readiness-probe",
	"severity": "warn",
	"title": "Moving workload container without a readiness probe",
	"description": "A moving injected workload has a container with no readiness probe, so restarted pods get traffic before they can serve it.",
	"remediation": "Add a readinessProbe to the container.",
}

warn contains util.workload_finding(w, msg, hint) if {
	some w in input.facts.workloads
	util.moving_injected(w)
	util.serves_traffic(w)
	some c in w.containersWithoutReadiness
	msg := sprintf("container %s has no readiness probe, so restarted pods get traffic before they are ready", [c])
	hint := "add a readinessProbe to the container"
}
